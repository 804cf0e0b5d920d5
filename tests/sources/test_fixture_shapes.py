"""Every webhook fixture, parsed the way a delivery is, and what the adapters make of it.

The fixtures' shapes come from the sources' own code and docs (tests/fixtures/webhooks/SOURCES.md,
which must list every fixture). Where an adapter does today what issue 9 says is wrong, the test
states the right behaviour (the strict xfails the gaps were first pinned with are gone: fixed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slotforce.sources import parse
from slotforce.sync import Action

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
ALL = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("*/*.json"))
HOST, MORGAN, DANA = "alex.rivera@acme-demo.com", "morgan.blake@acme-demo.com", "dana.kim@acme-demo.com"
JANE, KENJI = "jane.doe@northwind-traders.com", "kenji.watanabe@example.net"
SAM, PRIYA = "sam.lee@contoso.com", "priya.shah@contoso.com"


def changes(name: str):
    source = name.split("/", 1)[0]
    return parse(source, (FIXTURES / name).read_bytes(), {}, secrets=None, verify=False)


def view(change) -> dict:
    """The fields the issue cares about, as plain values."""
    emails = lambda people: tuple(p.email for p in people)  # noqa: E731
    return {
        "action": change.action.value,
        "uid": change.booking_uid,
        "previous": change.previous_booking_uid,
        "attendee": change.attendee.email if change.attendee else None,
        "guests": change.guest_emails,
        "organizer": change.organizer.email if change.organizer else None,
        "co_hosts": emails(change.co_hosts),
        "slug": change.event_type_slug,
        "ids": change.event_type_ids,
        "type_name": change.event_type_name,
        "scheduling": change.scheduling_type,
        "meeting_url": change.meeting_url,
        "cancel_reason": change.cancel_reason,
        "canceled_by": change.canceled_by,
        "reschedule_requested": change.reschedule_requested,
        "absentees": emails(change.absentees),
        "host_no_show": change.host_no_show,
    }


CAL_VIDEO = "https://meet.cal.example.com/room-"
CALENDLY_ET = "https://api.calendly.com/event_types/"

# fixture -> the changes it yields (each a subset of `view`), or the note when it yields none.
# Fixtures with a known adapter gap list only the uncontested fields here; the xfails below
# carry the rest.
EXPECTED: dict[str, list[dict] | str] = {
    # ---- Cal.com, existing
    "calcom/booking_created_new_lead.json": [dict(action="Created", uid="8Hk2pQ9xLmRt3Vb6", attendee=JANE, guests=(),
                                                  organizer=HOST, slug="discovery-call", ids=("42",))],
    "calcom/booking_created_contact_guests_cohost.json": [dict(
        action="Created", uid="Qm4Zx8cV1bNp7Kw2", attendee=SAM, guests=(PRIYA, "it-team@contoso.com"),
        co_hosts=(MORGAN,), scheduling="collective", slug="product-demo", ids=("43",))],
    "calcom/booking_rescheduled.json": [dict(action="Rescheduled", uid="Tr9Qw3rT5yUi2Lp8", previous="8Hk2pQ9xLmRt3Vb6")],
    "calcom/booking_cancelled.json": [dict(action="Canceled", uid="Tr9Qw3rT5yUi2Lp8", canceled_by="attendee",
                                           cancel_reason="We went with another vendor", reschedule_requested=False)],
    "calcom/booking_requested.json": "Cal.com BOOKING_REQUESTED is not a booking change slotforce syncs; nothing queued",
    "calcom/booking_no_show_set.json": [dict(action="No_Show", uid="Qm4Zx8cV1bNp7Kw2", absentees=(SAM,))],
    "calcom/booking_no_show_cleared.json": [dict(action="No_Show_Cleared", uid="Qm4Zx8cV1bNp7Kw2", absentees=(SAM,))],
    "calcom/meeting_ended.json": [dict(action="Completed", uid="Qm4Zx8cV1bNp7Kw2", organizer=HOST, ids=("43",))],
    # ---- Cal.com, new
    "calcom/meeting_started.json": "Cal.com MEETING_STARTED is not a booking change slotforce syncs; nothing queued",
    "calcom/seat_1_created.json": [dict(action="Created", uid="Se7tKq2Wn4Xb9Pz1", attendee=JANE, guests=(),
                                        slug="onboarding-workshop", ids=("45",))],
    "calcom/seat_2_created.json": [dict(uid="Se7tKq2Wn4Xb9Pz1", slug="onboarding-workshop")],
    "calcom/seat_2_cancelled.json": [dict(uid="Se7tKq2Wn4Xb9Pz1", attendee=KENJI, guests=())],
    "calcom/seat_last_cancelled.json": [dict(action="Canceled", uid="Se7tKq2Wn4Xb9Pz1", attendee=JANE,
                                             canceled_by="attendee", cancel_reason="No longer needed")],
    "calcom/booking_rescheduled_new_link.json": [dict(
        action="Rescheduled", uid="Rs6Ij7Kl8Mn9Op0Q", previous="Rs1Ab2Cd3Ef4Gh5J", attendee=JANE,
        meeting_url=CAL_VIDEO + "Rs6Ij7Kl8Mn9Op0Q")],
    "calcom/booking_cancelled_by_host.json": [dict(action="Canceled", uid="Hc4Rt7Yu1Io3Pa6S", canceled_by="host",
                                                   reschedule_requested=False,
                                                   cancel_reason="Alex is out sick; we will send new times")],
    "calcom/booking_request_reschedule.json": [dict(action="Canceled", uid="Rq8Wx2Ce5Vb7Nm1K", canceled_by="host",
                                                    reschedule_requested=True,
                                                    cancel_reason="Please reschedule. I have a conflict that afternoon")],
    "calcom/booking_request_reschedule_legacy.json": [dict(action="Canceled", uid="Lg3Rr5Tt7Yy9Uu1I", attendee=JANE,
                                                           organizer=HOST)],
    "calcom/round_robin_fixed_hosts.json": [dict(action="Created", uid="Rb5Fx8Hs2Tm4Lq7W", organizer=MORGAN,
                                                 co_hosts=(HOST, DANA), scheduling="round_robin", attendee=JANE,
                                                 slug="sales-intro", ids=("50",))],
    "calcom/collective.json": [dict(action="Created", uid="Cl9Vt3Bn6Mk2Jh8G", organizer=HOST, co_hosts=(MORGAN, DANA),
                                    scheduling="collective", attendee=JANE,
                                    guests=("omar.haddad@northwind-traders.com",))],
    "calcom/no_show_partial.json": [dict(action="No_Show", uid="Qm4Zx8cV1bNp7Kw2", attendee=PRIYA, absentees=(PRIYA,),
                                         host_no_show=False)],
    "calcom/no_show_mixed.json": [dict(action="No_Show", absentees=(PRIYA,)),
                                  dict(action="No_Show_Cleared", absentees=(SAM,))],
    "calcom/no_show_guests_cal_video.json": [dict(action="No_Show", uid="Ns2Gv5Hb8Jn1Km4L", host_no_show=False,
                                                  absentees=(JANE, "omar.haddad@northwind-traders.com"))],
    "calcom/no_show_guests_cal_video_collective.json": [dict(action="No_Show", uid="Cv7Tr1Ew4Qs6Ad9F", host_no_show=False)],
    "calcom/no_show_host_cal_video.json": [dict(action="No_Show", uid="Hn3Ws6Ed9Rf2Tg5Y", host_no_show=True,
                                                organizer=HOST, absentees=())],
    "calcom/recurring_created.json": [dict(action="Created", uid="Rc1Wk3Ly5Pn7Qm9B", slug="weekly-check-in", ids=("46",))],
    "calcom/booking_rejected.json": "Cal.com BOOKING_REJECTED is not a booking change slotforce syncs; nothing queued",
    "calcom/booking_paid.json": "Cal.com BOOKING_PAID is not a booking change slotforce syncs; nothing queued",
    "calcom/non_ascii.json": [dict(action="Created", uid="Na5Ze8Ag2Mu6Lu9D", attendee="zoe.angstrom@example.com",
                                   slug="beratungsgesprach", type_name="Beratungsgespräch", ids=("48",))],
    "calcom/minimal.json": [dict(action="Created", uid="Mn1Mm2Ll3Kk4Jj5H", attendee=JANE, organizer=HOST, guests=(),
                                 co_hosts=(), slug="quick-chat", ids=(), meeting_url=None)],
    # ---- Calendly, existing
    "calendly/invitee_created_new_lead.json": [dict(action="Created", uid="INVLEAD000000001", attendee="tom.baker@fabrikam.io",
                                                    slug="discovery-call",
                                                    ids=(CALENDLY_ET + "ETDISCOVERY00001", "ETDISCOVERY00001"))],
    "calendly/invitee_created_contact_guests_cohost.json": [dict(
        action="Created", uid="INVCONT000000002", attendee=SAM, guests=(PRIYA, "dev.lead@contoso.com"),
        co_hosts=(MORGAN,), scheduling="collective")],
    "calendly/invitee_canceled.json": [dict(action="Canceled", uid="INVLEAD000000003", canceled_by="host",
                                            cancel_reason="Customer asked to pause the evaluation")],
    "calendly/reschedule_1_invitee_canceled.json": "Calendly invitee INVLEAD000000001 was rescheduled",
    "calendly/reschedule_2_invitee_created.json": [dict(action="Rescheduled", uid="INVLEAD000000003",
                                                        previous="INVLEAD000000001")],
    # a group event (invitees_counter.limit > 1) is one booking, the scheduled event; its invitees are seats
    "calendly/group_invitee_1_created.json": [dict(action="Created", uid="EVWORK0000000004",
                                                   attendee="li.wei@adventure-works.com")],
    "calendly/group_invitee_2_created.json": [dict(action="Created", uid="EVWORK0000000004",
                                                   attendee="maria.garcia@adventure-works.com")],
    "calendly/invitee_no_show_created.json": [dict(action="No_Show", uid="INVCONT000000002", attendee=SAM)],
    "calendly/invitee_no_show_created_by_uri.json": [dict(action="No_Show", uid="INVCONT000000002")],
    "calendly/invitee_no_show_deleted.json": [dict(action="No_Show_Cleared", uid="INVCONT000000002", attendee=SAM)],
    "calendly/routing_form_submission_created.json":
        "Calendly routing_form_submission.created is not a booking change slotforce syncs; nothing queued",
    # ---- Calendly, new
    "calendly/invitee_created_rescheduled_new_link.json": [dict(
        action="Rescheduled", uid="INVJANE000000006", previous="INVJANE000000005", attendee=JANE,
        meeting_url="https://zoom.example.com/j/8000006")],
    "calendly/invitee_canceled_rescheduled_new_link.json": "Calendly invitee INVJANE000000005 was rescheduled (new invitee INVJANE000000006)",
    "calendly/invitee_canceled_by_host.json": [dict(action="Canceled", uid="INVJANE000000007", canceled_by="host",
                                                    cancel_reason="Alex is out sick; we will send new times")],
    "calendly/invitee_canceled_by_invitee.json": [dict(action="Canceled", uid="INVJANE000000008", canceled_by="attendee",
                                                       cancel_reason="We went with another vendor")],
    "calendly/group_invitee_3_created.json": [dict(action="Created", uid="EVWORK0000000004", attendee=KENJI,
                                                   slug="onboarding-workshop")],
    "calendly/group_invitee_2_canceled.json": [dict(action="Canceled", uid="EVWORK0000000004",
                                                    attendee="maria.garcia@adventure-works.com", canceled_by="attendee")],
    "calendly/invitee_created_routed_salesforce.json": [dict(action="Created", uid="INVJANE000000009", attendee=JANE)],
    "calendly/invitee_created_non_ascii.json": [dict(action="Created", uid="INVHANA000000010", attendee="hanako.yamada@example.com",
                                                     type_name="初回相談",
                                                     ids=(CALENDLY_ET + "ETSHOKAI00000001", "ETSHOKAI00000001"))],
    "calendly/invitee_created_minimal.json": [dict(action="Created", uid="INVMIN0000000011", attendee="jordan.ellis@example.org",
                                                   guests=(), co_hosts=(), meeting_url=None, slug="quick-chat")],
    # ---- our own JSON
    "api/booking_created.json": [dict(action="Created", uid="acme-bk-20261205-0001")],
    "api/batch_reschedule_and_no_show.json": [dict(action="Rescheduled", uid="acme-bk-20261205-0002",
                                                   previous="acme-bk-20261205-0001"),
                                              dict(action="No_Show", uid="acme-bk-20261205-0002")],
}


def test_every_fixture_has_expectations():
    assert sorted(EXPECTED) == ALL


@pytest.mark.parametrize("name", ALL)
def test_every_fixture_is_cited_in_sources_md(name):
    sources = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    assert f"| `{name}` |" in sources, f"{name} has no row in tests/fixtures/webhooks/SOURCES.md"


@pytest.mark.parametrize("name", ALL)
def test_what_each_fixture_yields(name):
    parsed = changes(name)
    expected = EXPECTED[name]
    if isinstance(expected, str):
        assert list(parsed) == []
        assert parsed.note and parsed.note.startswith(expected)
        return
    assert len(parsed) == len(expected)
    for change, want in zip(parsed, expected):
        got = view(change)
        assert {k: got[k] for k in want} == want


def test_calcom_non_ascii_people_keep_their_names():
    (change,) = changes("calcom/non_ascii.json")
    assert (change.attendee.name, change.attendee.first_name, change.attendee.last_name) == ("Zoë Ångström", "Zoë", "Ångström")
    assert change.answers["unternehmen"] == "Müller & Söhne GmbH"
    assert change.title == "Beratungsgespräch zwischen Alex Rivera und Zoë Ångström"


def test_calendly_non_ascii_people_keep_their_names():
    (change,) = changes("calendly/invitee_created_non_ascii.json")
    assert (change.attendee.name, change.attendee.first_name, change.attendee.last_name) == ("山田 花子", "花子", "山田")
    assert change.answers == {"会社名": "株式会社サンプル"}


def test_minimal_payloads_leave_optional_fields_empty():
    (cal,) = changes("calcom/minimal.json")
    assert (cal.description, cal.location, cal.answers, cal.scheduling_type) == (None, None, {}, None)
    (cly,) = changes("calendly/invitee_created_minimal.json")
    assert (cly.attendee.first_name, cly.attendee.last_name, cly.attendee.phone, cly.location) == (None, None, None, None)


def test_every_seat_shares_the_booking_uid():
    uids = {c.booking_uid for n in ("seat_1_created", "seat_2_created", "seat_2_cancelled", "seat_last_cancelled")
            for c in changes(f"calcom/{n}.json")}
    assert uids == {"Se7tKq2Wn4Xb9Pz1"}


def test_group_invitees_are_seats_of_one_booking():
    found = [c for n in ("group_invitee_1_created", "group_invitee_2_created", "group_invitee_3_created",
                         "group_invitee_2_canceled") for c in changes(f"calendly/{n}.json")]
    assert len({c.action_key for c in found}) == 4  # every invitee keeps a key of its own: none is lost
    assert {c.booking_uid for c in found} == {"EVWORK0000000004"}
    assert [c.seat_id for c in found] == ["INVGRP0000000001", "INVGRP0000000002", "INVGRP0000000003",
                                          "INVGRP0000000002"]  # the one leaving is the one who joined


# ---------------------------------------------------------------- what issue 9 fixed

def test_a_second_seat_is_not_a_duplicate_of_the_first():
    (first,) = changes("calcom/seat_1_created.json")
    (second,) = changes("calcom/seat_2_created.json")
    assert second.action_key != first.action_key


def test_a_second_seat_is_about_the_new_seat():
    (second,) = changes("calcom/seat_2_created.json")
    assert second.attendee.email == KENJI
    assert JANE not in second.guest_emails and KENJI not in second.guest_emails


def test_one_seat_leaving_is_not_the_booking_cancel():
    (one,) = changes("calcom/seat_2_cancelled.json")
    (last,) = changes("calcom/seat_last_cancelled.json")
    assert one.action_key != last.action_key
    assert last.action is Action.CANCELED


def test_legacy_request_reschedule_is_a_host_request():
    (change,) = changes("calcom/booking_request_reschedule_legacy.json")
    assert (change.reschedule_requested, change.canceled_by) == (True, "host")


def test_legacy_request_reschedule_slug_is_not_a_title():
    (change,) = changes("calcom/booking_request_reschedule_legacy.json")
    assert change.event_type_slug in (None, "discovery-call")


def test_cal_video_guest_no_show_names_only_those_marked():
    (change,) = changes("calcom/no_show_guests_cal_video_collective.json")
    assert [p.email for p in change.absentees] == [JANE]


def test_calendly_salesforce_uuid_is_kept():
    (change,) = changes("calendly/invitee_created_routed_salesforce.json")
    assert "00Q5g00000AbCdEEA1" in change.model_dump_json()


def test_calendly_non_ascii_event_type_has_a_slug():
    (change,) = changes("calendly/invitee_created_non_ascii.json")
    assert change.event_type_slug
