"""Links into the org: `{instance_url}/{id}`, the classic short link that Lightning redirects to the record."""

from __future__ import annotations

import re
from typing import Any

SALESFORCE_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
# Keys of routing-trace details whose values are record ids (sync/: `userId=owner.id`, `accountId=`...).
TRACE_ID_KEYS = frozenset({"id", "recordId", "userId", "accountId", "who"})


def record_url(record_id: Any, instance_url: str | None) -> str | None:
    """The record's link, or None without an instance URL or for anything not shaped like an id."""
    if not instance_url or not isinstance(record_id, str) or not SALESFORCE_ID.fullmatch(record_id):
        return None
    return f"{instance_url.rstrip('/')}/{record_id}"


def outcome_urls(outcome: dict[str, Any] | None, instance_url: str | None) -> dict[str, str]:
    """{"booking_action_id": url, "event_id": url, "who_id": url} for the ids an outcome holds."""
    found = {key: record_url((outcome or {}).get(key), instance_url)
             for key in ("booking_action_id", "event_id", "who_id")}
    return {key: url for key, url in found.items() if url}
