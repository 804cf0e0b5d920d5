"""The outbox on every backend (the conformance suite): dedupe, per-booking ordering, parking, leases,
backoff, replay."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

import pytest

from slotforce.store import (
    Backoff,
    Delivery,
    ItemNotFound,
    ItemResult,
    NewChange,
    NotReplayable,
    State,
)

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(uid: str, action: str, *, previous: str | None = None, seq: int = 0, event_type: str | None = None) -> NewChange:
    establishes = action in ("Created", "Rescheduled")
    requires = None if action == "Created" else (previous if action == "Rescheduled" and previous else uid)
    return NewChange(
        dedupe_key=f"calcom:{uid}:{action}:{seq}",
        booking_uid=uid,
        action=action,
        change={"booking_uid": uid, "action": action},
        previous_booking_uid=previous,
        requires_uid=requires,
        establishes=establishes,
        event_type=event_type,
    )


@pytest.fixture
def outbox(open_outbox):
    store = open_outbox(rng=random.Random(7))
    yield store
    store.close()


def put(outbox, *changes: NewChange, body: bytes | None = None, when: float = 0):
    body = body if body is not None else repr([c.dedupe_key for c in changes]).encode()
    return outbox.enqueue(Delivery("calcom", body), list(changes), now=at(when))


def leased_keys(lease) -> list[str]:
    return [i.dedupe_key for i in lease.items]


def finish_all(outbox, lease, when: float = 0):
    return outbox.finish(lease.id, [ItemResult.done(i.id, {"id": f"a00{i.id}"}) for i in lease.items], now=at(when))




def test_raw_payload_and_change_are_stored_together(outbox):
    receipt = put(outbox, change("A", "Created"), body=b'{"raw": true}')
    item = outbox.get(receipt.item_ids[0])
    assert outbox.delivery_body(item.delivery_id) == b'{"raw": true}'
    assert item.change == {"booking_uid": "A", "action": "Created"}
    assert item.state is State.PENDING


def test_repeated_delivery_is_stored_once(outbox):
    first = put(outbox, change("A", "Created"), body=b"same")
    again = put(outbox, change("A", "Created"), body=b"same", when=5)
    assert again.repeated_delivery and not first.repeated_delivery
    assert again.item_ids == first.item_ids == again.duplicate_item_ids
    counts = outbox.counts(now=at(5))
    assert counts["pending"] == 1 and counts["deliveries"] == 1 and counts["repeated_deliveries"] == 1


def test_same_change_in_a_different_body_is_deduped_by_key(outbox):
    # Calendly re-sends with a new signature header but the dedupe key (Action_Key__c) is the same.
    put(outbox, change("A", "Created"), body=b"one")
    receipt = put(outbox, change("A", "Created"), body=b"two")
    assert receipt.duplicate_item_ids == receipt.item_ids
    assert outbox.counts()["pending"] == 1


def test_one_delivery_can_queue_several_changes(outbox):
    receipt = put(outbox, change("G1", "Created"), change("G2", "Created"))
    assert len(receipt.item_ids) == 2
    assert leased_keys(outbox.lease("w", now=at(1))) == ["calcom:G1:Created:0", "calcom:G2:Created:0"]


def test_later_change_waits_while_earlier_change_of_same_booking_is_in_flight(outbox):
    put(outbox, change("A", "Created"), change("B", "Created"))
    put(outbox, change("A", "No_Show", seq=1), when=1)
    first = outbox.lease("w", now=at(2))
    assert leased_keys(first) == ["calcom:A:Created:0", "calcom:B:Created:0"]
    assert len(outbox.lease("w", now=at(3))) == 0  # A's create is in flight
    finish_all(outbox, first, when=4)
    assert leased_keys(outbox.lease("w", now=at(5))) == ["calcom:A:No_Show:1"]


def test_cancel_that_arrives_before_its_create_waits_for_it(outbox):
    put(outbox, change("A", "Canceled"), when=0)
    assert len(outbox.lease("w", now=at(1))) == 0
    put(outbox, change("A", "Created"), when=2)
    created = outbox.lease("w", now=at(3))
    assert leased_keys(created) == ["calcom:A:Created:0"]  # the create overtakes the waiting cancel
    assert len(outbox.lease("w", now=at(4))) == 0  # cancel still waits: create not done yet
    finish_all(outbox, created, when=5)
    assert leased_keys(outbox.lease("w", now=at(6))) == ["calcom:A:Canceled:0"]


def test_reschedule_chain_is_sent_create_then_reschedule_then_cancel(outbox):
    # Arrives in the worst order: cancel of the new uid, reschedule old->new, create of the old uid.
    put(outbox, change("NEW", "Canceled"), when=0)
    put(outbox, change("NEW", "Rescheduled", previous="OLD"), when=1)
    put(outbox, change("OLD", "Created"), when=2)
    order = []
    for step in range(6):
        lease = outbox.lease("w", now=at(10 + step))
        order += leased_keys(lease)
        finish_all(outbox, lease, when=10 + step)
    assert order == ["calcom:OLD:Created:0", "calcom:NEW:Rescheduled:0", "calcom:NEW:Canceled:0"]


def test_change_whose_create_never_comes_is_parked_with_a_reason(open_outbox):
    store = open_outbox(create_wait=timedelta(minutes=10))
    put(store, change("GHOST", "Canceled", event_type="discovery-call"))
    put(store, change("OTHER", "Created"), when=1)
    assert leased_keys(store.lease("w", now=at(599))) == ["calcom:OTHER:Created:0"]
    assert store.get(1).state is State.PENDING
    assert len(store.lease("w", now=at(601))) == 0
    parked = store.get(1)
    assert parked.state is State.PARKED and parked.last_error_code == "WAITING_FOR_CREATE"
    assert "no create of booking GHOST" in parked.last_error and "slotforce replay 1" in parked.last_error
    assert store.last_sync_errors()[0].event_type == "discovery-call"
    # Replay sends it although the create never came (the operator knows the Event exists).
    store.replay(1, now=at(700))
    assert leased_keys(store.lease("w", now=at(701))) == ["calcom:GHOST:Canceled:0"]
    store.close()


def test_lease_hands_out_at_most_the_limit(outbox):
    put(outbox, *[change(f"U{i}", "Created") for i in range(250)])
    first = outbox.lease("w", now=at(1))
    assert len(first) == 200
    assert len(outbox.lease("w", now=at(1), limit=100)) == 50


def test_expired_lease_is_handed_out_again_and_late_finish_is_ignored(outbox):
    put(outbox, change("A", "Created"), change("B", "Created"))
    dead = outbox.lease("killed", lease_for=timedelta(seconds=30), now=at(0))
    assert len(outbox.lease("w2", now=at(29))) == 0  # still leased
    retaken = outbox.lease("w2", lease_for=timedelta(seconds=30), now=at(31))
    assert leased_keys(retaken) == leased_keys(dead)
    # the expired lease was not an attempt: only this one is charged
    assert all(i.attempts == 1 for i in retaken.items)
    late = outbox.finish(dead.id, [ItemResult.done(i.id) for i in dead.items], now=at(32))
    assert late.applied == () and len(late.stale) == 2
    assert finish_all(outbox, retaken, when=33).applied == tuple(i.id for i in retaken.items)
    assert outbox.counts()["done"] == 2


def test_finish_after_own_lease_expired_still_counts_if_nobody_took_over(outbox):
    put(outbox, change("A", "Created"))
    lease = outbox.lease("slow", lease_for=timedelta(seconds=1), now=at(0))
    assert finish_all(outbox, lease, when=60).applied == (1,)
    assert outbox.get(1).state is State.DONE and outbox.get(1).outcome == {"id": "a001"}


def test_transient_failure_backs_off_with_growing_jittered_delay(open_outbox):
    backoff = Backoff(base_seconds=2, cap_seconds=60, max_attempts=20)
    store = open_outbox(backoff=backoff, rng=random.Random(1))
    put(store, change("A", "Created"))
    now = at(0)
    delays = []
    for attempt in range(1, 8):
        lease = store.lease("w", now=now)
        assert len(lease) == 1, f"attempt {attempt} should be due"
        store.finish(lease.id, [ItemResult.retry(1, "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access", "UNABLE_TO_LOCK_ROW")], now=now)
        due = store.get(1).available_at
        delay = (due - now).total_seconds()
        step = backoff.step(attempt)
        assert step / 2 - 1e-3 <= delay <= step + 1e-3, (attempt, delay, step)
        assert len(store.lease("w", now=due - timedelta(milliseconds=10))) == 0  # not before its time
        delays.append(delay)
        now = due + timedelta(milliseconds=1)
    assert delays[-1] > delays[0] * 8  # grew (2 s steps up to the 60 s cap)
    assert max(delays) <= 60
    assert store.counts(now=now - timedelta(seconds=1))["retry_scheduled"] == 1
    store.close()


def test_jitter_bounds_over_many_draws():
    backoff = Backoff(base_seconds=1, cap_seconds=1000)
    rng = random.Random(3)
    draws = [backoff.delay(5, rng) for _ in range(2000)]
    assert min(draws) >= 8 and max(draws) <= 16
    assert max(draws) - min(draws) > 6  # really jittered, not constant


def test_waiting_for_the_api_budget_does_not_use_up_attempts(open_outbox):
    store = open_outbox(backoff=Backoff(max_attempts=2))
    put(store, change("A", "Created"))
    for n in range(5):
        lease = store.lease("w", now=at(n * 10))
        assert len(lease) == 1
        store.finish(lease.id, [ItemResult.retry(1, "REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED", retry_at=at(n * 10 + 5))], now=at(n * 10))
    assert store.get(1).state is State.PENDING
    store.close()


def test_explicit_retry_at_is_kept(outbox):
    put(outbox, change("A", "Created"))
    lease = outbox.lease("w", now=at(0))
    reset = at(3600)
    outbox.finish(lease.id, [ItemResult.transient_or_failed(1, "REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED", transient=True, retry_at=reset)], now=at(1))
    assert outbox.get(1).available_at == reset


def test_transient_failures_give_up_after_max_attempts(open_outbox):
    store = open_outbox(backoff=Backoff(base_seconds=0.001, cap_seconds=0.001, max_attempts=3))
    put(store, change("A", "Created", event_type="demo"))
    report = None
    for n in range(3):
        lease = store.lease("w", now=at(n))
        report = store.finish(lease.id, [ItemResult.retry(1, "HTTP 503", "SERVER_UNAVAILABLE")], now=at(n))
    assert report.gave_up == (1,)
    item = store.get(1)
    assert item.state is State.FAILED and "gave up after 3 attempts; last error: HTTP 503" in item.last_error
    store.close()


def test_item_that_kills_every_worker_is_failed_not_leased_forever(open_outbox):
    store = open_outbox(backoff=Backoff(max_attempts=2))
    put(store, change("POISON", "Created"), change("FINE", "Created"))
    store.lease("w", lease_for=timedelta(seconds=1), now=at(0))
    lease = store.lease("w", lease_for=timedelta(seconds=1), now=at(2))
    store.finish(lease.id, [ItemResult.done(2)], now=at(2))
    assert len(store.lease("w", now=at(4))) == 0
    assert store.get(1).state is State.FAILED and store.get(1).last_error_code == "LEASE_EXPIRED_REPEATEDLY"
    store.close()


def _crash(store, lease, how: str, when: float) -> None:
    """The worker holding `lease` dies (its lease runs out) or gives the batch up mid-way."""
    if how == "interrupted":
        store.release(lease.id, interrupted=True, now=at(when))


@pytest.mark.parametrize("how", ["killed", "interrupted"])
def test_a_batch_that_crashes_is_split_until_only_the_poison_item_fails(open_outbox, how):
    store = open_outbox(backoff=Backoff(max_attempts=3))
    put(store, *(change("POISON" if n == 4 else f"FINE{n}", "Created") for n in range(1, 9)))
    sizes = []
    for step in range(30):
        lease = store.lease("w", limit=8, lease_for=timedelta(seconds=1), now=at(2 * step))
        if not lease.items:
            break
        sizes.append(len(lease))
        if "calcom:POISON:Created:0" in leased_keys(lease):
            _crash(store, lease, how, 2 * step)
        else:
            finish_all(store, lease, when=2 * step)
    assert sizes == [8, 4, 2, 2, 1, 1, 4]  # halves, down to one: then the poison item is alone
    fine = [store.get(n) for n in range(1, 9) if n != 4]
    assert all(i.state is State.DONE and i.attempts == 1 for i in fine)  # only the try that worked
    poison = store.get(4)
    assert poison.state is State.FAILED and poison.last_error_code == "LEASE_EXPIRED_REPEATEDLY"
    assert poison.attempts == 0 and "holding it alone" in poison.last_error
    store.close()


def test_permanent_failure_is_kept_and_replayable(outbox):
    put(outbox, change("A", "Created", event_type="discovery-call"))
    lease = outbox.lease("w", now=at(0))
    outbox.finish(
        lease.id,
        [ItemResult.failed(1, "REQUIRED_FIELD_MISSING: Company", "REQUIRED_FIELD_MISSING", details={"dropped_fields": ["Lead.Foo__c"]})],
        now=at(1),
    )
    failed = outbox.items(states=["failed"])
    assert [f.id for f in failed] == [1] and failed[0].last_error == "REQUIRED_FIELD_MISSING: Company"
    error = outbox.last_sync_errors()[0]
    assert (error.event_type, error.code, error.details) == ("discovery-call", "REQUIRED_FIELD_MISSING", {"dropped_fields": ["Lead.Foo__c"]})
    assert len(outbox.lease("w", now=at(2))) == 0
    replayed = outbox.replay(1, now=at(3))
    assert replayed.state is State.PENDING and replayed.attempts == 0
    assert [i.id for i in outbox.lease("w", now=at(3)).items] == [1]


def test_replay_refuses_items_that_are_not_failed_or_parked(outbox):
    put(outbox, change("A", "Created"))
    with pytest.raises(NotReplayable, match="still queued"):
        outbox.replay(1)
    with pytest.raises(ItemNotFound, match="999"):
        outbox.replay(999)


def test_failed_change_does_not_block_later_changes_of_its_booking(outbox):
    put(outbox, change("A", "Created"))
    put(outbox, change("A", "No_Show", seq=5), when=1)
    created = outbox.lease("w", now=at(2))
    finish_all(outbox, created, when=2)
    no_show = outbox.lease("w", now=at(3))
    outbox.finish(no_show.id, [ItemResult.failed(2, "bad")], now=at(3))
    put(outbox, change("A", "Canceled"), when=4)
    assert leased_keys(outbox.lease("w", now=at(5))) == ["calcom:A:Canceled:0"]


def test_traces_are_kept_per_booking_in_order(outbox):
    put(outbox, change("A", "Created"))
    lease = outbox.lease("w", now=at(0))
    outbox.finish(lease.id, [ItemResult.done(1, trace=[{"step": "who", "found": "Lead 00Q..."}])], now=at(1))
    outbox.record_trace("A", [{"step": "replayed"}], now=at(2))
    traces = outbox.traces("A")
    assert [t.steps for t in traces] == [[{"step": "who", "found": "Lead 00Q..."}], [{"step": "replayed"}]]
    assert traces[0].item_id == 1 and outbox.traces("B") == []


def test_last_sync_error_is_one_per_event_type(outbox):
    outbox.record_sync_error("demo", "first", code="X", now=at(0))
    outbox.record_sync_error("demo", "second", code="Y", now=at(1))
    outbox.record_sync_error(None, "no type", now=at(2))
    errors = {e.event_type: e for e in outbox.last_sync_errors()}
    assert set(errors) == {"demo", "default"} and errors["demo"].message == "second"


def test_counts_by_state(outbox):
    put(outbox, change("A", "Created"), change("B", "Created"), change("C", "Created"))
    lease = outbox.lease("w", limit=2, now=at(0))
    outbox.finish(lease.id, [ItemResult.done(lease.items[0].id), ItemResult.failed(lease.items[1].id, "x")], now=at(1))
    counts = outbox.counts(now=at(1))
    assert {k: counts[k] for k in ("pending", "leased", "done", "failed", "parked")} == {
        "pending": 1, "leased": 0, "done": 1, "failed": 1, "parked": 0,
    }
    assert [i.state for i in outbox.items(limit=2)] == [State.FAILED, State.DONE]



def test_a_second_connection_sees_committed_items(open_outbox):
    a = open_outbox()
    put(a, change("A", "Created"))
    b = open_outbox()
    assert [i.booking_uid for i in b.lease("w", now=at(1)).items] == ["A"]
    assert len(a.lease("w2", now=at(1))) == 0  # the lease taken through b is visible to a


def test_changes_without_an_event_type_inherit_the_bookings(outbox):
    put(outbox, change("A", "No_Show", seq=9))  # arrives first: nothing to inherit yet
    put(outbox, change("A", "Created", event_type="product-demo"), when=1)
    put(outbox, change("A", "Completed", seq=10), when=2)
    assert outbox.get(3).event_type == "product-demo"  # known at enqueue
    assert outbox.get(1).event_type is None
    created = outbox.lease("w", now=at(3))
    finish_all(outbox, created, when=3)
    [no_show] = outbox.lease("w", now=at(4)).items
    assert no_show.id == 1 and no_show.event_type == "product-demo"  # filled in when handed out


def test_two_workers_on_separate_connections_never_share_an_item(open_outbox):
    import threading

    setup = open_outbox()
    put(setup, *[change(f"U{i}", "Created") for i in range(300)])
    setup.close()
    taken: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def work(name: str) -> None:
        store = open_outbox()
        start.wait()
        while True:
            lease = store.lease(name, limit=25)
            if not lease.items:
                break
            taken[name] += [i.id for i in lease.items]
            store.finish(lease.id, [ItemResult.done(i.id) for i in lease.items])
            time.sleep(0.02)  # let the other worker in between batches (SQLite's busy retries back off to 25+ ms)
        store.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(taken["a"] + taken["b"]) == list(range(1, 301))  # each item once, none lost
    assert taken["a"] and taken["b"]


def test_prune_drops_old_done_items_and_keeps_failures(outbox):
    put(outbox, change("OLD", "Created"), change("BAD", "Created"), body=b"old")
    lease = outbox.lease("w", now=at(0))
    outbox.finish(lease.id, [ItemResult.done(1, trace=[{"step": "x"}]), ItemResult.failed(2, "nope")], now=at(0))
    put(outbox, change("NEW", "Created"), body=b"new", when=5000)
    assert outbox.prune(timedelta(hours=1), now=at(5000)) == 1
    assert [i.booking_uid for i in outbox.items(limit=10)] == ["NEW", "BAD"]
    assert outbox.traces("OLD") == []
    assert outbox.delivery_body(1) == b"old"  # still needed: the failed change came from it
    assert outbox.counts()["deliveries"] == 2


def test_release_hands_unsent_items_back_without_counting_an_attempt(outbox):
    put(outbox, change("A", "Created"), change("B", "Created"))
    lease = outbox.lease("stopping", now=at(0))
    outbox.finish(lease.id, [ItemResult.done(1)], now=at(1))
    assert outbox.release(lease.id, now=at(1)) == 1  # only B was still leased
    again = outbox.lease("next", now=at(1))
    assert [(i.booking_uid, i.attempts) for i in again.items] == [("B", 1)]
    assert outbox.last_sync_errors() == []
    assert outbox.release(again.id, [999], now=at(2)) == 0


def test_notes_are_kept_replaced_and_forgotten(outbox):
    assert outbox.read_note("describe_cache") is None
    outbox.write_note("describe_cache", '{"items": {}}')
    outbox.write_note("describe_cache", '{"items": {"Lead": 1}}')
    assert outbox.read_note("describe_cache") == '{"items": {"Lead": 1}}'
    outbox.write_note("describe_cache", None)
    assert outbox.read_note("describe_cache") is None


def test_activity_counts_per_minute_and_event_type(outbox):
    put(outbox, change("a", "Created", event_type="demo"), change("b", "Created"), when=30)
    put(outbox, change("c", "Created", event_type="demo"), when=90)
    lease = outbox.lease("w", now=at(100))
    by_uid = {i.booking_uid: i.id for i in lease.items}
    outbox.finish(lease.id, [ItemResult.done(by_uid["a"], {"status": "processed"}),
                             ItemResult.failed(by_uid["b"], "no", "X"),
                             ItemResult.done(by_uid["c"], {"status": "skipped"})], now=at(130))
    put(outbox, change("d", "Created", event_type="demo"), when=140)
    activity = outbox.activity(at(0))
    minute = lambda s: at(s).replace(second=0, microsecond=0)  # noqa: E731
    assert activity.minutes == [(minute(0), "default", 1, 0, 0), (minute(0), "demo", 1, 0, 0),
                                (minute(60), "demo", 1, 0, 0), (minute(120), "default", 0, 0, 1),
                                (minute(120), "demo", 1, 1, 0)]
    assert activity.unfinished == {"demo": (1, at(140))}
