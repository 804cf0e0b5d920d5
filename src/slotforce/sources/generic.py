"""Our own JSON form: the canonical booking change itself, one object or a list of them.

For scheduling backends we have no adapter for. The published JSON Schema
(`schemas/booking.schema.json`) is generated from the pydantic model by `sources/schema.py`, and a
test keeps the committed file equal to it. `source` may be left out (it defaults to "api").
Signed with `X-Slotforce-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">`; a
signature older (or newer) than `sources.api.replay_window_seconds` (default 300) is refused, and
several `v1=` may be sent while the secret rotates. The retired `X-Slotforce-Signature-256` (an HMAC
of the body alone) is refused with a 401 naming the new header.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from slotforce.sources.errors import WebhookRejected, bad_payload
from slotforce.sources.payload import ParsedChanges
from slotforce.sources.signatures import DEFAULT_API_REPLAY_WINDOW, verify_api
from slotforce.sync import Action, BookingChange
from slotforce.yamlfile import key_path

SOURCE = "api"
MAX_CHANGES = 200  # one delivery, at most one worker batch


def verify(body: bytes, headers: Mapping[str, str], secret: str | None, *, now: datetime | float | None = None,
           replay_window: timedelta = DEFAULT_API_REPLAY_WINDOW, **_: Any) -> None:
    verify_api(body, headers, secret, now=now, replay_window=replay_window)


def changes(document: Any) -> ParsedChanges:
    many = isinstance(document, list)
    items = document if many else [document]
    if not items:
        return ParsedChanges(note="api delivery is an empty list; nothing queued")
    if len(items) > MAX_CHANGES:
        raise bad_payload(SOURCE, "body", f"{len(items)} changes in one delivery; send at most {MAX_CHANGES}")
    parsed = []
    for index, item in enumerate(items):
        where = f"[{index}]" if many else "body"
        if not isinstance(item, dict):
            raise bad_payload(SOURCE, where, f"expected a JSON object, got {type(item).__name__}")
        if item.get("source") in ("calcom", "calendly"):
            # Their keys would collide with the real adapters' Action_Key__c values.
            reserved = item["source"]
            raise bad_payload(SOURCE, f"{where}.source", f"{reserved!r} is reserved: post to /webhooks/{reserved} instead")
        try:
            change = BookingChange.model_validate({"source": SOURCE, **item})
        except ValidationError as exc:
            raise WebhookRejected(400, f"api webhook: {_describe(exc, '' if where == 'body' else where)}") from None
        if change.action is Action.CREATED:
            # a new booking without these would be stored, then skipped: refuse it at the door instead
            missing = [name for name, value in (("attendee.email", change.attendee and change.attendee.email),
                                                ("start", change.start), ("end", change.end)) if not value]
            if missing:
                prefix = "" if where == "body" else f"{where}."
                raise bad_payload(SOURCE, ", ".join(prefix + m for m in missing), "is missing: a Created needs it")
        parsed.append(change)
    return ParsedChanges(parsed)


def _describe(exc: ValidationError, prefix: str) -> str:
    problems = []
    for error in exc.errors()[:5]:
        path = key_path(((prefix,) if prefix else ()) + tuple(error["loc"]))
        problems.append(f"{path or 'body'}: {error['msg']}")
    more = len(exc.errors()) - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")
