"""The generic (api) form: the booking model as JSON, and its committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slotforce.sources import WebhookRejected, parse
from slotforce.sources.schema import SCHEMA_FILE, json_schema, render_schema
from slotforce.sync.booking import Action, BookingChange

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "api"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / SCHEMA_FILE


def test_committed_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "schemas/booking.schema.json is stale: run `python -m slotforce.sources.schema` and commit it"
    )


def test_schema_describes_the_booking_model():
    schema = json_schema()
    change = schema["$defs"]["BookingChange"]
    assert set(change["properties"]) == set(BookingChange.model_fields)
    assert "source" not in change["required"] and {"action", "booking_uid", "occurred_at"} <= set(change["required"])
    assert schema["$defs"]["Action"]["enum"] == [a.value for a in Action]


def test_single_change_maps_one_to_one():
    raw = (FIXTURES / "booking_created.json").read_bytes()
    [change] = parse("api", raw, {}, secrets=None, verify=False)
    assert change == BookingChange.model_validate(json.loads(raw))
    assert change.action_key == "api:acme-bk-20261205-0001:Created:0"
    assert change.router_name == "Pricing page router" and change.form_answers == {"country": "PT"}
    assert change.geo.country == "PT"


def test_a_list_yields_several_changes_and_source_defaults_to_api():
    raw = (FIXTURES / "batch_reschedule_and_no_show.json").read_bytes()
    changes = parse("api", raw, {}, secrets=None, verify=False)
    assert [c.action for c in changes] == [Action.RESCHEDULED, Action.NO_SHOW]
    assert {c.source for c in changes} == {"api"}
    assert changes[0].previous_booking_uid == "acme-bk-20261205-0001"


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"action": "Booked", "booking_uid": "x", "occurred_at": "2026-01-01T00:00:00Z"}, "action"),
        ({"action": "Created", "booking_uid": "x"}, "occurred_at: Field required"),
        ({"action": "Created", "booking_uid": "x", "occurred_at": "2026-01-01T00:00:00"}, "time zone"),
        ({"action": "Created", "booking_uid": "x", "occurred_at": "2026-01-01T00:00:00Z", "colour": "red"}, "colour"),
        ([{"action": "Canceled", "booking_uid": "x", "occurred_at": "2026-01-01T00:00:00Z"}, 5], "[1]: expected a JSON object"),
        ({"source": "calcom", "action": "Created", "booking_uid": "x", "occurred_at": "2026-01-01T00:00:00Z"}, "reserved"),
        ([{"action": "Created", "booking_uid": f"b{i}", "occurred_at": "2026-01-01T00:00:00Z"} for i in range(201)], "at most 200"),
    ],
)
def test_invalid_changes_are_400_naming_the_field(doc, message):
    with pytest.raises(WebhookRejected) as info:
        parse("api", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    assert info.value.status == 400
    assert message in info.value.reason
