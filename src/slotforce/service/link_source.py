"""The scheduling links slotforce.yml's `links:` block names: its file, or the tool's API.

Used by `slotforce links sync` (without FILE) and by `serve`'s hourly run, so both read the same
source the same way. Raises LinksFileError (the file) or LinkApiError (the API, the token variable).
"""

from __future__ import annotations

from collections.abc import Callable

from slotforce.service.config import OrgConfig, ServiceConfig
from slotforce.sources import PulledLinks, pull_links
from slotforce.sync import load_links


class NoLinkSource(Exception):
    """slotforce.yml has no `links:` block."""


def configured_links(config: ServiceConfig, progress: Callable[[str, int, int | None], None] | None = None,
                     org: OrgConfig | None = None) -> PulledLinks:
    """The links of `org`'s `links:` block (default: the file's only org)."""
    org = org or config.only_org
    if org.links is None:
        where = org.key_path
        raise NoLinkSource(f"{config.path} has no `{where}links:` block: give a FILE, or set {where}links.file or "
                           f"{where}links.from (calendly or calcom) with {where}links.token_env")
    api = org.links.api()
    if api is not None:
        return pull_links(api, progress=progress)
    path = config.links_file(org)
    return PulledLinks(source=str(path), links=load_links(path))
