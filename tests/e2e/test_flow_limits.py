"""Bulk safety: 200 Created Booking Actions in one call become 200 Events with their invitees,
inside Salesforce's per-transaction limits, and cost no more SOQL/DML than 20 do.

The workload is bench/flows_bench.py's (3 guests and 1 co-host per booking); here it is checked,
not timed.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sfcli, pytest.mark.slow]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "flows_bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("slotforce_flows_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_200_created_actions_in_one_call_make_200_events_with_invitees_inside_the_limits(deployed_org):
    bench = load_bench()
    sf = deployed_org.client()
    people = bench.seed_people(sf, "lim")

    bench.insert_collection(sf, bench.created_actions(people, "lim-small", 0, 20))
    small = deployed_org.stats()["last_transaction"]
    bench.insert_collection(sf, bench.created_actions(people, "lim", 0, 200))
    big = deployed_org.stats()["last_transaction"]

    assert big["soql"] <= 100 and big["dml"] <= 150 and big["dml_rows"] <= 10_000, big
    # bulkified: the Flows' queries and DML statements do not grow with the batch
    assert (big["soql"], big["dml"]) == (small["soql"], small["dml"]), (small, big)
    # 200 Events + 800 EventRelations + 200 Contacts stamped + 200 Booking Actions marked
    assert big["dml_rows"] == 1400, big

    actions = sf.query_all("SELECT Booking_Uid__c, Status__c, Error__c, Event_Id__c, Who_Id__c "
                           "FROM Booking_Action__c WHERE Booking_Uid__c LIKE 'lim-%' "
                           "AND (NOT Booking_Uid__c LIKE 'lim-small-%')")["records"]
    assert len(actions) == 200
    # each booking's guest Lead is invited but cannot be related next to its Contact (Shared Activities:
    # 50 contacts or one lead per event); the Flow says so on the action and still processes it
    assert {a["Status__c"] for a in actions} == {"Processed"}
    assert all(a["Error__c"].startswith("Invited, but not related to the Event") for a in actions), actions[0]

    events = {e["Id"]: e for e in sf.query_all(
        "SELECT Id, Booking_Uid__c, WhoId, Meeting_Status__c FROM Event "
        "WHERE Booking_Uid__c LIKE 'lim-%' AND (NOT Booking_Uid__c LIKE 'lim-small-%')")["records"]}
    assert len(events) == 200
    assert {a["Event_Id__c"] for a in actions} == set(events)
    assert all(events[a["Event_Id__c"]]["WhoId"] == a["Who_Id__c"] for a in actions)

    invitees = defaultdict(list)
    for relation in sf.query_all("SELECT EventId, RelationId FROM EventRelation")["records"]:
        if relation["EventId"] in events:
            invitees[relation["EventId"]].append(relation["RelationId"][:3])
    # each Event: two guest Contacts (003), one guest Lead (00Q), one co-host User (005)
    assert len(invitees) == 200
    assert {tuple(sorted(kinds)) for kinds in invitees.values()} == {("003", "003", "005", "00Q")}

    stamped = sf.query_all("SELECT Meeting_Status__c, Meeting_Type__c FROM Contact "
                           "WHERE Email LIKE 'attendee%.lim@customer.example'")["records"]
    assert len(stamped) == 200
    assert {(c["Meeting_Status__c"], c["Meeting_Type__c"]) for c in stamped} == {("Scheduled", "Discovery Call")}


def changed_actions(action: str, uids: list[str], **fields) -> list[dict]:
    return [{"attributes": {"type": "Booking_Action__c"}, "Action__c": action, "Booking_Uid__c": uid, **fields}
            for uid in uids]


def test_200_changes_in_one_call_stay_inside_the_limits(deployed_org):
    """Reschedule, no-show, then cancel (delete) 200 bookings, one call each: flat SOQL/DML per call."""
    bench = load_bench()
    sf = deployed_org.client()
    people = bench.seed_people(sf, "chg")
    bench.insert_collection(sf, bench.created_actions(people, "chg", 0, 200))
    uids = [f"chg-{n}" for n in range(200)]

    spent = {}
    for action, fields in [("Rescheduled", {"Start__c": "2027-01-05T09:00:00Z", "End__c": "2027-01-05T09:45:00Z"}),
                           ("No_Show", {}), ("Canceled", {"Cancel_Mode__c": "Delete"})]:
        bench.insert_collection(sf, changed_actions(action, uids, **fields))
        spent[action] = tx = deployed_org.stats()["last_transaction"]
        assert tx["soql"] <= 100 and tx["dml"] <= 150 and tx["dml_rows"] <= 10_000, (action, tx)
        # measured 3 and 3: Get Event, then the Events, the Contacts and the actions updated (or deleted)
        # in one statement each; an update by filter is one query plus one DML, as in Salesforce
        assert tx["soql"] <= 5 and tx["dml"] <= 5, (action, tx)

    statuses = sf.query_all("SELECT Action__c, Status__c, COUNT(Id) n FROM Booking_Action__c "
                            "WHERE Booking_Uid__c LIKE 'chg-%' GROUP BY Action__c, Status__c")["records"]
    assert {(s["Action__c"], s["Status__c"], s["n"]) for s in statuses} == {
        ("Created", "Processed", 200), ("Rescheduled", "Processed", 200), ("No_Show", "Processed", 200),
        ("Canceled", "Processed", 200)}, spent
    assert sf.query("SELECT COUNT() FROM Event WHERE Booking_Uid__c LIKE 'chg-%'")["totalSize"] == 0
    mirrored = sf.query_all("SELECT Meeting_Status__c, No_Show__c, Meeting_Date__c FROM Contact "
                            "WHERE Email LIKE 'attendee%.chg@customer.example'")["records"]
    assert {(c["Meeting_Status__c"], c["No_Show__c"], c["Meeting_Date__c"]) for c in mirrored} == {
        ("Canceled", True, "2027-01-05T09:00:00.000+0000")}


def crowded_bookings(sf, run: str, guests: int = 49) -> list[dict]:
    """200 Created actions with `guests` guest Contacts each: 200 * 49 EventRelations + 600 rows > 10,000."""
    emails = [f"crowd{i}.{run}@example.com" for i in range(guests)]
    load_bench().insert_collection(sf, [{"attributes": {"type": "Contact"}, "LastName": f"Crowd {i}", "Email": e}
                                        for i, e in enumerate(emails)])
    return [{"attributes": {"type": "Booking_Action__c"}, "Action__c": "Created", "Booking_Uid__c": f"{run}-{n}",
             "Start__c": "2026-12-01T10:00:00Z", "End__c": "2026-12-01T10:30:00Z",
             "Guest_Emails__c": "\n".join(emails)} for n in range(200)]


def test_a_batch_over_the_dml_row_limit_saves_nothing(deployed_org):
    sf = deployed_org.client()
    results = sf.restful("composite/sobjects", method="POST",
                         json={"allOrNone": True, "records": crowded_bookings(sf, "over")})
    assert not any(r["success"] for r in results)
    assert {r["errors"][0]["statusCode"] for r in results} == {"CANNOT_EXECUTE_FLOW_TRIGGER"}
    assert sf.query("SELECT COUNT() FROM Booking_Action__c WHERE Booking_Uid__c LIKE 'over-%'")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Event WHERE Booking_Uid__c LIKE 'over-%'")["totalSize"] == 0


def test_a_batch_over_the_dml_row_limit_reports_the_real_cause(deployed_org):
    sf = deployed_org.client()
    results = sf.restful("composite/sobjects", method="POST",
                         json={"allOrNone": True, "records": crowded_bookings(sf, "cause")})
    tx = deployed_org.stats()["last_transaction"]
    messages = {r["errors"][0]["message"] for r in results}
    assert len(messages) == 1, sorted(messages)[:3]
    (message,) = messages
    assert "Too many DML rows" in message and "Get_Event" not in message, message
    assert tx["soql"] <= 100, tx
