"""policy.py's crash rules as pure functions: an expired lease is not an attempt, batches split, only an item held alone fails."""

from __future__ import annotations

from slotforce.store import policy


def row(expired_leases: int = 0, attempts: int = 1) -> dict:
    return {"expired_leases": expired_leases, "attempts": attempts}


def test_an_expired_lease_gives_its_attempt_back_and_is_counted():
    expiry = policy.expired_lease(row(expired_leases=0, attempts=3), held=8, max_attempts=3)
    assert (expiry.expired_leases, expiry.attempts, expiry.decision) == (1, 2, None)
    assert policy.expired_lease(row(attempts=0), held=1, max_attempts=3).attempts == 0  # never below zero


def test_an_item_that_shared_the_crashed_lease_is_never_failed_for_it():
    assert policy.expired_lease(row(expired_leases=10), held=2, max_attempts=3).decision is None


def test_an_item_held_alone_fails_after_max_attempts_expiries():
    assert policy.expired_lease(row(expired_leases=1), held=1, max_attempts=3).decision is None
    decision = policy.expired_lease(row(expired_leases=2), held=1, max_attempts=3).decision
    assert decision is not None and decision.verdict is policy.Verdict.LEASE_EXPIRED
    assert decision.code == policy.LEASE_EXPIRED_REPEATEDLY and "holding it alone" in decision.reason


def test_batches_of_items_back_from_expired_leases_halve_down_to_one():
    assert [policy.batch_cap(8, row(expired_leases=n)) for n in range(6)] == [8, 4, 2, 1, 1, 1]


def test_an_item_joins_a_lease_only_if_the_lease_still_fits_its_cap():
    assert policy.narrowed_cap(8, 0, 8, row(expired_leases=2)) == 2  # it narrows the lease
    assert policy.narrowed_cap(8, 3, 8, row(expired_leases=2)) is None  # three chosen already: it waits
    assert policy.narrowed_cap(2, 1, 8, row()) == 2  # a fresh item keeps the narrowed cap
    assert policy.narrowed_cap(2, 2, 8, row()) is None
