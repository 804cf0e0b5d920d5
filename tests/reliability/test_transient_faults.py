"""2,000 bookings while one Salesforce call in five fails transiently: every booking lands once.

The org answers UNABLE_TO_LOCK_ROW, 503 or drops the connection on ~20% of its data API calls
(seeded, so a failing run can be replayed). The worker goes through the real outbox (compressed
backoff) and the real engine, 200 changes a batch. A batch can fail after some of its calls went
through (new Contacts created, then the write call refused), so a retried batch must find what
the earlier attempt left behind instead of creating it again.
"""

from __future__ import annotations

import time

import pytest

from reliability_kit import attendee_email, body, count, created, doubles, drain_until_settled, open_outbox, \
    query_all, settings_for
from slotforce.service.worker import Worker
from slotforce.sources.intake import receive

BOOKINGS = 2000
BATCH = 200
FAULT_SHARE = 0.20
MIXED_FAULTS = ("UNABLE_TO_LOCK_ROW", "503", "drop")


def add_mixed_faults(org, share: float, seed: int) -> None:
    """Rules are tried in order and each draws on its own, so rule i fires with share/k / (1 - (i)*share/k)
    to give every kind an equal part of `share` overall."""
    k = len(MIXED_FAULTS)
    for i, error in enumerate(MIXED_FAULTS):
        org.faults.add(error=error, rate=(share / k) / (1 - i * share / k), path=r"^/services/data/", seed=seed + i)


@pytest.mark.timeout(150)
def test_2000_bookings_with_a_fifth_of_calls_failing_land_once_each(org, tmp_path, record_property):
    outbox = open_outbox(tmp_path / "outbox.db")
    for i in range(0, BOOKINGS, BATCH):
        receive(outbox, "api", body([created(n) for n in range(i, i + BATCH)]), {}, secrets=None, verify=False)
    assert outbox.counts()["pending"] == BOOKINGS

    add_mixed_faults(org, FAULT_SHARE, seed=20261122)
    calls_before = org.stats()["api_calls"]["total"]
    worker = Worker(outbox, settings_for(org), org.client, name="reliability", batch_size=BATCH)
    started = time.monotonic()
    report = drain_until_settled(worker, outbox, deadline_s=120)
    seconds = time.monotonic() - started
    fired = {r["error"]: r["fired"] for r in org.faults.rules()}
    org.faults.clear()
    billed = org.stats()["api_calls"]["total"] - calls_before
    record_property("seconds", round(seconds, 1))
    record_property("faults_fired", fired)
    print(f"\n{BOOKINGS} bookings: {seconds:.1f} s, {report.batches} batches leased, {report.retried} item retries, "
          f"faults fired {fired}, {billed} billed calls")

    # every kind of fault really happened
    assert all(fired.values()), fired
    assert report.retried > 0

    # the outbox: everything done, nothing failed or parked
    counts = outbox.counts()
    assert counts["done"] == BOOKINGS and counts["failed"] == 0 and counts["parked"] == 0, counts

    # Salesforce: exactly what was sent, once each
    sf = org.client()
    assert count(sf, "Booking_Action__c") == BOOKINGS
    assert count(sf, "Event") == BOOKINGS
    assert count(sf, "Contact") == BOOKINGS
    assert doubles(sf, "Booking_Action__c", "Action_Key__c") == {}
    assert doubles(sf, "Event", "Booking_Uid__c") == {}
    assert doubles(sf, "Contact", "Email") == {}
    keys = {r["Action_Key__c"] for r in query_all(sf, "SELECT Action_Key__c FROM Booking_Action__c")}
    assert keys == {f"api:rel-{n:05d}:Created:0" for n in range(BOOKINGS)}
    assert count(sf, "Booking_Action__c", "Status__c != 'Processed'") == 0
    emails = {r["Id"]: r["Email"] for r in query_all(sf, "SELECT Id, Email FROM Contact")}
    who = {r["Booking_Uid__c"]: emails.get(r["WhoId"]) for r in query_all(sf, "SELECT Booking_Uid__c, WhoId FROM Event")}
    assert who == {f"rel-{n:05d}": attendee_email(n) for n in range(BOOKINGS)}
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
