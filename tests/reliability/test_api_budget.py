"""A spent daily API budget: work waits in the outbox, nothing fails, and it resumes after the reset.

Salesforce refuses every call with REQUEST_LIMIT_EXCEEDED (403) once the org's rolling 24-hour
request budget is spent; it frees up only as the day rolls on, so the wait can be many hours.
The outbox's clock is compressed here (retries due within 0.2 s instead of 15 min), so a few
seconds of a spent budget are longer, in attempts, than the whole production backoff schedule
(12 attempts: about 3 hours); that is the point of the second test: a day without budget must not
turn queued bookings into permanent failures. The worker probes the budget every 0.2 s here
(`outbox.budget_probe_seconds`, 5 minutes in production) and a refusal is not an attempt.
"""

from __future__ import annotations

import time

import pytest

from reliability_kit import COMPRESSED, COMPRESSED_BACKOFF, body, count, created, doubles, drain_until_settled, \
    open_outbox, settings_for, unfinished
from slotforce.service.worker import Worker
from slotforce.sources import receive

BOOKINGS = 600
BATCH = 200


def control(org, path: str, payload: dict | None = None) -> dict:
    """The org's control routes over HTTPS, as an operator or another process would use them."""
    s = org.session()
    answer = s.post(f"{org.instance_url}/__localorg__/{path}", json=payload or {},
                    headers={"Authorization": f"Bearer {org.access_token}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()


@pytest.fixture
def budget_org(org):
    yield org
    org.set_api_budget(used=0)  # a fresh day for whoever uses the org next


def spend_budget_after(org, calls: int) -> None:
    """Late in the day: only `calls` requests left of the org's daily budget."""
    daily_max = org.stats()["api_usage"]["max"]
    control(org, "budget", {"used": daily_max - calls})


def queue_bookings(tmp_path):
    outbox = open_outbox(tmp_path / "outbox.db")
    for i in range(0, BOOKINGS, BATCH):
        receive(outbox, "api", body([created(n) for n in range(i, i + BATCH)]), {}, secrets=None, verify=False)
    return outbox


def run_for(worker: Worker, seconds: float) -> int:
    """Worker passes for `seconds` of wall time (the compressed retries come due many times over)."""
    passes = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if worker.run_once().leased:
            passes += 1
        else:
            time.sleep(0.02)
    return passes


def assert_all_landed_once(org, outbox) -> None:
    counts = outbox.counts()
    assert counts["done"] == BOOKINGS and counts["failed"] == 0, (
        counts, {(i.last_error_code, i.last_error, i.attempts)
                 for i in outbox.items(states=["failed"], limit=BOOKINGS)})
    sf = org.client()
    assert count(sf, "Booking_Action__c") == count(sf, "Event") == count(sf, "Contact") == BOOKINGS
    assert doubles(sf, "Booking_Action__c", "Action_Key__c") == {} and doubles(sf, "Contact", "Email") == {}


@pytest.mark.timeout(60)
def test_a_budget_spent_mid_run_holds_the_work_until_it_is_reset(budget_org, tmp_path):
    org = budget_org
    outbox = queue_bookings(tmp_path)
    spend_budget_after(org, 5)  # batch 1 goes through (describe, fetch, Contacts, actions); batch 2 is refused
    worker = Worker(outbox, settings_for(org), org.client, name="budget", batch_size=BATCH, timing=COMPRESSED)
    # run until batch 1 is done and the rest has been refused at least twice (well inside the schedule)
    deadline = time.monotonic() + 20
    refused = 0
    while not (outbox.counts()["done"] == BATCH and refused >= 2 * (BOOKINGS - BATCH)):
        assert time.monotonic() < deadline, outbox.counts()
        report = worker.run_once()
        refused += report.waiting
        if not report.leased:
            time.sleep(0.02)
    counts = outbox.counts()
    assert counts["done"] == BATCH, counts
    assert counts["failed"] == 0 and unfinished(outbox) == BOOKINGS - BATCH, counts
    waiting = outbox.items(states=["pending"], limit=BOOKINGS)
    assert {i.last_error_code for i in waiting} == {"REQUEST_LIMIT_EXCEEDED"}
    assert {i.attempts for i in waiting} == {0}  # waiting for the budget is not trying

    usage = control(org, "budget/reset")
    assert usage["used"] == 0
    drain_until_settled(worker, outbox, deadline_s=30)
    assert_all_landed_once(org, outbox)
    outbox.close()


@pytest.mark.timeout(60)
def test_a_budget_spent_longer_than_the_backoff_schedule_fails_nothing(budget_org, tmp_path):
    org = budget_org
    outbox = queue_bookings(tmp_path)
    spend_budget_after(org, 0)
    worker = Worker(outbox, settings_for(org), org.client, name="budget", batch_size=BATCH, timing=COMPRESSED)
    # far more than 12 compressed retry times (the whole schedule is under 2 s here)
    schedule = sum(COMPRESSED_BACKOFF.step(n) for n in range(1, COMPRESSED_BACKOFF.max_attempts + 1))
    probes = run_for(worker, 2 * schedule + 1)
    assert probes > COMPRESSED_BACKOFF.max_attempts  # refused more often than the whole retry schedule allows
    counts = outbox.counts()
    assert counts["failed"] == 0, (
        f"{counts['failed']} queued booking(s) failed permanently while the API budget was spent: "
        f"{outbox.items(states=['failed'], limit=1)[0].last_error}")
    assert unfinished(outbox) == BOOKINGS
    waiting = outbox.items(states=["pending"], limit=BOOKINGS)
    assert {(i.last_error_code, i.attempts) for i in waiting} == {("REQUEST_LIMIT_EXCEEDED", 0)}  # never an attempt

    control(org, "budget/reset")
    drain_until_settled(worker, outbox, deadline_s=30)
    assert_all_landed_once(org, outbox)
    outbox.close()
