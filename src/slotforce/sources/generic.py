"""Our own JSON form: the canonical booking change itself, one object or a list of them.

For scheduling backends we have no adapter for. The published JSON Schema
(`schemas/booking.schema.json`) is generated from the pydantic model by `json_schema()`, and a test
keeps the committed file equal to it. `source` may be left out (it defaults to "api").
Signed with `X-Slotforce-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from slotforce.sources.errors import WebhookRejected, bad_payload
from slotforce.sources.payload import ParsedChanges
from slotforce.sources.signatures import verify_api
from slotforce.sync.booking import BookingChange

SOURCE = "api"
SCHEMA_ID = "https://slotforce.dev/schemas/booking.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parents[3] / "schemas" / "booking.schema.json"
MAX_CHANGES = 200  # one delivery, at most one worker batch


def verify(body: bytes, headers: Mapping[str, str], secret: str | None, **_: Any) -> None:
    verify_api(body, headers, secret)


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
        try:
            parsed.append(BookingChange.model_validate({"source": SOURCE, **item}))
        except ValidationError as exc:
            raise WebhookRejected(400, f"api webhook: {_describe(exc, '' if where == 'body' else where)}") from None
    return ParsedChanges(parsed)


def _describe(exc: ValidationError, prefix: str) -> str:
    problems = []
    for error in exc.errors()[:5]:
        path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        problems.append(f"{path.lstrip('.') or 'body'}: {error['msg']}")
    more = len(exc.errors()) - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the generic form: one BookingChange, or a list of them."""
    change = BookingChange.model_json_schema(mode="validation")
    defs = change.pop("$defs", {})
    change["required"] = [r for r in change.get("required", []) if r != "source"]
    change["properties"]["source"]["default"] = SOURCE
    defs["BookingChange"] = change
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "slotforce booking change",
        "description": (
            "POST /webhooks/api body: one booking change or a list of at most 200. Generated from"
            " slotforce.sync.booking.BookingChange by `python -m slotforce.sources.generic`; do not edit."
        ),
        "oneOf": [
            {"$ref": "#/$defs/BookingChange"},
            {"type": "array", "items": {"$ref": "#/$defs/BookingChange"}, "maxItems": MAX_CHANGES},
        ],
        "$defs": defs,
    }


def render_schema() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
