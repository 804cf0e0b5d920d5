"""End to end with the package's Flows: the engine's write calls stay inside Salesforce's governor limits.

The Flows run in the transaction of the engine's write call, so a call's Booking Actions share
100 SOQL queries, 150 DML statements and 10,000 DML rows. The engine sizes its calls by the
estimate in slotforce/sync/limits.py, and halves a call that breaches a limit all the same.
"""

from __future__ import annotations

from collections import Counter

import slotforce.localorg.models as localorg_models
from slotforce.sync.engine import SyncEngine
from slotforce.sync.limits import CREATED_FLOW_PER_SAVE, action_rows
from slotforce.sync.settings import parse_settings

from .factories import booking

ADMIN = "admin@slotforce.example"
GUESTS = [f"guest{i}@crowd.example" for i in range(49)]


def calls(org) -> int:
    return org.stats()["api_calls"]["total"]


def warm_engine(sf, **event_type) -> SyncEngine:
    eng = SyncEngine(parse_settings({"event_types": {"default": event_type}}), sf)
    eng.describes()  # as in a running service: describes are cached
    return eng


def insert(sf, sobject: str, rows: list[dict]) -> list[str]:
    ids = []
    for start in range(0, len(rows), 200):
        results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
            {"attributes": {"type": sobject}, **r} for r in rows[start:start + 200]]})
        ids += [r["id"] for r in results]
    return ids


def crowded(n: int, guests: list[str] = GUESTS, **over):
    return booking(booking_uid=f"crowd-{n}", attendee={"email": f"attendee{n}@bigco.example", "name": f"Attendee {n}"},
                   organizer={"email": ADMIN}, guests=[{"email": g} for g in guests], **over)


def test_the_estimate_matches_what_the_flows_spend(flow_org):
    """3 + invitees DML rows for Created, 3 for a change: measured on the org's last transaction."""
    sf = flow_org.client()
    insert(sf, "Contact", [{"LastName": f"Guest {i}", "Email": e} for i, e in enumerate(GUESTS)])
    insert(sf, "Contact", [{"LastName": "Attendee", "Email": "attendee0@bigco.example"}])
    eng = warm_engine(sf)
    [created] = eng.sync([crowded(0)])
    spent = flow_org.stats()["last_transaction"]
    assert created.status == "processed", (created.error_code, created.error)
    assert spent["dml_rows"] == action_rows(created.plan.action_fields) == 52, spent
    # measured 5 and 4; the engine budgets the worst path, 12 and 9, per save of Booking Actions
    assert spent["soql"] <= CREATED_FLOW_PER_SAVE.soql and spent["dml"] <= CREATED_FLOW_PER_SAVE.dml, spent

    [moved] = eng.sync([crowded(0, action="Rescheduled", start="2024-05-02T10:00:00Z", end="2024-05-02T10:30:00Z",
                                occurred_at="2024-05-01T08:00:00Z")])
    spent = flow_org.stats()["last_transaction"]
    assert moved.status == "processed", (moved.error_code, moved.error)
    assert spent["dml_rows"] == action_rows(moved.plan.action_fields) == 3, spent


def test_200_bookings_with_49_guests_each_all_land_in_two_write_calls(flow_org):
    """10,400 Flow rows in one call would breach 10,000: 153 + 47 bookings (52 rows each) fit 8,000."""
    sf = flow_org.client()
    insert(sf, "Contact", [{"LastName": f"Guest {i}", "Email": e} for i, e in enumerate(GUESTS)])
    eng = warm_engine(sf, create_event_on="lead")
    start = calls(flow_org)

    outcomes = eng.sync([crowded(n) for n in range(200)])

    assert Counter(o.status for o in outcomes) == {"processed": 200}, Counter((o.status, o.error) for o in outcomes)
    # fetch, people (200 new Leads, once for both calls), then two write calls
    assert calls(flow_org) - start == 4
    sized = [o.trace.steps("write_call_sized")[0].detail for o in outcomes]
    assert Counter((d["call"], d["bookings"]) for d in sized) == {(1, 153): 153, (2, 47): 47}
    assert flow_org.stats()["last_transaction"]["dml_rows"] == 47 * 52
    assert sf.query("SELECT COUNT() FROM Event WHERE Booking_Uid__c LIKE 'crowd-%'")["totalSize"] == 200
    assert sf.query("SELECT COUNT() FROM EventRelation WHERE IsInvitee = true")["totalSize"] == 200 * 49
    assert sf.query("SELECT COUNT() FROM Lead WHERE Email LIKE 'attendee%@bigco.example'")["totalSize"] == 200


def test_a_call_that_breaches_a_limit_is_halved_and_a_booking_that_breaches_alone_fails(flow_org, monkeypatch):
    """The org's DML row limit is lowered to 40 (as if its own automation spent the rest): the
    crowded booking (52 rows) breaches even alone; the three small ones (3 rows each) fit."""
    sf = flow_org.client()
    insert(sf, "Contact", [{"LastName": f"Guest {i}", "Email": e} for i, e in enumerate(GUESTS)])
    insert(sf, "Contact", [{"LastName": f"Attendee {n}", "Email": f"attendee{n}@bigco.example"} for n in range(4)])
    eng = warm_engine(sf)
    batch = [crowded(0, guests=[]), crowded(1, guests=[]), crowded(2, guests=[]), crowded(3)]
    monkeypatch.setattr(localorg_models, "DML_ROWS_LIMIT", 40)
    start = calls(flow_org)

    outcomes = eng.sync(batch)

    # fetch; all four in one call (breach); [0, 1] fine; [2, 3] breach; [2] fine; [3] alone breaches
    assert calls(flow_org) - start == 6
    assert [o.status for o in outcomes] == ["processed", "processed", "processed", "failed"]
    failed = outcomes[3]
    assert failed.error_code == "CANNOT_EXECUTE_FLOW_TRIGGER" and "Too many DML rows" in failed.error, failed.error
    assert failed.transient is False  # the same booking would breach again: kept for replay with its reason
    assert [s.step for s in failed.trace if "governor" in s.step or s.step == "booking_action_failed"] == [
        "booking_action_failed", "governor_limit_retry", "booking_action_failed", "governor_limit_retry",
        "booking_action_failed", "governor_limit_alone"]
    assert sf.query("SELECT COUNT() FROM Event WHERE Booking_Uid__c LIKE 'crowd-%'")["totalSize"] == 3
    assert sf.query("SELECT COUNT() FROM Booking_Action__c WHERE Booking_Uid__c = 'crowd-3'")["totalSize"] == 0


def test_another_flow_failure_is_not_retried(flow_org):
    """A Flow failure that is the booking's own (here: no Event to cancel) fails it in its one call, as before."""
    sf = flow_org.client()
    eng = warm_engine(sf, create_event_on="lead")
    start = calls(flow_org)
    [out] = eng.sync([crowded(0, guests=[], action="Canceled", occurred_at="2024-05-01T08:00:00Z")])
    assert calls(flow_org) - start == 1  # a cancel reads nothing: one write call
    assert (out.status, out.error_code) == ("failed", "FLOW_FAILED"), (out.error_code, out.error)
    assert "No Event with Booking_Uid__c crowd-0" in out.error
    assert not out.trace.steps("governor_limit_retry")


def test_the_usual_batch_of_200_still_costs_one_fetch_and_one_write_call(flow_org):
    """Bookings with a handful of guests (7 Flow rows each, 1,400 in all) are not split."""
    sf = flow_org.client()
    insert(sf, "Contact", [{"LastName": f"Guest {i}", "Email": e} for i, e in enumerate(GUESTS[:3])])
    insert(sf, "Contact", [{"LastName": f"Attendee {n}", "Email": f"attendee{n}@bigco.example"} for n in range(200)])
    eng = warm_engine(sf)
    start = calls(flow_org)
    outcomes = eng.sync([crowded(n, guests=GUESTS[:3], co_hosts=[{"email": ADMIN}]) for n in range(200)])
    assert Counter(o.status for o in outcomes) == {"processed": 200}, Counter((o.status, o.error) for o in outcomes)
    assert calls(flow_org) - start == 2
    assert not any(o.trace.steps("write_call_sized") for o in outcomes)
    assert flow_org.stats()["last_transaction"]["dml_rows"] == 200 * 7
