"""What the service learns about its org from the calls it makes anyway: the instance URL and the API use.

Salesforce puts `Sforce-Limit-Info: api-usage=USED/MAX` (the org's daily API requests, a rolling
24 hours) on every REST answer. `OrgWatch.watch(sf)` hooks the client's requests Session, so the
worker's, the owner lookups' and the link sync's calls all keep `api_requests` current without a
call of its own (`GET /limits` per page view would itself be billed). Until the first answered call
the use is unknown (None). The instance URL is the client's (`sf.base_url`), for record links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

import requests
from simple_salesforce import Salesforce

LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


@dataclass(frozen=True)
class DailyApiRequests:
    """The org's DailyApiRequests as the last answer's Sforce-Limit-Info said."""

    used: int
    max: int
    seen_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.max - self.used)

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.max if self.max else 100.0


def limit_info(header: str | None, seen_at: datetime) -> DailyApiRequests | None:
    """`api-usage=25/15000` (maybe followed by `per-app-api-usage=...`) -> DailyApiRequests."""
    found = LIMIT_INFO.search(header or "")
    return DailyApiRequests(int(found[1]), int(found[2]), seen_at) if found else None


class OrgWatch:
    """The instance URL and the daily API requests of the org the service's clients talk to."""

    def __init__(self) -> None:
        self.instance_url: str | None = None
        self.api_requests: DailyApiRequests | None = None

    def watch(self, sf: Salesforce) -> None:
        """Learn `sf`'s instance URL, and the API use from every answer its session gets from now on."""
        base = urlparse(getattr(sf, "base_url", "") or "")
        if base.scheme and base.netloc:
            self.instance_url = f"{base.scheme}://{base.netloc}"
        hooks = sf.session.hooks.setdefault("response", [])
        if self._answered not in hooks:
            hooks.append(self._answered)

    def _answered(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen = limit_info(response.headers.get("Sforce-Limit-Info"), datetime.now(timezone.utc))
        if seen is not None:
            self.api_requests = seen
