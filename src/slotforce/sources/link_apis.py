"""Pull scheduling links from the tool slotforce.yml names (`links: {from: calendly|calcom, token_env}`).

    pulled = pull_links(LinkApi("calendly", token_env="CALENDLY_API_TOKEN"))
    sync_links(sf, pulled.links)

The token is read from the environment variable the config names (never from the file); an unset
variable raises `TokenMissing` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from slotforce.sources.calcom_api import DEFAULT_BASE_URL as CALCOM_API, DEFAULT_BOOKING_SITE, read_calcom_links
from slotforce.sources.calendly_api import DEFAULT_BASE_URL as CALENDLY_API, read_calendly_links
from slotforce.sources.link_http import ApiClient, TokenMissing
from slotforce.sources.pulled import PulledLinks

LINK_APIS = ("calendly", "calcom")


@dataclass(frozen=True)
class LinkApi:
    tool: str  # calendly | calcom
    token_env: str
    base_url: str | None = None  # the API's root; tests point it at a local server
    booking_site: str | None = None  # Cal.com only: where booking pages live (an org domain, self-hosted)

    @property
    def api_url(self) -> str:
        return self.base_url or (CALENDLY_API if self.tool == "calendly" else CALCOM_API)


def pull_links(api: LinkApi, environ: Mapping[str, str] | None = None,
               progress: Callable[[str, int, int | None], None] | None = None) -> PulledLinks:
    """Every link the tool's API lists for the token's organization (or user)."""
    env = os.environ if environ is None else environ
    token = (env.get(api.token_env) or "").strip()
    if not token:
        raise TokenMissing(f"links.token_env: the environment variable {api.token_env} is not set; put the "
                           f"{api.tool} API token in it (see docs/operator.md, 'Links from Calendly or Cal.com')")
    client = ApiClient(api.tool, api.api_url, token, token_env=api.token_env)
    try:
        if api.tool == "calendly":
            return read_calendly_links(client, progress)
        return read_calcom_links(client, api.booking_site or DEFAULT_BOOKING_SITE, progress)
    finally:
        client.session.close()
