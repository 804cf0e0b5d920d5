"""Several workers, each with its own connection, on every backend: each change once, per-booking order,
one change of a booking in flight at a time; idle workers wake on an enqueue; periodic jobs run once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from slotforce.store import Delivery, ItemResult, NewChange

ACTIONS = ("Created", "Rescheduled", "No_Show", "Canceled")


def booking_changes(uid: str) -> list[NewChange]:
    """A booking's life; the later changes arrive first, so the create must overtake them."""
    changes = [NewChange(f"api:{uid}:{a}:{n}", uid, a, {"n": n}, requires_uid=None if a == "Created" else uid,
                         establishes=a == "Created") for n, a in enumerate(ACTIONS)]
    return changes[1:] + changes[:1]


def test_four_workers_keep_each_bookings_order_and_send_each_change_once(open_outbox):
    setup = open_outbox()
    bookings = [f"B{n:03d}" for n in range(40)]
    for uid in bookings:
        setup.enqueue(Delivery("api", uid.encode()), booking_changes(uid))
    sent: dict[str, list[str]] = {uid: [] for uid in bookings}
    in_flight: set[str] = set()
    overlaps: list[str] = []
    guard = threading.Lock()
    start = threading.Barrier(4)

    def work(name: str) -> None:
        store = open_outbox()
        start.wait()
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 1.0:
            lease = store.lease(name, limit=7)
            if not lease.items:
                store.wait_for_work(0.02)
                continue
            idle_since = time.monotonic()
            with guard:
                for item in lease.items:
                    if item.booking_uid in in_flight:
                        overlaps.append(item.dedupe_key)
                    in_flight.add(item.booking_uid)
            time.sleep(0.002)  # "calling Salesforce"
            with guard:
                for item in lease.items:
                    in_flight.discard(item.booking_uid)
                    sent[item.booking_uid].append(item.action)
            store.finish(lease.id, [ItemResult.done(i.id) for i in lease.items])

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert overlaps == []
    assert all(actions == list(ACTIONS) for actions in sent.values()), sent
    assert setup.counts()["done"] == 4 * len(bookings)


def test_an_idle_worker_wakes_when_a_delivery_is_stored(open_outbox):
    worker_side, intake_side = open_outbox(), open_outbox()
    # SQLite wakes workers of the same process through the same store; PostgreSQL any connection's.
    intake = intake_side if worker_side.storage.backend == "postgresql" else worker_side
    assert worker_side.wait_for_work(0.05) is False
    woke: list[float] = []
    t = threading.Thread(target=lambda: woke.append(time.monotonic()) if worker_side.wait_for_work(10) else None)
    t.start()
    time.sleep(0.3)  # the worker is waiting now
    stored = time.monotonic()
    intake.enqueue(Delivery("api", b"x"), [NewChange("api:W:Created:0", "W", "Created", {}, establishes=True)])
    t.join(timeout=10)
    assert woke and woke[0] - stored < 1.0


def test_a_periodic_job_is_claimed_once_per_period_whichever_process_asks(open_outbox):
    hosts = [open_outbox() for _ in range(3)]
    every = timedelta(hours=1)
    claims = [host.claim_job("links", every) for host in hosts]
    assert claims.count(True) == 1
    assert not hosts[0].claim_job("links", every)
    assert hosts[1].claim_job("other-job", every)
