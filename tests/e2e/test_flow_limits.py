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
    assert {(a["Status__c"], a["Error__c"]) for a in actions} == {("Processed", None)}

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
