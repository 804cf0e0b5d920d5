"""The outbox's answers to the reliability bugs: lease renewal, budget waits that are not attempts,
repeatable changes in the order they happened (and superseded when late); on every backend."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from slotforce.store import BUDGET_SPENT, Backoff, Delivery, ItemResult, LeaseLost, NewChange

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)
LEASE = timedelta(seconds=60)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(uid: str, action: str, *, happened: int = 0, scope: str | None = None) -> NewChange:
    """`happened` is the change's sequence (epoch ms for repeatable actions), as the engine derives it;
    `scope` whom a repeatable change is about (the attendees a no-show names)."""
    return NewChange(
        dedupe_key=f"api:{uid}:{action}:{happened}" + (f":{scope}" if scope else ""),
        repeat_scope=scope,
        booking_uid=uid,
        action=action,
        change={"booking_uid": uid, "action": action, "sequence": happened},
        requires_uid=None if action == "Created" else uid,
        establishes=action == "Created",
    )


@pytest.fixture
def outbox(open_outbox):
    store = open_outbox(rng=random.Random(3), backoff=Backoff(2, 900, 3))
    yield store
    store.close()


def put(outbox, *changes: NewChange, when: float = 0):
    return outbox.enqueue(Delivery("api", json.dumps([c.dedupe_key for c in changes]).encode()), list(changes),
                          now=at(when))


def send_all(outbox, when: float) -> list[str]:
    """Lease and finish one change at a time, as a worker would; the order in which they went."""
    sent = []
    while True:
        lease = outbox.lease("w", now=at(when))
        if not lease.items:
            return sent
        sent += [i.dedupe_key for i in lease.items]
        outbox.finish(lease.id, [ItemResult.done(i.id, {"status": "processed"}) for i in lease.items], now=at(when))


# -- leases ----------------------------------------------------------------------------------------

def test_renew_extends_a_lease_that_is_still_held_even_past_its_expiry(outbox):
    put(outbox, change("a", "Created"), change("b", "Created"))
    lease = outbox.lease("w", lease_for=LEASE, now=at(0))
    assert outbox.renew(lease.id, LEASE, items=2, now=at(30)) == at(90)
    # not taken by anyone after it ran out: still safe to extend
    assert outbox.renew(lease.id, LEASE, items=2, now=at(100)) == at(160)
    assert outbox.lease("other", now=at(120)).items == ()


def test_renew_fails_once_another_worker_took_the_items(outbox, open_outbox):
    put(outbox, change("a", "Created"), change("b", "Created"))
    lease = outbox.lease("slow", lease_for=LEASE, now=at(0))
    other = open_outbox()
    taken = other.lease("other", limit=1, now=at(61))  # one of the two, after the slow lease ran out
    assert len(taken) == 1
    # the expired lease's items were all given back when one was taken: none is held any more
    with pytest.raises(LeaseLost, match="0 of 2 item"):
        outbox.renew(lease.id, LEASE, items=2, now=at(62))
    other.finish(taken.id, [ItemResult.done(taken.items[0].id)], now=at(63))
    with pytest.raises(LeaseLost):
        outbox.renew(taken.id, LEASE, now=at(64))  # nothing held any more
    other.close()


def test_held_leases_name_the_worker_and_when_the_items_come_back(outbox):
    put(outbox, change("a", "Created"), change("b", "Created"))
    outbox.lease("host:123", lease_for=LEASE, now=at(0))
    (held,) = outbox.held_leases()
    assert (held.worker, held.items, held.expires_at) == ("host:123", 2, at(60))


# -- the API budget --------------------------------------------------------------------------------

def test_waiting_for_the_budget_is_not_an_attempt_and_never_fails(outbox):
    (item_id,) = put(outbox, change("a", "Created")).item_ids
    for n in range(10):  # far more than max_attempts (3)
        lease = outbox.lease("w", now=at(n * 600))
        assert [i.id for i in lease.items] == [item_id]
        report = outbox.finish(lease.id, [ItemResult.wait(item_id, "budget spent", BUDGET_SPENT,
                                                          retry_at=at(n * 600 + 300))], now=at(n * 600))
        assert report.gave_up == ()
    item = outbox.get(item_id)
    assert (item.state.value, item.attempts, item.last_error_code) == ("pending", 0, BUDGET_SPENT)
    counts = outbox.counts(now=at(5500))
    assert counts["retry_scheduled"] == counts["waiting_for_budget"] == 1
    wait = outbox.budget_wait(now=at(5500))
    assert (wait.items, wait.next_try_at) == (1, at(5700))
    assert outbox.budget_wait(now=at(5700)) is None  # due again: the next batch is the probe


def test_hold_queue_puts_the_whole_due_queue_off_with_the_reason(outbox):
    put(outbox, change("a", "Created"), change("b", "Created"), change("c", "Created"))
    assert outbox.hold_queue(at(300), "budget spent", BUDGET_SPENT, now=at(1)) == 3
    assert outbox.lease("w", now=at(299)).items == ()
    assert outbox.counts(now=at(2))["waiting_for_budget"] == 3
    assert [i.attempts for i in outbox.lease("w", now=at(300)).items] == [1, 1, 1]


def test_a_change_waits_for_a_queued_create_beyond_the_create_wait(open_outbox):
    store = open_outbox(create_wait=timedelta(minutes=15))
    put(store, change("a", "Created"), change("a", "Canceled"))
    store.hold_queue(at(3600), "budget spent", BUDGET_SPENT, now=at(0))  # the create cannot go for an hour
    assert store.lease("w", now=at(1800)).items == ()
    assert store.counts(now=at(1800))["parked"] == 0  # its create is still coming: not parked
    assert send_all(store, 3600) == ["api:a:Created:0", "api:a:Canceled:0"]
    store.close()


# -- repeatable changes ----------------------------------------------------------------------------

def test_repeatable_changes_go_in_the_order_they_happened(outbox):
    put(outbox, change("a", "Created"))
    put(outbox, change("a", "No_Show_Cleared", happened=2000), when=1)  # happened last, arrived first
    put(outbox, change("a", "No_Show", happened=1000), when=2)
    assert send_all(outbox, 3) == ["api:a:Created:0", "api:a:No_Show:1000", "api:a:No_Show_Cleared:2000"]


def test_an_older_repeatable_change_after_a_newer_one_was_sent_is_superseded(outbox):
    put(outbox, change("a", "Created"), change("a", "No_Show_Cleared", happened=2000))
    send_all(outbox, 1)
    (late,) = put(outbox, change("a", "No_Show", happened=1000), when=2).item_ids
    assert send_all(outbox, 3) == []
    item = outbox.get(late)
    assert item.state.value == "done" and item.outcome["status"] == "skipped"
    assert item.outcome["superseded_by"] == "api:a:No_Show_Cleared:2000"
    assert [t.steps[0]["step"] for t in outbox.traces("a")] == ["superseded"]


def test_a_newer_no_show_of_other_people_does_not_supersede_an_older_one(outbox):
    put(outbox, change("a", "Created"), change("a", "No_Show", happened=2000, scope="guest@x.com"))
    send_all(outbox, 1)
    (late,) = put(outbox, change("a", "No_Show", happened=1000, scope="pat@x.com"), when=2).item_ids
    assert send_all(outbox, 3) == ["api:a:No_Show:1000:pat@x.com"]  # another person: it still goes
    (older,) = put(outbox, change("a", "No_Show_Cleared", happened=500, scope="guest@x.com"), when=4).item_ids
    assert send_all(outbox, 5) == [] and outbox.get(older).outcome["status"] == "skipped"  # the same person


def test_arrival_and_happened_order_mixed_never_wait_for_each_other(outbox):
    # No_Show (t=10) arrives, then a cancel, then a No_Show that happened at t=5: the late one takes
    # the queue place of the first-arrived one that happened after it, so nothing waits in a circle.
    put(outbox, change("a", "Created"))
    send_all(outbox, 0)
    put(outbox, change("a", "No_Show", happened=10_000), when=1)
    put(outbox, change("a", "Canceled"), when=2)
    put(outbox, change("a", "No_Show_Cleared", happened=5_000), when=3)
    assert send_all(outbox, 4) == ["api:a:No_Show_Cleared:5000", "api:a:No_Show:10000", "api:a:Canceled:0"]


def test_a_newer_change_in_flight_holds_back_an_older_one_until_it_can_be_superseded(outbox):
    put(outbox, change("a", "Created"))
    send_all(outbox, 0)
    put(outbox, change("a", "Completed", happened=9000), when=1)
    lease = outbox.lease("w", now=at(2))
    (late,) = put(outbox, change("a", "No_Show", happened=1000), when=3).item_ids
    assert outbox.lease("other", now=at(4)).items == ()  # one change of a booking in flight at a time
    outbox.finish(lease.id, [ItemResult.done(lease.items[0].id, {"status": "processed"})], now=at(5))
    assert send_all(outbox, 6) == []
    assert outbox.get(late).outcome["status"] == "skipped"
