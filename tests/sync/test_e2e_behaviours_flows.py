"""Issue 5 behaviours 5 and 7 with the package's Flows (fixture `flow_org`): what an admin finally sees.

The engine writes Booking Actions; the Flows make, move, mark and delete the Events in the same
write call, and the engine reads the Flows' verdict back (Status__c) into the outcome.
"""

from __future__ import annotations

from slotforce.sync.engine import SyncEngine
from slotforce.sync.settings import parse_settings

from .e2e_kit import ADMIN, account, q
from .factories import DroppedFieldsLog, booking


def engine(sf, errors=None, **event_types):
    eng = SyncEngine(parse_settings({"event_types": event_types}), sf, errors=errors)
    eng.describes()
    return eng


def m(field, type_, value, when="every_booking"):
    return {"field": field, "type": type_, "value": value, "when": when}


def test_created_maps_land_on_the_flows_event_and_the_who_record(flow_org):
    sf = flow_org.client()
    eng = engine(sf, default={
        "create_event_on": "lead",
        "write_to_event": [m("Meeting_Type__c", "text", "{topic}"), m("ShowAs", "picklist", "Free"),
                           m("Router_Name__c", "custom", "{form:router}")],
        "write_to_record": [m("Description", "textarea", "{form:notes}"), m("LeadSource", "picklist", "{utm:medium}")]})
    [out] = eng.sync([booking(organizer={"email": ADMIN}, answers={"topic": "Pricing"}, utm={"medium": "Web"},
                              form_answers={"router": "EMEA", "notes": "Wants a demo"}, guests=[{"email": "gus@acme.com"}])])
    assert out.status == "processed", (out.error_code, out.error)
    [ev] = q(sf, "SELECT Id, WhoId, OwnerId, Meeting_Type__c, ShowAs, Router_Name__c, Meeting_Status__c FROM Event")
    assert (ev["Id"], ev["WhoId"], ev["OwnerId"]) == (out.event_id, out.who_id, flow_org.user_id)
    assert (ev["Meeting_Type__c"], ev["ShowAs"], ev["Router_Name__c"], ev["Meeting_Status__c"]) == ("Pricing", "Free", "EMEA", "Scheduled")
    leads = {r["Email"]: r for r in q(sf, "SELECT Email, Description, LeadSource, Meeting_Status__c FROM Lead")}
    assert set(leads) == {"pat@acme.com", "gus@acme.com"}  # the guest too (the Flow invites it)
    who = leads["pat@acme.com"]
    assert (who["Description"], who["LeadSource"], who["Meeting_Status__c"]) == ("Wants a demo", "Web", "Scheduled")
    assert len(q(sf, f"SELECT Id FROM EventRelation WHERE EventId = '{ev['Id']}' AND IsInvitee = true")) == 1


def test_cancel_delete_removes_the_event_and_keep_marks_it_with_the_cancel_maps(flow_org):
    sf = flow_org.client()
    keep = {"mode": "keep", "write_to_event": [m("Description", "textarea", "Canceled: {form:reason}")],
            "write_to_record": [m("Meeting_Date__c", "datetime", "booking_cancel_date")]}
    eng = engine(sf, default={"create_event_on": "lead", "on_cancel": {"mode": "delete"}},
                 **{"keep-type": {"on_cancel": keep}})
    created = eng.sync([booking(organizer={"email": ADMIN}, event_type_slug="delete-type"),
                        booking(booking_uid="bk-2", organizer={"email": ADMIN}, event_type_slug="keep-type")])
    assert [o.status for o in created] == ["processed", "processed"]
    canceled = eng.sync([booking(action="Canceled", organizer={"email": ADMIN}, event_type_slug="delete-type"),
                         booking(booking_uid="bk-2", action="Canceled", organizer={"email": ADMIN}, event_type_slug="keep-type",
                                 form_answers={"reason": "moved on"}, occurred_at="2024-04-30T12:00:00Z")])
    assert [o.status for o in canceled] == ["processed", "processed"], [(o.error_code, o.error) for o in canceled]
    [kept] = q(sf, "SELECT Booking_Uid__c, Canceled__c, Meeting_Status__c, Description FROM Event")
    assert (kept["Booking_Uid__c"], kept["Canceled__c"], kept["Meeting_Status__c"]) == ("bk-2", True, "Canceled")
    assert kept["Description"] == "Canceled: moved on"
    [lead] = q(sf, "SELECT Meeting_Date__c, Meeting_Status__c FROM Lead")
    assert (lead["Meeting_Date__c"], lead["Meeting_Status__c"]) == ("2024-04-30T12:00:00.000+0000", "Canceled")


def test_no_show_writes_the_configured_checkbox_and_clearing_it_writes_false(flow_org):
    sf = flow_org.client()
    eng = engine(sf, default={"create_event_on": "lead", "no_show_field": "IsPrivate"})
    eng.sync([booking(organizer={"email": ADMIN})])
    [marked] = eng.sync([booking(action="No_Show", organizer={"email": ADMIN}, occurred_at="2024-05-01T11:00:00Z")])
    assert marked.status == "processed", (marked.error_code, marked.error)
    [ev] = q(sf, "SELECT IsPrivate, No_Show__c, Meeting_Status__c FROM Event")
    assert (ev["IsPrivate"], ev["No_Show__c"], ev["Meeting_Status__c"]) == (True, True, "No Show")
    [cleared] = eng.sync([booking(action="No_Show_Cleared", organizer={"email": ADMIN}, occurred_at="2024-05-01T12:00:00Z")])
    assert cleared.status == "processed", (cleared.error_code, cleared.error)
    [ev] = q(sf, "SELECT IsPrivate, No_Show__c FROM Event")
    assert (ev["IsPrivate"], ev["No_Show__c"]) == (False, False)


def test_trace_names_the_deciding_rule_and_dropped_fields_are_reported_per_event_type(flow_org):
    sf = flow_org.client()
    account(sf, "Acme", "acme.com")
    dropped = DroppedFieldsLog()
    eng = engine(sf, errors=dropped,
                 default={"create_event_on": "contact_under_account", "create_contact_under_account": True,
                          "write_to_record": [m("Meeting_Status__c", "picklist", "Tentative")]},
                 **{"demo": {"create_event_on": "lead"}})
    outs = eng.sync([booking(organizer={"email": ADMIN}, event_type_slug="intro"),  # default settings: drops a field
                     booking(booking_uid="lost", action="Canceled", organizer={"email": ADMIN}, event_type_slug="demo")])
    assert [o.status for o in outs] == ["processed", "failed"]
    assert outs[1].error_code == "FLOW_FAILED" and outs[1].error  # the Flow found no Event for "lost"

    # the trace travels on the outcome, in the form the outbox keeps for `slotforce trace`
    steps = {s["step"]: s["detail"] for s in outs[0].trace.as_json()}
    assert steps["routing_final_selection"]["matchMethod"] == "exact_website"
    assert steps["routing_final_selection"]["decisiveRule"] == "single_candidate"
    assert steps["booking_action_status"]["status"] == "Processed"
    assert "routing_final_selection (accountId=" in str(outs[0].trace.steps("routing_final_selection")[0])
    # dropped fields go to the error sink (the outbox's last sync error); a failure is the outcome's own
    [report] = dropped
    assert (report.event_type, report.booking_uid) == ("default", "bk-1")
    assert (report.code, report.fields) == ("FIELDS_DROPPED", ("Meeting_Status__c",))


def test_one_batch_creates_reschedules_and_marks_a_booking_in_order_and_a_replay_changes_nothing(flow_org):
    """Behaviour 1: the canonical model's uid chain (previous_booking_uid) and sequences, through the Flows."""
    sf = flow_org.client()
    eng = engine(sf, default={"create_event_on": "lead"})
    batch = [booking(organizer={"email": ADMIN}),
             booking(booking_uid="bk-1b", previous_booking_uid="bk-1", action="Rescheduled", organizer={"email": ADMIN},
                     start="2024-05-03T09:00:00Z", end="2024-05-03T09:45:00Z", occurred_at="2024-04-30T10:00:00Z"),
             booking(booking_uid="bk-1b", action="No_Show", organizer={"email": ADMIN}, occurred_at="2024-05-03T10:00:00Z")]
    outs = eng.sync(batch)
    assert [o.status for o in outs] == ["processed"] * 3, [(o.error_code, o.error) for o in outs]
    [ev] = q(sf, "SELECT Id, Booking_Uid__c, StartDateTime, EndDateTime, No_Show__c, Meeting_Status__c FROM Event")
    assert (ev["Booking_Uid__c"], ev["StartDateTime"], ev["EndDateTime"]) == ("bk-1b", "2024-05-03T09:00:00.000+0000",
                                                                           "2024-05-03T09:45:00.000+0000")
    assert (ev["No_Show__c"], ev["Meeting_Status__c"]) == (True, "No Show")
    keys = [r["Action_Key__c"] for r in q(sf, "SELECT Action_Key__c FROM Booking_Action__c ORDER BY Name")]
    assert keys == ["calcom:bk-1:Created:0", "calcom:bk-1b:Rescheduled:0", f"calcom:bk-1b:No_Show:{batch[2].sequence}"]
    again = eng.sync(batch)
    assert [o.event_id for o in again] == [ev["Id"]] * 3
    assert len(q(sf, "SELECT Id FROM Event")) == 1 and len(q(sf, "SELECT Id FROM Booking_Action__c")) == 3
