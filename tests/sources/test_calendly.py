"""Calendly v2 payloads -> BookingChange, from the fixtures in tests/fixtures/webhooks/calendly."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from slotforce.sources import WebhookRejected, parse
from slotforce.sync.booking import Action

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def fixture_body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def changes(name: str):
    return parse("calendly", fixture_body(f"calendly/{name}"), {}, secrets=None, verify=False)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_invitee_created_for_a_new_lead():
    [change] = changes("invitee_created_new_lead.json")
    assert change.action is Action.CREATED
    assert change.source == "calendly"
    assert change.booking_uid == "INVLEAD000000001"  # the invitee, not the scheduled event
    assert change.action_key == "calendly:INVLEAD000000001:Created:0"
    assert change.event_type_slug == "discovery-call" and change.event_type_name == "Discovery Call"
    assert change.title == "Discovery Call"
    assert (change.start, change.end) == (utc("2026-12-01T17:00:00Z"), utc("2026-12-01T17:30:00Z"))
    assert change.organizer.email == "alex.rivera@acme-demo.com" and change.organizer.name == "Alex Rivera"
    a = change.attendee
    assert (a.email, a.name, a.first_name, a.last_name, a.time_zone) == (
        "tom.baker@fabrikam.io", "Tom Baker", "Tom", "Baker", "America/Los_Angeles",
    )
    assert change.answers == {"Company name": "Fabrikam", "What do you want to solve?": "Lead routing"}
    assert (change.utm.source, change.utm.medium, change.utm.campaign) == ("linkedin", "social", "webinar-nov")
    assert change.meeting_url == change.location == "https://zoom.example.com/j/8000001"
    assert change.booking_created_at == utc("2026-11-20T09:20:00Z")
    assert change.occurred_at == utc("2026-11-20T09:20:01Z")
    assert change.guests == () and change.co_hosts == () and change.scheduling_type is None


def test_existing_contact_with_guests_and_a_co_host():
    [change] = changes("invitee_created_contact_guests_cohost.json")
    assert change.attendee.email == "sam.lee@contoso.com" and change.attendee.phone == "+1 312-555-0142"
    assert change.guest_emails == ("priya.shah@contoso.com", "dev.lead@contoso.com")
    assert change.organizer.email == "alex.rivera@acme-demo.com"
    assert [p.email for p in change.co_hosts] == ["morgan.blake@acme-demo.com"]
    assert change.scheduling_type == "collective"
    assert change.meeting_url == "https://meet.example.com/abc-defg-hij"


def test_reschedule_pair_becomes_one_rescheduled_change():
    canceled = changes("reschedule_1_invitee_canceled.json")
    assert canceled == []
    assert "rescheduled" in canceled.note and "INVLEAD000000003" in canceled.note
    [created] = changes("reschedule_2_invitee_created.json")
    assert created.action is Action.RESCHEDULED
    assert (created.booking_uid, created.previous_booking_uid) == ("INVLEAD000000003", "INVLEAD000000001")
    assert created.start == utc("2026-12-04T17:00:00Z")
    assert created.action_key == "calendly:INVLEAD000000003:Rescheduled:0"


def test_invitee_canceled_with_reason():
    [change] = changes("invitee_canceled.json")
    assert change.action is Action.CANCELED
    assert change.booking_uid == "INVLEAD000000003"
    assert change.cancel_reason == "Customer asked to pause the evaluation"


def test_no_show_created_and_deleted():
    [marked] = changes("invitee_no_show_created.json")
    [cleared] = changes("invitee_no_show_deleted.json")
    assert (marked.action, cleared.action) == (Action.NO_SHOW, Action.NO_SHOW_CLEARED)
    assert marked.booking_uid == cleared.booking_uid == "INVCONT000000002"
    assert marked.attendee.email == "sam.lee@contoso.com" and marked.attendee.no_show is True
    assert cleared.attendee.no_show is False
    assert marked.action_key == f"calendly:INVCONT000000002:No_Show:{int(utc('2026-12-02T18:20:00Z').timestamp() * 1000)}"


def test_no_show_resource_shape_names_the_invitee_by_uri():
    [change] = changes("invitee_no_show_created_by_uri.json")
    assert change.action is Action.NO_SHOW and change.booking_uid == "INVCONT000000002"


def test_group_event_invitees_are_seats_of_one_booking():
    [first] = changes("group_invitee_1_created.json")
    [second] = changes("group_invitee_2_created.json")
    assert first.booking_uid == second.booking_uid == "EVWORK0000000004"  # the scheduled event: one meeting
    assert (first.seat_id, second.seat_id) == ("INVGRP0000000001", "INVGRP0000000002")
    assert first.action_key != second.action_key  # each invitee keeps a key of its own: none is lost
    assert {first.attendee.email, second.attendee.email} == {"li.wei@adventure-works.com", "maria.garcia@adventure-works.com"}
    assert second.attendee.name == "María García"
    assert first.location == "Acme HQ, 500 Market St, San Francisco" and first.meeting_url is None
    assert first.event_type_slug == "onboarding-workshop"


def test_events_we_do_not_sync_yield_nothing_with_a_note():
    result = changes("routing_form_submission_created.json")
    assert result == [] and "routing_form_submission.created" in result.note


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d["payload"].__setitem__("uri", "https://api.calendly.com/scheduled_events/E"), "not an invitee URI"),
        (lambda d: d["payload"].pop("scheduled_event"), "payload.scheduled_event: is missing"),
        (lambda d: d.pop("payload"), "payload: is missing"),
        (lambda d: d["payload"]["scheduled_event"].__setitem__("start_time", 5), None),
    ],
)
def test_bad_payloads_are_400(mutate, where):
    doc = json.loads(fixture_body("calendly/invitee_created_new_lead.json"))
    mutate(doc)
    with pytest.raises(WebhookRejected) as info:
        parse("calendly", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    assert info.value.status == 400
    if where:
        assert where in info.value.reason
