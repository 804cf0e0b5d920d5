"""Scheduling links from the Calendly API v2: each member's scheduling page and every event type.

    pulled = read_calendly_links(client)      # client: link_http.ApiClient on https://api.calendly.com

Calls (shapes in tests/fixtures/link_apis/calendly/README.md, from Calendly's OpenAPI):
`GET /users/me` -> `resource.current_organization`; `GET /organization_memberships?organization=`
-> `collection[].user` {uri, email, scheduling_url}; `GET /event_types?organization=` ->
`collection[]` {uri, scheduling_url, active, deleted_at, admin_managed, profile {type, owner}}.
Both lists are paged by `pagination.next_page` (null on the last page).

Keys are `calendly:` + the resource URI (stable; names and slugs change). A membership is a Profile
link; an event type is Managed_Event when `admin_managed`, else Event_Type, owned by the member its
User profile names (a Team profile names no person). Deleted or inactive event types stay, with
`active` false, so Salesforce stops showing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from slotforce.sources.link_http import ApiClient, LinkApiError
from slotforce.sources.pulled import PulledLinks, make_link

DEFAULT_BASE_URL = "https://api.calendly.com"
PAGE_SIZE = 100  # the documented maximum of `count`


def pages(client: ApiClient, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Each page's `collection`, following `pagination.next_page` until it is null."""
    answer = client.get(path, params)
    while True:
        yield list(answer.get("collection") or [])
        next_page = (answer.get("pagination") or {}).get("next_page")
        if not next_page:
            return
        answer = client.get(next_page)


def read_calendly_links(client: ApiClient, progress: Callable[[str, int, int | None], None] | None = None
                        ) -> PulledLinks:
    me = (client.get("/users/me") or {}).get("resource") or {}
    organization = me.get("current_organization")
    if not organization:
        raise LinkApiError("calendly API: /users/me has no current_organization; is this a user token?")
    pulled = PulledLinks(source="calendly")
    emails: dict[str, str] = {}  # user URI -> email, for event types' owners
    for page in pages(client, "/organization_memberships", {"organization": organization, "count": PAGE_SIZE}):
        for membership in page:
            user = membership.get("user") or {}
            if user.get("uri") and user.get("email"):
                emails[user["uri"]] = user["email"]
            pulled.add(make_link("calendly", user.get("uri"), user.get("scheduling_url"), "Profile",
                                 user.get("email"), True), f"membership {membership.get('uri')}")
        if progress:
            progress("read", len(pulled.links), None)
    for page in pages(client, "/event_types", {"organization": organization, "count": PAGE_SIZE}):
        for event_type in page:
            profile = event_type.get("profile") or {}
            owner = emails.get(profile.get("owner") or "") if profile.get("type") == "User" else None
            kind = "Managed_Event" if event_type.get("admin_managed") else "Event_Type"
            active = bool(event_type.get("active")) and not event_type.get("deleted_at")
            pulled.add(make_link("calendly", event_type.get("uri"), event_type.get("scheduling_url"), kind,
                                 owner, active), f"event type {event_type.get('uri')}")
        if progress:
            progress("read", len(pulled.links), None)
    pulled.api_calls = client.calls
    return pulled
