"""Scheduling links from the Cal.com API v2: users' booking pages, their event types and team event types.

    pulled = read_calcom_links(client, booking_site="https://cal.com")

Calls (shapes in tests/fixtures/link_apis/calcom/README.md, from cal.com's apps/api/v2):
`GET /v2/me` -> `data` {id, username, email, organizationId}; with an organization,
`GET /v2/organizations/{orgId}/users?take=&skip=` -> `data[]` {id, email, username, profile.username}
and `GET /v2/organizations/{orgId}/teams/event-types?take=&skip=` -> `data[]` {id, slug, teamId,
team.slug, schedulingType}; `GET /v2/event-types` (header `cal-api-version: 2024-06-14`) -> the
token user's own `data[]` {id, slug, ownerId, parentEventTypeId, users[].username}. The lists carry
no page metadata: a page shorter than `take` is the last.

The API returns no booking URL, so links are built as Cal.com serves booking pages:
`{site}/{username}`, `{site}/{username}/{slug}`, `{site}/team/{team slug}/{slug}` (`site` is
`booking_site`: https://cal.com, an organization's domain, or a self-hosted one). Keys are
`calcom:user:{id}` and `calcom:event_type:{id}`. A child of a managed event type
(parentEventTypeId) is a Managed_Event; the managed template itself has no booking page and is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from slotforce.sources.link_http import ApiClient, LinkApiError
from slotforce.sources.pulled import PulledLinks, make_link

DEFAULT_BASE_URL = "https://api.cal.com"
DEFAULT_BOOKING_SITE = "https://cal.com"
EVENT_TYPES_VERSION = {"cal-api-version": "2024-06-14"}  # /v2/event-types requires it
PAGE_SIZE = 250  # the organization users endpoint's default `take`


def pages(client: ApiClient, path: str) -> Iterator[list[dict[str, Any]]]:
    """`data` page by page (skip/take) until a page comes back shorter than `take`."""
    skip = 0
    while True:
        page = list((client.get(path, {"take": PAGE_SIZE, "skip": skip}) or {}).get("data") or [])
        yield page
        if len(page) < PAGE_SIZE:
            return
        skip += PAGE_SIZE


def _username(user: dict[str, Any]) -> str | None:
    # in an organization the booking page uses the organization profile's username
    return (user.get("profile") or {}).get("username") or user.get("username")


def read_calcom_links(client: ApiClient, booking_site: str = DEFAULT_BOOKING_SITE,
                      progress: Callable[[str, int, int | None], None] | None = None) -> PulledLinks:
    site = booking_site.rstrip("/")
    me = (client.get("/v2/me") or {}).get("data") or {}
    if not me.get("id"):
        raise LinkApiError("calcom API: /v2/me returned no user; is this an API key of a Cal.com user?")
    org = me.get("organizationId")
    users = [user for page in pages(client, f"/v2/organizations/{org}/users") for user in page] if org else [me]
    by_id = {user.get("id"): user for user in users}
    by_id.setdefault(me["id"], me)
    pulled = PulledLinks(source="calcom")
    for user in users:
        name = _username(user)
        pulled.add(make_link("calcom", f"user:{user.get('id')}", name and f"{site}/{name}", "Profile",
                             user.get("email"), True), f"user {user.get('id')}")
    if progress:
        progress("read", len(pulled.links), None)

    own = (client.get("/v2/event-types", headers=EVENT_TYPES_VERSION, missing_ok=True) or {}).get("data") or []
    for event_type in own:  # the API answers 404 "Event types not found" when there are none
        owner = by_id.get(event_type.get("ownerId")) or {}
        name = _username(owner) or next((u.get("username") for u in event_type.get("users") or []), None)
        kind = "Managed_Event" if event_type.get("parentEventTypeId") else "Event_Type"
        pulled.add(make_link("calcom", f"event_type:{event_type.get('id')}",
                             name and f"{site}/{name}/{event_type.get('slug')}", kind, owner.get("email"), True),
                   f"event type {event_type.get('id')}")
    if progress:
        progress("read", len(pulled.links), None)

    for page in pages(client, f"/v2/organizations/{org}/teams/event-types") if org else ():
        for event_type in page:
            what = f"team event type {event_type.get('id')}"
            if event_type.get("schedulingType") == "managed":
                pulled.skipped.append(f"{what}: a managed event type's template has no booking page "
                                      "(its members' copies are their own event types)")
                continue
            team = (event_type.get("team") or {}).get("slug")
            owner = by_id.get(event_type.get("ownerId")) or {}
            pulled.add(make_link("calcom", f"event_type:{event_type.get('id')}",
                                 team and f"{site}/team/{team}/{event_type.get('slug')}", "Event_Type",
                                 owner.get("email"), True), what)
        if progress:
            progress("read", len(pulled.links), None)
    pulled.api_calls = client.calls
    return pulled
