"""Cal.com payloads -> BookingChange, field by field, from the fixtures in tests/fixtures/webhooks/calcom."""

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
    return parse("calcom", fixture_body(f"calcom/{name}"), {}, secrets=None, verify=False)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_booking_created_for_a_new_lead():
    [change] = changes("booking_created_new_lead.json")
    assert change.action is Action.CREATED
    assert change.source == "calcom"
    assert change.booking_uid == "8Hk2pQ9xLmRt3Vb6"
    assert change.previous_booking_uid is None
    assert change.action_key == "calcom:8Hk2pQ9xLmRt3Vb6:Created:0"
    assert change.event_type_slug == "discovery-call"
    assert change.event_type_name == "Discovery Call"
    assert change.title == "Discovery Call between Alex Rivera and Jane Doe"
    assert change.description == "A 30 minute call to see whether Acme fits your team.\n\nWe are 40 people and looking at Q1."
    assert (change.start, change.end) == (utc("2026-12-01T14:00:00Z"), utc("2026-12-01T14:30:00Z"))
    assert change.organizer.email == "alex.rivera@acme-demo.com" and change.organizer.name == "Alex Rivera"
    assert change.organizer_time_zone == "America/New_York"
    a = change.attendee
    assert (a.email, a.name, a.first_name, a.last_name, a.time_zone) == (
        "jane.doe@northwind-traders.com", "Jane Doe", "Jane", "Doe", "Europe/Berlin",
    )
    assert change.guests == () and change.co_hosts == ()
    assert change.answers == {
        "company": "Northwind Traders",
        "team-size": "11-50",
        "notes": "We are 40 people and looking at Q1.",
    }
    assert (change.utm.source, change.utm.medium, change.utm.campaign, change.utm.term, change.utm.content) == (
        "google", "cpc", "q4-launch", "scheduling crm", None,
    )
    assert change.meeting_url == "https://meet.cal.example.com/room-8Hk2pQ9xLmRt3Vb6"
    assert change.location == change.meeting_url  # "integrations:daily" is an app, not a place
    assert change.booking_created_at == change.occurred_at == utc("2026-11-20T09:15:02.118Z")
    assert change.scheduling_type is None


def test_existing_contact_with_guests_and_a_co_host():
    [change] = changes("booking_created_contact_guests_cohost.json")
    assert change.attendee.email == "sam.lee@contoso.com" and change.attendee.phone == "+1 312 555 0142"
    # The second attendee and the extra guest from the booking form, each once.
    assert change.guest_emails == ("priya.shah@contoso.com", "it-team@contoso.com")
    assert change.scheduling_type == "collective"
    assert [p.email for p in change.co_hosts] == ["morgan.blake@acme-demo.com"]  # the organizer is not a co-host
    assert change.host_emails == ("alex.rivera@acme-demo.com", "morgan.blake@acme-demo.com")
    assert change.answers == {"what-to-see": "Routing, Reporting"}
    assert change.event_type_slug == "product-demo"


def test_rescheduled_links_the_new_uid_to_the_old_one():
    [change] = changes("booking_rescheduled.json")
    assert change.action is Action.RESCHEDULED
    assert (change.booking_uid, change.previous_booking_uid) == ("Tr9Qw3rT5yUi2Lp8", "8Hk2pQ9xLmRt3Vb6")
    assert change.start == utc("2026-12-03T15:00:00Z")
    assert change.booking_created_at is None
    assert change.action_key == "calcom:Tr9Qw3rT5yUi2Lp8:Rescheduled:0"


def test_cancelled_carries_the_reason():
    [change] = changes("booking_cancelled.json")
    assert change.action is Action.CANCELED
    assert change.booking_uid == "Tr9Qw3rT5yUi2Lp8"
    assert change.cancel_reason == "We went with another vendor"
    assert change.occurred_at == utc("2026-11-25T17:05:59.004Z")


def test_no_show_set_and_cleared_get_different_keys():
    [marked] = changes("booking_no_show_set.json")
    [cleared] = changes("booking_no_show_cleared.json")
    assert (marked.action, cleared.action) == (Action.NO_SHOW, Action.NO_SHOW_CLEARED)
    assert marked.booking_uid == cleared.booking_uid == "Qm4Zx8cV1bNp7Kw2"
    assert marked.attendee.email == "sam.lee@contoso.com" and marked.attendee.no_show is True
    assert cleared.attendee.no_show is False
    assert marked.sequence == int(utc("2026-12-02T16:20:31Z").timestamp() * 1000)
    assert marked.action_key != cleared.action_key


def test_a_no_show_names_only_the_attendees_it_changed():
    doc = json.loads(fixture_body("calcom/booking_no_show_set.json"))
    doc["payload"]["attendees"] = [
        {"email": "first@contoso.com", "noShow": False},
        {"email": "second@contoso.com", "noShow": True},
        {"email": "Third@Contoso.com", "noShow": True},
    ]
    marked, cleared = parse("calcom", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    assert marked.action is Action.NO_SHOW and cleared.action is Action.NO_SHOW_CLEARED
    assert [p.email for p in marked.absentees] == ["second@contoso.com", "third@contoso.com"]
    assert [p.email for p in cleared.absentees] == ["first@contoso.com"]
    assert marked.no_show_scope == "second@contoso.com,third@contoso.com" != cleared.no_show_scope
    assert marked.action_key != cleared.action_key and not marked.host_no_show


def test_a_no_show_attendee_without_email_or_flag_is_refused_by_name():
    doc = json.loads(fixture_body("calcom/booking_no_show_set.json"))
    doc["payload"]["attendees"] = [{"email": "first@contoso.com", "noShow": True}, {"email": "x@contoso.com"}]
    with pytest.raises(WebhookRejected, match=r"payload.attendees\[1\].noShow: is missing"):
        parse("calcom", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    doc["payload"]["attendees"] = [{"noShow": True}]
    with pytest.raises(WebhookRejected, match=r"payload.attendees\[0\].email: is missing"):
        parse("calcom", json.dumps(doc).encode(), {}, secrets=None, verify=False)


def test_hosts_cal_video_no_show_is_the_hosts():
    body = {"triggerEvent": "AFTER_HOSTS_CAL_VIDEO_NO_SHOW", "createdAt": "2026-12-02T16:20:31Z",
            "payload": {"bookingUid": "Qm4Zx8cV1bNp7Kw2", "hostEmail": "alex.rivera@acme-demo.com",
                        "startTime": "2026-12-02T16:00:00Z", "endTime": "2026-12-02T16:30:00Z", "attendees": []}}
    [change] = parse("calcom", json.dumps(body).encode(), {}, secrets=None, verify=False)
    assert change.action is Action.NO_SHOW and change.host_no_show and change.absentees == ()
    assert change.no_show_scope == "host" and change.organizer.email == "alex.rivera@acme-demo.com"


def test_meeting_ended_flat_shape_is_completed_at_its_end_time():
    [change] = changes("meeting_ended.json")
    assert change.action is Action.COMPLETED
    assert change.booking_uid == "Qm4Zx8cV1bNp7Kw2"
    assert change.organizer.email == "alex.rivera@acme-demo.com"  # from `user` in the flat shape
    assert change.attendee.email == "sam.lee@contoso.com"
    assert change.guest_emails == ("priya.shah@contoso.com",)
    # No webhook time in the flat shape (its createdAt is the booking's): the meeting's end is used.
    assert change.occurred_at == utc("2026-12-02T16:45:00Z")
    assert change.booking_created_at is None


def test_meeting_ended_in_an_envelope_is_read_too():
    flat = json.loads(fixture_body("calcom/meeting_ended.json"))
    enveloped = {"triggerEvent": "MEETING_ENDED", "createdAt": "2026-12-02T16:45:05Z", "payload": flat}
    [change] = parse("calcom", json.dumps(enveloped).encode(), {}, secrets=None, verify=False)
    assert change.action is Action.COMPLETED and change.occurred_at == utc("2026-12-02T16:45:05Z")


def test_triggers_we_do_not_sync_yield_nothing_with_a_note():
    result = changes("booking_requested.json")
    assert result == [] and "BOOKING_REQUESTED" in result.note


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda d: d["payload"].pop("uid"), "payload.uid: is missing"),
        (lambda d: d.pop("triggerEvent"), "triggerEvent: is missing"),
        (lambda d: d["payload"].__setitem__("startTime", "tomorrow"), "payload.startTime: 'tomorrow' is not an ISO 8601 time"),
        (lambda d: d["payload"].__setitem__("attendees", "jane"), "payload.attendees: expected a list"),
        (lambda d: d.__setitem__("createdAt", None), "createdAt: is missing"),
    ],
)
def test_bad_payloads_are_400_naming_the_field(mutate, where):
    doc = json.loads(fixture_body("calcom/booking_created_new_lead.json"))
    mutate(doc)
    with pytest.raises(WebhookRejected) as info:
        parse("calcom", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    assert info.value.status == 400
    assert where in info.value.reason


def test_end_before_start_is_400():
    doc = json.loads(fixture_body("calcom/booking_created_new_lead.json"))
    doc["payload"]["endTime"] = "2026-12-01T13:00:00Z"
    with pytest.raises(WebhookRejected, match="before start") as info:
        parse("calcom", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    assert info.value.status == 400


def test_after_guests_cal_video_no_show_flat_shape():
    doc = {
        "triggerEvent": "AFTER_GUESTS_CAL_VIDEO_NO_SHOW",
        "title": "Product Demo between Acme and Sam Lee",
        "bookingId": 1002,
        "bookingUid": "Qm4Zx8cV1bNp7Kw2",
        "startTime": "2026-12-02T16:00:00Z",
        "endTime": "2026-12-02T16:45:00Z",
        "attendees": [{"email": "sam.lee@contoso.com", "name": "Sam Lee"}],
        "participants": [],
        "hostEmail": "alex.rivera@acme-demo.com",
        "eventType": {"id": 43, "teamId": 7},
        "message": "Guests did not join",
    }
    [change] = parse("calcom", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    assert change.action is Action.NO_SHOW and change.attendee.email == "sam.lee@contoso.com"
    assert change.occurred_at == utc("2026-12-02T16:45:00Z")


def test_cancel_for_a_requested_reschedule_says_so():
    doc = json.loads(fixture_body("calcom/booking_cancelled.json"))
    doc["payload"].update(cancellationReason=None, requestReschedule=True)
    [change] = parse("calcom", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    assert change.action is Action.CANCELED and change.cancel_reason == "Reschedule requested by the host"
