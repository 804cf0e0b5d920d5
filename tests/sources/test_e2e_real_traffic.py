"""What Cal.com and Calendly really send, told as stories: `slotforce ingest` then `slotforce sync`
against the local org with the package deployed, and what a sales team then sees in Salesforce.

Payloads are built from the fixtures (whose shapes are cited in tests/fixtures/webhooks/SOURCES.md)
with only the fields a story needs changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.testing import write_config

from ..sync.e2e_kit import user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
HOST = "alex.rivera@acme-demo.com"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


class Story:
    """One org, one slotforce.yml, deliveries ingested and synced as an operator would."""

    def __init__(self, tmp_path: Path, org, **event_types) -> None:
        self.tmp_path, self.org, self.sf = tmp_path, org, org.client()
        self.config = write_config(tmp_path, org, event_types=event_types or {"default": {}})
        self.runner = CliRunner()
        self.sent = 0

    def deliver(self, source: str, *bodies: dict) -> str:
        files = []
        for body in bodies:
            self.sent += 1
            path = self.tmp_path / f"delivery-{self.sent}.json"
            path.write_text(json.dumps(body))
            files.append(str(path))
        ingest = self.runner.invoke(main, ["ingest", "--source", source, "--config", str(self.config), *files])
        assert ingest.exit_code == 0, ingest.output
        sync = self.runner.invoke(main, ["sync", "--config", str(self.config)])
        assert sync.exit_code == 0, sync.output
        return ingest.output + sync.output

    def one(self, soql: str) -> dict:
        [row] = self.sf.query(soql)["records"]
        return row

    def person(self, email: str) -> dict:
        rows = [r for sobject in ("Contact", "Lead") for r in self.sf.query(
            f"SELECT Id, Name, FirstName, LastName, No_Show__c, Meeting_Status__c{', Company' if sobject == 'Lead' else ''}"
            f" FROM {sobject} WHERE Email = '{email}'")["records"]]
        assert len(rows) == 1, (email, rows)
        return rows[0]


def calcom_booking(uid: str, attendees: list[dict], **payload) -> dict:
    body = copy.deepcopy(fixture("calcom/booking_created_new_lead.json"))
    body["payload"].update(uid=uid, attendees=attendees, **payload)
    body["payload"]["responses"]["guests"]["value"] = []
    return body


def calcom_no_show(uid: str, at: str, **flags: bool) -> dict:
    return {"triggerEvent": "BOOKING_NO_SHOW_UPDATED", "createdAt": at,
            "payload": {"message": "no_show_updated", "bookingUid": uid, "bookingId": 7,
                        "attendees": [{"email": e, "noShow": v} for e, v in flags.items()]}}


def person(first: str, last: str, email: str) -> dict:
    return {"email": email, "name": f"{first} {last}".strip(), "firstName": first, "lastName": last,
            "timeZone": "Europe/Berlin", "language": {"locale": "en"}}


@pytest.mark.timeout(120)
def test_a_partial_no_show_marks_only_the_people_who_missed_it(org, tmp_path):
    # no_show_field: the engine writes the Event's checkbox too, but only when the Event's Who missed it
    story = Story(tmp_path, org, default={"create_event_on": "lead", "no_show_field": "No_Show__c"})
    story.deliver("calcom", calcom_booking("seat-less-1", [person("Jane", "Doe", "jane.doe@northwind-traders.com"),
                                                           person("Raj", "Patel", "raj@northwind-traders.com")]))
    # the host marks the guest only: his Lead changes, the Event (whose Who is Jane) does not
    story.deliver("calcom", calcom_no_show("seat-less-1", "2026-12-01T14:40:00Z", **{"raj@northwind-traders.com": True}))
    raj, jane = story.person("raj@northwind-traders.com"), story.person("jane.doe@northwind-traders.com")
    assert (raj["No_Show__c"], raj["Meeting_Status__c"]) == (True, "No Show")
    assert (jane["No_Show__c"], jane["Meeting_Status__c"]) == (False, "Scheduled")
    event = story.one("SELECT No_Show__c, Meeting_Status__c, Host_No_Show__c FROM Event")
    assert (event["No_Show__c"], event["Meeting_Status__c"]) == (False, "Scheduled")

    # then Jane is marked and Raj unmarked in one delivery: the Event follows Jane, its Who
    story.deliver("calcom", calcom_no_show("seat-less-1", "2026-12-01T14:45:00Z",
                                           **{"jane.doe@northwind-traders.com": True,
                                              "raj@northwind-traders.com": False}))
    raj, jane = story.person("raj@northwind-traders.com"), story.person("jane.doe@northwind-traders.com")
    assert (jane["No_Show__c"], jane["Meeting_Status__c"]) == (True, "No Show")
    assert (raj["No_Show__c"], raj["Meeting_Status__c"]) == (False, "Completed")
    event = story.one("SELECT No_Show__c, Meeting_Status__c, Host_No_Show__c FROM Event")
    assert (event["No_Show__c"], event["Meeting_Status__c"], event["Host_No_Show__c"]) == (True, "No Show", False)

    # Cal Video saw no host: the Event says so; nobody's record changes
    story.deliver("calcom", {"triggerEvent": "AFTER_HOSTS_CAL_VIDEO_NO_SHOW", "createdAt": "2026-12-01T14:50:00Z",
                             "payload": {"bookingUid": "seat-less-1", "bookingId": 7, "hostEmail": HOST,
                                         "startTime": "2026-12-01T14:00:00Z", "endTime": "2026-12-01T14:30:00Z",
                                         "attendees": [], "title": "Discovery Call"}})
    event = story.one("SELECT No_Show__c, Host_No_Show__c FROM Event")
    assert (event["No_Show__c"], event["Host_No_Show__c"]) == (True, True)
    assert story.person("raj@northwind-traders.com")["Meeting_Status__c"] == "Completed"
    actions = story.sf.query("SELECT Action__c, Status__c, No_Show_Emails__c, Host_No_Show__c FROM Booking_Action__c"
                             " WHERE Action__c != 'Created' ORDER BY Name")["records"]
    assert [(a["Action__c"], a["Status__c"]) for a in actions] == [
        ("No_Show", "Processed"), ("No_Show", "Processed"), ("No_Show_Cleared", "Processed"), ("No_Show", "Processed")]
    assert actions[0]["No_Show_Emails__c"] == "raj@northwind-traders.com" and actions[-1]["Host_No_Show__c"]


@pytest.mark.timeout(120)
def test_who_canceled_and_a_request_to_reschedule_reach_the_event(org, tmp_path):
    story = Story(tmp_path, org, default={"create_event_on": "lead", "on_cancel": {"mode": "keep"}})
    jane = person("Jane", "Doe", "jane.doe@northwind-traders.com")
    story.deliver("calcom", calcom_booking("by-host", [jane]), calcom_booking("by-jane", [jane]))
    cancel = fixture("calcom/booking_cancelled.json")

    def cancelled(uid: str, **extra) -> dict:
        body = copy.deepcopy(cancel)
        body["payload"].update(uid=uid, attendees=[jane], **extra)
        body["payload"].pop("rescheduleUid", None)
        return body

    story.deliver("calcom", cancelled("by-host", cancelledBy=HOST, requestReschedule=True, cancellationReason="Sick"),
                  cancelled("by-jane", cancelledBy="Jane.Doe@northwind-traders.com", cancellationReason="Conflict"))
    events = {e["Booking_Uid__c"]: e for e in story.sf.query(
        "SELECT Booking_Uid__c, Canceled__c, Canceled_By__c, Reschedule_Requested__c FROM Event")["records"]}
    assert (events["by-host"]["Canceled_By__c"], events["by-host"]["Reschedule_Requested__c"]) == ("Host", True)
    assert (events["by-jane"]["Canceled_By__c"], events["by-jane"]["Reschedule_Requested__c"]) == ("Attendee", False)
    assert events["by-host"]["Canceled__c"] and events["by-jane"]["Canceled__c"]
    reasons = {a["Booking_Uid__c"]: a["Cancel_Reason__c"] for a in story.sf.query(
        "SELECT Booking_Uid__c, Cancel_Reason__c FROM Booking_Action__c WHERE Action__c = 'Canceled'")["records"]}
    assert reasons == {"by-host": "Sick", "by-jane": "Conflict"}


@pytest.mark.timeout(120)
def test_a_reschedule_moves_the_event_with_its_new_link_organizer_and_guests(org, tmp_path):
    story = Story(tmp_path, org, default={"create_event_on": "lead"})
    sf = story.sf
    other = user(sf, "sam")
    jane = person("Jane", "Doe", "jane.doe@northwind-traders.com")
    raj = sf.Lead.create({"LastName": "Patel", "Company": "Northwind", "Email": "raj@northwind-traders.com"})["id"]
    first = calcom_booking("old-uid", [jane], videoCallData={"type": "daily_video", "url": "https://meet.cal.example.com/old"})
    story.deliver("calcom", first)
    before = story.one("SELECT Id, Location, Meeting_Url__c, OwnerId FROM Event")
    assert before["Location"] == before["Meeting_Url__c"] == "https://meet.cal.example.com/old"

    moved = fixture("calcom/booking_rescheduled.json")
    moved["payload"].update(rescheduleUid="old-uid", uid="new-uid", title="Discovery Call (moved)",
                            organizer={**moved["payload"]["organizer"], "email": "sam@slotforce.example"},
                            attendees=[jane, person("Raj", "Patel", "raj@northwind-traders.com")])
    story.deliver("calcom", moved)
    after = story.one("SELECT Id, Booking_Uid__c, StartDateTime, Location, Meeting_Url__c, Subject, OwnerId,"
                      " Meeting_Status__c FROM Event")
    assert after["Id"] == before["Id"] and after["Booking_Uid__c"] == "new-uid"
    assert after["Location"] == after["Meeting_Url__c"] == "https://meet.cal.example.com/room-Tr9Qw3rT5yUi2Lp8"
    assert (after["Subject"], after["Meeting_Status__c"]) == ("Discovery Call (moved)", "Rescheduled")
    assert after["OwnerId"] == other and after["StartDateTime"].startswith("2026-12-03T15:00:00")
    related = {r["RelationId"] for r in sf.query(f"SELECT RelationId FROM EventRelation WHERE EventId = '{after['Id']}'")["records"]}
    assert raj in related  # the guest the reschedule added is invited


def seat_booking(uid: str, seats: list[dict], seat_id: str | None) -> dict:
    body = calcom_booking(uid, seats, seatsPerTimeSlot=10, seatsShowAttendees=True)
    if seat_id:
        body["payload"]["attendeeSeatId"] = seat_id
    return body


def seat_cancel(uid: str, leaving: dict) -> dict:
    body = copy.deepcopy(fixture("calcom/booking_cancelled.json"))
    body["payload"].update(uid=uid, attendees=[leaving], seatsPerTimeSlot=10, status="CANCELLED")
    body["payload"].pop("rescheduleUid", None)
    return body


@pytest.mark.timeout(120)
def test_seats_join_and_leave_one_event_and_the_last_one_cancels_it(org, tmp_path):
    story = Story(tmp_path, org, default={"create_event_on": "lead", "on_cancel": {"mode": "keep"}})
    jane, raj, zoe = (person("Jane", "Doe", "jane.doe@northwind-traders.com"),
                      person("Raj", "Patel", "raj@northwind-traders.com"), person("Zoë", "Ångström", "zoe@fabrikam.example"))
    story.deliver("calcom", seat_booking("workshop-1", [jane], "seat-jane"))
    story.deliver("calcom", seat_booking("workshop-1", [jane, raj], "seat-raj"))
    # a redelivery of Raj's seat and a third seat arrive together
    story.deliver("calcom", seat_booking("workshop-1", [jane, raj], "seat-raj"),
                  seat_booking("workshop-1", [jane, raj, zoe], "seat-zoe"))
    event = story.one("SELECT Id, WhoId, Meeting_Status__c FROM Event")
    people = {p: story.person(e)["Id"] for p, e in (("jane", jane["email"]), ("raj", raj["email"]), ("zoe", zoe["email"]))}
    assert event["WhoId"] == people["jane"]

    def on_event() -> set[str]:
        rows = story.sf.query(f"SELECT RelationId FROM EventRelation WHERE EventId = '{event['Id']}'")["records"]
        return {r["RelationId"] for r in rows} | {story.one("SELECT WhoId FROM Event")["WhoId"]} - {None}

    assert on_event() == set(people.values())
    assert len(story.sf.query("SELECT Id FROM Booking_Action__c WHERE Action__c = 'Created'")["records"]) == 3

    # Raj leaves: only he goes, only his Lead says Canceled; the meeting stays on
    story.deliver("calcom", seat_cancel("workshop-1", raj))
    assert on_event() == {people["jane"], people["zoe"]}
    assert story.person(raj["email"])["Meeting_Status__c"] == "Canceled"
    assert story.person(jane["email"])["Meeting_Status__c"] == "Scheduled"
    assert story.one("SELECT Meeting_Status__c, Canceled__c FROM Event") == {
        "attributes": story.one("SELECT Meeting_Status__c, Canceled__c FROM Event")["attributes"],
        "Meeting_Status__c": "Scheduled", "Canceled__c": False}

    # Jane (the Who) leaves: Zoë becomes the Who; then Zoë, the last seat, cancels the meeting
    story.deliver("calcom", seat_cancel("workshop-1", jane))
    assert story.one("SELECT WhoId FROM Event")["WhoId"] == people["zoe"]
    story.deliver("calcom", seat_cancel("workshop-1", zoe))
    final = story.one("SELECT Meeting_Status__c, Canceled__c FROM Event")
    assert (final["Meeting_Status__c"], final["Canceled__c"]) == ("Canceled", True)
    statuses = [a["Status__c"] for a in story.sf.query("SELECT Status__c FROM Booking_Action__c")["records"]]
    assert statuses == ["Processed"] * 6


@pytest.mark.timeout(120)
def test_a_booking_that_names_its_salesforce_record_lands_on_it(org, tmp_path):
    story = Story(tmp_path, org, default={"create_event_on": "contact_under_account",
                                          "create_contact_under_account": True})
    sf = story.sf
    account = sf.Account.create({"Name": "Fabrikam", "Website": "fabrikam.io"})["id"]
    routed = sf.Contact.create({"LastName": "Baker", "Email": "t.baker@old-address.example", "AccountId": account})["id"]
    gone = sf.Contact.create({"LastName": "Gone", "Email": "gone@fabrikam.io"})["id"]
    sf.Contact.delete(gone)

    # Calendly Routing for Salesforce: the booking came from Tom's Contact, whose email is an old one
    named = fixture("calendly/invitee_created_new_lead.json")
    named["payload"]["tracking"]["salesforce_uuid"] = routed
    stale = copy.deepcopy(named)
    stale["payload"]["uri"] = named["payload"]["uri"].rsplit("/", 1)[0] + "/INVITEE-STALE"
    stale["payload"]["tracking"]["salesforce_uuid"] = gone  # deleted since: matched by email instead
    stale["payload"]["email"] = "anna@fabrikam.io"
    story.deliver("calendly", named, stale)
    whos = {e["WhoId"] for e in sf.query("SELECT WhoId FROM Event")["records"]}
    anna = story.person("anna@fabrikam.io")
    assert whos == {routed, anna["Id"]}
    assert not sf.query("SELECT Id FROM Lead")["records"]  # nobody was created for the routed booking

    # our own format: a Contact and the Opportunity the meeting is about
    opportunity = sf.Opportunity.create({"Name": "Fabrikam renewal", "StageName": "Prospecting",
                                         "CloseDate": "2026-12-31", "AccountId": account})["id"]
    api = fixture("api/booking_created.json")
    api.update(booking_uid="api-named-1", who_id=routed[:15], what_id=opportunity)
    story.deliver("api", api)
    event = story.one("SELECT WhoId, WhatId FROM Event WHERE Booking_Uid__c = 'api-named-1'")
    assert (event["WhoId"], event["WhatId"]) == (routed, opportunity)

    bad = fixture("api/booking_created.json")
    bad.update(booking_uid="api-named-2", who_id="not-an-id")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = story.runner.invoke(main, ["ingest", "--source", "api", "--config", str(story.config), str(path)])
    assert result.exit_code == 1 and "who_id" in result.output and "rejected" in result.output


def calendly_group(event_uuid: str, invitee: str, email: str, name: str, *, kind: str = "invitee.created",
                   **payload) -> dict:
    body = copy.deepcopy(fixture("calendly/group_invitee_1_created.json"))
    body["event"] = kind
    p = body["payload"]
    p.update(uri=f"https://api.calendly.com/scheduled_events/{event_uuid}/invitees/{invitee}", email=email, name=name,
             first_name=None, last_name=None, **payload)
    p["scheduled_event"]["uri"] = f"https://api.calendly.com/scheduled_events/{event_uuid}"
    if kind == "invitee.canceled":
        p["status"] = "canceled"
        p["cancellation"] = {"canceled_by": name, "reason": "Cannot make it", "canceler_type": "invitee"}
    return body


@pytest.mark.timeout(120)
def test_a_calendly_group_event_is_one_event_its_invitees_join_and_leave(org, tmp_path):
    story = Story(tmp_path, org, default={"create_event_on": "lead", "on_cancel": {"mode": "keep"}})
    li = calendly_group("EVGROUP1", "INV-LI", "li.wei@adventure-works.com", "Li Wei")
    maria = calendly_group("EVGROUP1", "INV-MARIA", "maria.garcia@adventure-works.com", "María García")
    story.deliver("calendly", li, maria)
    event = story.one("SELECT Id, WhoId, Booking_Uid__c FROM Event")  # the host sees the meeting once
    ids = {e: story.person(e)["Id"] for e in ("li.wei@adventure-works.com", "maria.garcia@adventure-works.com")}
    related = {r["RelationId"] for r in story.sf.query(
        f"SELECT RelationId FROM EventRelation WHERE EventId = '{event['Id']}'")["records"]} | {event["WhoId"]}
    assert event["Booking_Uid__c"] == "EVGROUP1" and set(ids.values()) <= related

    # María moves to another session of the workshop: she leaves this one and joins the other
    leaves = calendly_group("EVGROUP1", "INV-MARIA", "maria.garcia@adventure-works.com", "María García",
                            kind="invitee.canceled", rescheduled=True,
                            new_invitee="https://api.calendly.com/scheduled_events/EVGROUP2/invitees/INV-MARIA2")
    joins = calendly_group("EVGROUP2", "INV-MARIA2", "maria.garcia@adventure-works.com", "María García",
                           old_invitee="https://api.calendly.com/scheduled_events/EVGROUP1/invitees/INV-MARIA")
    story.deliver("calendly", leaves, joins)
    events = {e["Booking_Uid__c"]: e for e in story.sf.query(
        "SELECT Id, WhoId, Canceled__c, Booking_Uid__c FROM Event")["records"]}
    assert set(events) == {"EVGROUP1", "EVGROUP2"}
    assert events["EVGROUP1"]["WhoId"] == ids["li.wei@adventure-works.com"] and not events["EVGROUP1"]["Canceled__c"]
    assert events["EVGROUP2"]["WhoId"] == ids["maria.garcia@adventure-works.com"]
    on_first = {r["RelationId"] for r in story.sf.query(
        f"SELECT RelationId FROM EventRelation WHERE EventId = '{events['EVGROUP1']['Id']}'")["records"]}
    assert ids["maria.garcia@adventure-works.com"] not in on_first

    # Li, the last invitee of the first session, cancels: that session is canceled
    story.deliver("calendly", calendly_group("EVGROUP1", "INV-LI", "li.wei@adventure-works.com", "Li Wei",
                                             kind="invitee.canceled"))
    first = story.one("SELECT Canceled__c, Canceled_By__c FROM Event WHERE Booking_Uid__c = 'EVGROUP1'")
    assert (first["Canceled__c"], first["Canceled_By__c"]) == (True, "Attendee")


@pytest.mark.timeout(120)
def test_settings_follow_the_tools_ids_and_sync_false_writes_nothing(org, tmp_path):
    story = Story(tmp_path, org, **{
        "default": {"create_event_on": "lead"},
        # a non-Latin Calendly name, matched by its event type's UUID (survives a rename)
        "first-consultation": {"match": ["ETSHOKAI00000001"], "create_event_on": "lead",
                               "write_to_record": [{"field": "Description", "type": "textarea", "value": "first consultation"}]},
        "internal": {"match": ["sales-intro"], "sync": False}})
    story.deliver("calendly", fixture("calendly/invitee_created_non_ascii.json"))
    story.deliver("calcom", fixture("calcom/round_robin_fixed_hosts.json"))
    assert story.person("hanako.yamada@example.com")["Id"]
    lead = story.sf.query("SELECT Description, Meeting_Type__c FROM Lead WHERE Email = 'hanako.yamada@example.com'")
    assert [(r["Description"], r["Meeting_Type__c"]) for r in lead["records"]] == [("first consultation", "初回相談")]
    # the internal event type is kept and shown as skipped; nothing reached Salesforce for it
    assert not story.sf.query("SELECT Id FROM Booking_Action__c WHERE Booking_Uid__c = 'Rb5Fx8Hs2Tm4Lq7W'")["records"]
    status = story.runner.invoke(main, ["trace", "--json", "--config", str(story.config), "Rb5Fx8Hs2Tm4Lq7W"])
    [item] = json.loads(status.output)["items"]
    assert item["state"] == "done" and item["outcome"] == {
        "status": "skipped", "reason": "sync is off for event type internal (sync: false)"}


@pytest.mark.timeout(120)
def test_people_are_named_and_placed_as_bookers_expect(org, tmp_path):
    story = Story(tmp_path, org, default={"create_event_on": "lead"})
    sf = story.sf
    for first, email in (("Morgan", "morgan.blake@acme-demo.com"), ("Dana", "dana.kim@acme-demo.com")):
        user(sf, first.lower())
        sf.User.update(sf.query(f"SELECT Id FROM User WHERE Email = '{first.lower()}@slotforce.example'")["records"][0]["Id"],
                       {"Email": email})
    rr = fixture("calcom/round_robin_fixed_hosts.json")
    rr["payload"]["attendees"] = [person("Madonna", "", "madonna@gmail.com")]
    rr["payload"]["responses"]["company"] = {"label": "Company", "value": "Ray of Light Ltd"}
    story.deliver("calcom", rr)
    lead = sf.query("SELECT FirstName, LastName, Company FROM Lead WHERE Email = 'madonna@gmail.com'")["records"][0]
    assert (lead["FirstName"], lead["LastName"], lead["Company"]) == (None, "Madonna", "Ray of Light Ltd")
    event = story.one("SELECT Id FROM Event")
    invited = {r["RelationId"] for r in sf.query(
        f"SELECT RelationId FROM EventRelation WHERE EventId = '{event['Id']}' AND IsInvitee = true")["records"]}
    fixed_hosts = {u["Id"] for u in sf.query("SELECT Id FROM User WHERE Email IN "
                                             "('morgan.blake@acme-demo.com', 'dana.kim@acme-demo.com')")["records"]}
    owner = story.one("SELECT OwnerId FROM Event")["OwnerId"]
    assert len(fixed_hosts) == 2 and owner in fixed_hosts  # Morgan, the organizer, owns it
    assert fixed_hosts - {owner} <= invited  # Dana, a fixed host, attends
