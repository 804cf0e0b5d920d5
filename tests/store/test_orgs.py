"""Many orgs in one outbox, on every backend: a booking is an (org, uid); leasing, holds, errors,
traces and counts take an org."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from slotforce.store import BUDGET_SPENT, DEFAULT_ORG, Delivery, ItemResult, NewChange

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(uid: str, action: str) -> NewChange:
    return NewChange(dedupe_key=f"api:{uid}:{action}:0", booking_uid=uid, action=action,
                     change={"booking_uid": uid, "action": action},
                     requires_uid=None if action == "Created" else uid, establishes=action == "Created",
                     event_type="intro")


def put(outbox, org: str, *changes: NewChange, when: float = 0):
    body = repr([c.dedupe_key for c in changes]).encode()  # the same body in each org
    return outbox.enqueue(Delivery("api", body, org=org), list(changes), now=at(when))


@pytest.fixture
def outbox(open_outbox):
    store = open_outbox()
    yield store
    store.close()


def test_the_same_delivery_and_booking_in_two_orgs_are_two_of_each(outbox):
    a = put(outbox, "acme", change("b-1", "Created"))
    b = put(outbox, "globex", change("b-1", "Created"))
    again = put(outbox, "acme", change("b-1", "Created"))
    assert a.delivery_id != b.delivery_id and a.item_ids != b.item_ids
    assert again.repeated_delivery and again.item_ids == a.item_ids  # dedupe within the org only
    assert {i.org for i in outbox.items(limit=10)} == {"acme", "globex"}
    assert outbox.counts(org="acme")["pending"] == outbox.counts(org="globex")["pending"] == 1
    assert outbox.counts(org="acme")["deliveries"] == 1 and outbox.counts()["deliveries"] == 2
    assert outbox.counts(org=DEFAULT_ORG)["pending"] == 0


def test_leasing_one_org_hands_out_only_its_items_and_due_orgs_says_who_has_work(outbox):
    put(outbox, "acme", change("a-1", "Created"))
    put(outbox, "acme", change("a-2", "Created"))
    put(outbox, "globex", change("g-1", "Created"))
    assert outbox.due_orgs(now=at(1)) == {"acme": 2, "globex": 1}
    lease = outbox.lease("w", org="globex", now=at(1))
    assert [(i.org, i.booking_uid) for i in lease.items] == [("globex", "g-1")]
    assert outbox.due_orgs(now=at(1)) == {"acme": 2}
    outbox.finish(lease.id, [ItemResult.done(lease.items[0].id)], now=at(2))
    assert outbox.due_orgs(now=at(2)) == {"acme": 2}


def test_order_and_create_waits_never_look_across_orgs(outbox):
    put(outbox, "acme", change("b-1", "Created"))
    put(outbox, "globex", change("b-1", "Canceled"), when=1)
    # acme's create of b-1 is pending: globex's cancel of its own b-1 is not behind it, but waits for
    # globex's create, which acme's being done does not stand in for
    lease = outbox.lease("w", now=at(2))
    assert [(i.org, i.action) for i in lease.items] == [("acme", "Created")]
    outbox.finish(lease.id, [ItemResult.done(lease.items[0].id)], now=at(3))
    assert not outbox.lease("w", now=at(4)).items
    put(outbox, "globex", change("b-1", "Created"), when=5)
    first = outbox.lease("w", now=at(6))
    assert [(i.org, i.action) for i in first.items] == [("globex", "Created")]
    outbox.finish(first.id, [ItemResult.done(first.items[0].id)], now=at(7))
    second = outbox.lease("w", now=at(8))
    assert [(i.org, i.action) for i in second.items] == [("globex", "Canceled")]


def test_a_budget_hold_errors_and_traces_are_one_orgs(outbox):
    put(outbox, "acme", change("a-1", "Created"))
    put(outbox, "globex", change("g-1", "Created"))
    held = outbox.hold_queue(at(600), "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.", BUDGET_SPENT,
                             org="acme", now=at(1))
    assert held == 1
    assert outbox.budget_wait(org="acme", now=at(2)).items == 1
    assert outbox.budget_wait(org="globex", now=at(2)) is None
    assert outbox.due_orgs(now=at(2)) == {"globex": 1}
    outbox.record_sync_error("intro", "acme's problem", code="X", org="acme")
    outbox.record_sync_error("intro", "globex's problem", code="Y", org="globex")
    assert [e.message for e in outbox.last_sync_errors(org="acme")] == ["acme's problem"]
    assert {(e.org, e.message) for e in outbox.last_sync_errors()} == {("acme", "acme's problem"),
                                                                      ("globex", "globex's problem")}
    outbox.record_trace("same-uid", [{"step": "a"}], org="acme")
    outbox.record_trace("same-uid", [{"step": "g"}], org="globex")
    assert [t.steps for t in outbox.traces("same-uid", org="globex")] == [[{"step": "g"}]]
    assert len(outbox.traces("same-uid")) == 2
