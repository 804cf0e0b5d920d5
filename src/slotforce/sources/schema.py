"""The published JSON Schema of the generic (api) webhook form, generated from the booking model.

Regenerate after changing slotforce.sync.booking: `python -m slotforce.sources.schema`
(tests/sources/test_generic.py fails while the committed file is out of date).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slotforce.sources.generic import MAX_CHANGES, SOURCE
from slotforce.sync import BookingChange

SCHEMA_ID = "https://slotforce.dev/schemas/booking.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parents[3] / "schemas" / "booking.schema.json"


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
            " slotforce.sync.booking.BookingChange by `python -m slotforce.sources.schema`; do not edit."
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
