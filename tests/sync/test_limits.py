"""The Flows' governor-limit cost per Booking Action, and write calls sized to fit (pure)."""

from __future__ import annotations

from slotforce.sync.engine import SyncEngine
from slotforce.sync.limits import (
    GOVERNOR_LIMITS, WRITE_CALL_BUDGET, FlowCost, action_rows, call_cost, invitees, is_governor_limit, save_cost,
    write_chunks,
)
from slotforce.sync.requests import WriteParts
from slotforce.sync.resolve import NewRecord

GUESTS_49 = "\n".join(f"guest{i}@example.com" for i in range(49))


def created(key: str = "k", guests: str | None = None, co_hosts: str | None = None) -> dict:
    fields = {"Action_Key__c": key, "Action__c": "Created", "Booking_Uid__c": key}
    if guests:
        fields["Guest_Emails__c"] = guests
    if co_hosts:
        fields["Co_Host_Emails__c"] = co_hosts
    return fields


def test_a_created_action_costs_three_rows_plus_one_per_invitee():
    assert action_rows(created()) == 3
    assert action_rows(created(guests="a@x.com\nb@x.com\n\n", co_hosts="host@corp.com")) == 6
    assert action_rows(created(guests=GUESTS_49)) == 52
    assert invitees(created(guests=" \n")) == 0


def test_changes_after_created_cost_three_rows_and_unknown_actions_nothing():
    for action in ("Rescheduled", "Canceled", "No_Show", "No_Show_Cleared", "Completed"):
        assert action_rows({"Action__c": action, "Guest_Emails__c": GUESTS_49}) == 3
    assert action_rows({}) == 0


def test_queries_and_dml_statements_are_per_save_and_per_flow_not_per_record():
    one, many = save_cost([created()]), save_cost([created(str(i)) for i in range(200)])
    assert (one.soql, one.dml) == (many.soql, many.dml) == (12, 9)
    assert many.dml_rows == 600
    mixed = save_cost([created(), {"Action__c": "Canceled"}])
    assert (mixed.soql, mixed.dml, mixed.dml_rows) == (20, 17, 6)
    # every single upsert by URL is a save of its own: the Flows spend their statements again
    assert call_cost([[created("a")], [created("b")]]) == FlowCost(24, 18, 6)
    assert save_cost([]) == FlowCost()


def test_200_bookings_with_49_guests_each_go_in_two_write_calls_under_8000_rows():
    actions = [created(str(i), GUESTS_49) for i in range(200)]
    assert save_cost(actions).dml_rows == 10_400 > GOVERNOR_LIMITS.dml_rows
    chunks = write_chunks(actions, lambda f: f)
    assert [len(c) for c in chunks] == [153, 47]  # 8000 // 52 = 153
    assert all(save_cost(c).within(WRITE_CALL_BUDGET) for c in chunks)
    assert [f["Action_Key__c"] for c in chunks for f in c] == [str(i) for i in range(200)]  # order kept


def test_the_usual_batch_stays_one_write_call():
    actions = [created(str(i), "a@x.com\nb@x.com\nc@x.com", "host@corp.com") for i in range(200)]
    assert [len(c) for c in write_chunks(actions, lambda f: f)] == [200]  # 1,400 rows


def test_a_booking_over_budget_alone_gets_a_call_of_its_own():
    huge = created("huge", "\n".join(f"g{i}@x.com" for i in range(8_100)))
    chunks = write_chunks([created("a"), huge, created("b")], lambda f: f)
    assert [[f["Action_Key__c"] for f in c] for c in chunks] == [["a"], ["huge"], ["b"]]
    assert write_chunks([], lambda f: f) == []


def test_only_governor_limit_messages_count_as_a_breach():
    flow = "We can't save this record because the “Booking Action Created” process failed. Give your Salesforce " \
           "admin these details. Flow Event_Participants, element Create_Relations (recordCreates, line 9): "
    assert is_governor_limit("CANNOT_EXECUTE_FLOW_TRIGGER", flow + "Too many DML rows: 10001")
    assert is_governor_limit("CANNOT_EXECUTE_FLOW_TRIGGER", flow + "Too many SOQL queries: 101")
    assert is_governor_limit("LIMIT_EXCEEDED", "System.LimitException: Too many DML statements: 151")
    assert is_governor_limit("CANNOT_EXECUTE_FLOW_TRIGGER", "Apex CPU time limit exceeded")
    # another Flow fault is the record's own problem: retrying in a smaller call would fail the same way
    assert not is_governor_limit("CANNOT_EXECUTE_FLOW_TRIGGER", flow + "REQUIRED_FIELD_MISSING: [Subject]")
    assert not is_governor_limit("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    assert not is_governor_limit("FLOW_FAILED", "Too many DML rows: 10001")
    assert not is_governor_limit(None, None)


def _parts(n_new_attendees: int, others: int = 0) -> WriteParts:
    people = [NewRecord("Lead", f"p{i}@x.com", {"LastName": "P", "Email": f"p{i}@x.com"}) for i in range(n_new_attendees)]
    actions = [(f"calcom:bk-{i}:Created:0", created(f"bk-{i}"), people[i].key) for i in range(n_new_attendees)]
    actions += [(f"calcom:o-{i}:Created:0", created(f"o-{i}"), None) for i in range(others)]
    return WriteParts(people=people, actions=actions)


def test_new_people_go_first_when_inline_upserts_would_spend_too_many_queries():
    # each inline upsert by URL runs the Created Flow on its own: 12 queries at worst
    assert not SyncEngine._people_first(_parts(1))
    assert not SyncEngine._people_first(_parts(6))        # 72 queries
    assert not SyncEngine._people_first(_parts(5, 50))    # 5 upserts + the collection: 72
    assert SyncEngine._people_first(_parts(7))            # 84 > 80 (the subrequest limit allows 10)
    assert SyncEngine._people_first(_parts(11))           # 26 subrequests > 25
    assert not SyncEngine._people_first(WriteParts(actions=[("k", created(), None)]))
