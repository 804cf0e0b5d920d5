"""The canonical booking model: keys stable across duplicate deliveries, clean inputs."""

import pytest
from pydantic import ValidationError

from slotforce.sync.booking import Action, BookingChange

from .factories import booking


def test_created_key_is_stable_across_redeliveries():
    first = booking(occurred_at="2024-04-30T09:00:00Z")
    again = booking(occurred_at="2024-04-30T09:05:00Z")  # the same booking delivered later
    assert first.action_key == again.action_key == "calcom:bk-1:Created:0"


def test_no_show_key_uses_the_webhook_time_so_a_second_marking_is_new():
    a = booking(action="No_Show", occurred_at="2024-05-01T11:00:00Z")
    b = booking(action="No_Show", occurred_at="2024-05-01T11:00:00Z")
    c = booking(action="No_Show", occurred_at="2024-05-02T11:00:00Z")
    assert a.action_key == b.action_key
    assert a.action_key != c.action_key
    assert a.action_key.startswith("calcom:bk-1:No_Show:")


def test_explicit_sequence_is_kept():
    assert booking(action="Rescheduled", sequence=3).action_key == "calcom:bk-1:Rescheduled:3"


def test_emails_are_trimmed_and_lowercased():
    b = booking(attendee={"email": "  Pat.Jones@ACME.com "}, guests=[{"email": "G@X.io"}])
    assert b.attendee.email == "pat.jones@acme.com"
    assert b.guest_emails == ("g@x.io",)


def test_times_must_carry_an_offset_and_end_up_utc():
    b = booking(start="2024-05-01T12:00:00+02:00", end="2024-05-01T12:30:00+02:00")
    assert b.start.isoformat() == "2024-05-01T10:00:00+00:00"
    with pytest.raises(ValidationError, match="time zone offset"):
        booking(start="2024-05-01T12:00:00")


def test_end_before_start_is_refused():
    with pytest.raises(ValidationError, match="before start"):
        booking(start="2024-05-01T12:00:00Z", end="2024-05-01T11:00:00Z")


def test_answers_of_any_shape_become_text():
    b = booking(answers={"guests": ["a@x.com", "b@x.com"], "location": {"value": "Zoom", "optionValue": ""},
                         "size": 12, "agree": True, "empty": None})
    assert b.answers == {"guests": "a@x.com, b@x.com", "location": "Zoom", "size": "12", "agree": "true", "empty": ""}


def test_unknown_fields_and_bad_sources_are_refused():
    with pytest.raises(ValidationError):
        booking(colour="blue")
    with pytest.raises(ValidationError):
        booking(source="Cal.com!")


def test_hosts_are_organizer_then_co_hosts():
    b = booking(co_hosts=[{"email": "co@corp.com"}])
    assert b.host_emails == ("host@corp.com", "co@corp.com")
    assert Action("No_Show_Cleared") is Action.NO_SHOW_CLEARED
    assert isinstance(b, BookingChange)


def test_a_named_record_must_be_an_id_of_the_right_object():
    from pydantic import ValidationError

    from slotforce.sync.booking import BookingChange

    base = {"source": "api", "action": "Created", "booking_uid": "b", "occurred_at": "2026-01-01T00:00:00Z"}
    ok = BookingChange.model_validate({**base, "who_id": "003000000000001AAA", "what_id": "006000000000001"})
    assert (ok.who_id, ok.what_id) == ("003000000000001AAA", "006000000000001")
    for field, value, message in (("who_id", "not-an-id", "should match pattern"),
                                  ("who_id", "001000000000001AAA", "not the id of a Lead (00Q...) or Contact (003...)"),
                                  ("what_id", "00Q000000000001AAA", "Account (001...) or Opportunity (006...)")):
        try:
            BookingChange.model_validate({**base, field: value})
        except ValidationError as err:
            assert err.errors()[0]["loc"] == (field,) and message in str(err)
        else:
            raise AssertionError(f"{field}={value!r} was accepted")
