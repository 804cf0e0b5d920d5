"""Several workers on one outbox (`slotforce serve` and `slotforce sync`; on PostgreSQL, workers on many hosts).

Leases keep them apart: an item is sent by one worker at a time, and a booking's changes stay in
order. The second test is the edge of that promise: a worker whose Salesforce call outlives its
lease, while another worker has already taken the items over.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from reliability_kit import add_mixed_faults, body, count, created, doubles, drain_until_settled, events_by_uid, \
    expected_events, open_outbox, settings_for, story_of, unfinished
from slotforce.service.worker import Worker
from slotforce.sources import receive

BATCH = 200


@pytest.mark.timeout(120)
def test_several_workers_draining_one_outbox_send_each_change_once_and_in_order(org, store_url):
    bookings = 400  # 800 changes
    changes = [c for n in range(bookings) for c in story_of(n)]
    random.Random(11).shuffle(changes)
    path = store_url
    intake = open_outbox(path)
    for i in range(0, len(changes), BATCH):
        receive(intake, "api", body(changes[i:i + BATCH]), {}, secrets=None, verify=False)
    add_mixed_faults(org, 0.10, seed=5)  # some retries, so the workers' batches interleave differently

    errors: list[BaseException] = []

    def work(name: str) -> None:
        outbox = open_outbox(path)  # each worker its own connection, as two processes would have
        try:
            drain_until_settled(Worker(outbox, settings_for(org), org.client, name=name, batch_size=100), outbox,
                                deadline_s=90)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            outbox.close()

    # (PostgreSQL: as many workers as hosts; three here)
    workers = 3 if store_url.startswith("postgresql") else 2
    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(1, workers + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    org.faults.clear()
    assert not errors, errors
    counts = intake.counts()
    assert counts["done"] == len(changes) and counts["failed"] == counts["parked"] == 0, counts
    sf = org.client()
    assert count(sf, "Booking_Action__c") == len(changes)
    assert count(sf, "Booking_Action__c", "Status__c != 'Processed'") == 0
    assert count(sf, "Contact") == bookings and doubles(sf, "Contact", "Email") == {}
    got = {uid: (e["StartDateTime"][:16], e["Meeting_Status__c"], e["No_Show__c"])
           for uid, e in events_by_uid(sf).items()}
    assert got == expected_events(bookings)
    intake.close()


@pytest.mark.timeout(60)
def test_a_worker_whose_call_outlives_its_lease_does_not_double_what_the_next_worker_sent(org, store_url):
    path = store_url
    outbox_a, outbox_b = open_outbox(path), open_outbox(path)
    receive(outbox_a, "api", body([created(n) for n in range(BATCH)]), {}, secrets=None, verify=False)
    lease = timedelta(seconds=1)
    slow = Worker(outbox_a, settings_for(org), org.client, name="slow", lease_for=lease)
    other = Worker(outbox_b, settings_for(org), org.client, name="other", lease_for=lease)
    slow.engine.describes()  # both engines warm: a batch is then fetch, new Contacts, Booking Actions
    other.engine.describes()

    # the slow worker's second call (creating the Contacts) waits 3 s at the org's door
    org.faults.add(latency_ms=1, count=1, path=r"/composite$")
    org.faults.add(latency_ms=3000, count=1, path=r"/composite$")
    slow_thread = threading.Thread(target=slow.run_once)
    slow_thread.start()
    time.sleep(lease.total_seconds() + 0.3)  # its lease has run out; the other worker takes the items over
    # (a networked store renews a little later: wait until the renewed lease has really run out)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline and any(h.expires_at > datetime.now(timezone.utc) for h in outbox_b.held_leases()):
        time.sleep(0.02)
    report = other.run_once()
    assert report.processed == BATCH, report
    slow_thread.join(30)
    assert not slow_thread.is_alive()
    assert unfinished(outbox_a) == 0

    sf = org.client()
    assert count(sf, "Booking_Action__c") == count(sf, "Event") == BATCH
    assert doubles(sf, "Contact", "Email") == {}, "the same attendee's Contact was created by both workers"
    assert count(sf, "Contact") == BATCH
    outbox_a.close()
    outbox_b.close()
