"""2,000 bookings while one Salesforce call in five fails transiently: every booking lands once.

On PostgreSQL the same runs go through two `slotforce worker` processes leasing side by side (as
on two hosts), with fewer bookings in smaller batches so both have batches to share.

The org answers UNABLE_TO_LOCK_ROW, 503 or drops the connection on ~20% of its data API calls
(seeded, so a failing run can be replayed). The worker goes through the real outbox (compressed
backoff) and the real engine, 200 changes a batch. A batch can fail after some of its calls went
through (new Contacts created, then the write call refused), so a retried batch must find what
the earlier attempt left behind instead of creating it again.
"""

from __future__ import annotations

import random
import time

import pytest

from reliability_kit import COMPRESSED_OUTBOX, WorkerProcesses, add_mixed_faults, attendee_email, body, count, \
    created, doubles, drain_until_settled, events_by_uid, expected_events, open_outbox, query_all, settings_for, \
    story_of
from slotforce.service.worker import Worker
from slotforce.sources import receive
from slotforce.testing import write_config

BOOKINGS = 2000
BATCH = 200
FAULT_SHARE = 0.20
# backend -> (bookings, batch, worker processes; 0 = one in-process worker)
RUNS = {"sqlite": (BOOKINGS, BATCH, 0), "postgresql": (400, 50, 2)}


def outbox_url(backend: str, tmp_path, request) -> str:
    return f"sqlite:///{tmp_path}/outbox.db" if backend == "sqlite" else request.getfixturevalue("postgres_url")


def drain(org, outbox, url: str, tmp_path, batch: int, processes: int, *, deadline_s: float) -> int:
    """Send everything, with one in-process worker or `processes` worker processes; batches leased."""
    if not processes:
        worker = Worker(outbox, settings_for(org), org.client, name="reliability", batch_size=batch)
        return drain_until_settled(worker, outbox, deadline_s=deadline_s).batches
    workers = WorkerProcesses(write_config(tmp_path, org, outbox=COMPRESSED_OUTBOX, store=url, batch_size=batch),
                              processes).start()
    try:
        workers.settle(outbox, deadline_s=deadline_s)
    finally:
        workers.stop()
    return -1  # (not counted across processes)


def retries(outbox, n: int) -> int:
    """Tries beyond the first, over every done change."""
    return sum(i.attempts - 1 for i in outbox.items(states=["done"], limit=n))


@pytest.mark.timeout(150)
# three fault sequences: other calls fail, other batches split; PostgreSQL: two worker processes
@pytest.mark.parametrize("backend,seed", [("sqlite", 20261122), ("sqlite", 3), ("sqlite", 4), ("postgresql", 20261122)])
def test_2000_bookings_with_a_fifth_of_calls_failing_land_once_each(org, tmp_path, record_property, request,
                                                                    backend, seed):
    bookings, batch, processes = RUNS[backend]
    url = outbox_url(backend, tmp_path, request)
    outbox = open_outbox(url)
    for i in range(0, bookings, batch):
        receive(outbox, "api", body([created(n) for n in range(i, i + batch)]), {}, secrets=None, verify=False)
    assert outbox.counts()["pending"] == bookings

    add_mixed_faults(org, FAULT_SHARE, seed=seed)
    calls_before = org.stats()["api_calls"]["total"]
    started = time.monotonic()
    batches = drain(org, outbox, url, tmp_path, batch, processes, deadline_s=120)
    seconds = time.monotonic() - started
    fired = {r["error"]: r["fired"] for r in org.faults.rules()}
    org.faults.clear()
    billed = org.stats()["api_calls"]["total"] - calls_before
    record_property("seconds", round(seconds, 1))
    record_property("faults_fired", fired)
    share = sum(fired.values()) / (sum(fired.values()) + billed)
    record_property("fault_share", round(share, 3))
    print(f"\n{bookings} bookings ({backend}, seed {seed}): {seconds:.1f} s, {batches} batches leased, "
          f"{retries(outbox, bookings)} item retries, faults {fired} = {share:.0%} of {sum(fired.values()) + billed} calls")

    # every kind of fault really happened
    assert all(fired.values()), fired
    assert retries(outbox, bookings) > 0

    # the outbox: everything done, nothing failed or parked
    counts = outbox.counts()
    assert counts["done"] == bookings and counts["failed"] == 0 and counts["parked"] == 0, counts

    # Salesforce: exactly what was sent, once each
    sf = org.client()
    assert count(sf, "Booking_Action__c") == bookings
    assert count(sf, "Event") == bookings
    assert count(sf, "Contact") == bookings
    assert doubles(sf, "Booking_Action__c", "Action_Key__c") == {}
    assert doubles(sf, "Event", "Booking_Uid__c") == {}
    assert doubles(sf, "Contact", "Email") == {}
    keys = {r["Action_Key__c"] for r in query_all(sf, "SELECT Action_Key__c FROM Booking_Action__c")}
    assert keys == {f"api:rel-{n:05d}:Created:0" for n in range(bookings)}
    assert count(sf, "Booking_Action__c", "Status__c != 'Processed'") == 0
    emails = {r["Id"]: r["Email"] for r in query_all(sf, "SELECT Id, Email FROM Contact")}
    events = query_all(sf, "SELECT Booking_Uid__c, WhoId FROM Event")
    who = {r["Booking_Uid__c"]: emails.get(r["WhoId"]) for r in events}
    assert who == {f"rel-{n:05d}": attendee_email(n) for n in range(bookings)}
    outbox.close()


def skip_calls(org, n: int) -> None:
    """Let the next `n` data API calls through untouched (a latency-only rule of 1 ms that runs out):
    rules are tried in order, so the rule added after this one meets call n+1 first."""
    org.faults.add(latency_ms=1, count=n, path=r"^/services/data/")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("error", ["503", "drop"])
def test_a_batch_refused_after_its_new_contacts_were_created_does_not_create_them_again(org, tmp_path, error):
    outbox = open_outbox(tmp_path / "outbox.db")
    receive(outbox, "api", body([created(n) for n in range(BATCH)]), {}, secrets=None, verify=False)
    # a cold engine's batch is: describe, fetch, create the new Contacts (Collections), write the actions
    skip_calls(org, 3)
    org.faults.add(error=error, count=1, path=r"^/services/data/")
    worker = Worker(outbox, settings_for(org), org.client, name="reliability", batch_size=BATCH)
    first = worker.run_once()
    sf = org.client()
    assert (first.retried, first.processed) == (BATCH, 0), first
    assert count(sf, "Contact") == BATCH and count(sf, "Booking_Action__c") == 0  # half done, as intended

    drain_until_settled(worker, outbox, deadline_s=30)
    assert outbox.counts()["done"] == BATCH
    assert count(sf, "Contact") == BATCH and doubles(sf, "Contact", "Email") == {}
    assert count(sf, "Booking_Action__c") == count(sf, "Event") == BATCH
    outbox.close()


@pytest.mark.timeout(150)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_creates_reschedules_cancels_and_no_shows_shuffled_under_faults_end_as_in_order(org, tmp_path, request,
                                                                                        backend):
    # SQLite: 1,000 bookings = 2,000 changes (1,000 creates, 500 reschedules, 250 cancels, 250 no-shows,
    # story_of); PostgreSQL: 200 bookings, 400 changes, batches of 20, through two worker processes
    bookings, batch, processes = (1000, BATCH, 0) if backend == "sqlite" else (200, 20, 2)
    changes = [c for n in range(bookings) for c in story_of(n)]
    random.Random(7).shuffle(changes)  # cancels, reschedules and no-shows mostly arrive before their creates
    url = outbox_url(backend, tmp_path, request)
    outbox = open_outbox(url)
    for i in range(0, len(changes), batch):
        receive(outbox, "api", body(changes[i:i + batch]), {}, secrets=None, verify=False)
    assert outbox.counts()["pending"] == len(changes) == 2 * bookings

    add_mixed_faults(org, FAULT_SHARE, seed=99)
    started = time.monotonic()
    batches = drain(org, outbox, url, tmp_path, batch, processes, deadline_s=120)
    fired = {r["error"]: r["fired"] for r in org.faults.rules()}
    org.faults.clear()
    print(f"\n{len(changes)} shuffled changes ({backend}): {time.monotonic() - started:.1f} s, {batches} batches, "
          f"{retries(outbox, len(changes))} item retries, faults fired {fired}")
    assert all(fired.values()), fired

    counts = outbox.counts()
    assert counts["done"] == len(changes) and counts["failed"] == counts["parked"] == 0, counts
    sf = org.client()
    assert count(sf, "Booking_Action__c") == len(changes)
    assert count(sf, "Booking_Action__c", "Status__c != 'Processed'") == 0
    assert doubles(sf, "Contact", "Email") == {} and count(sf, "Contact") == bookings
    got = {uid: (e["StartDateTime"][:16], e["Meeting_Status__c"], e["No_Show__c"])
           for uid, e in events_by_uid(sf).items()}
    assert got == expected_events(bookings)
    outbox.close()
