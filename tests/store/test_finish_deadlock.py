"""Two workers finishing at once, each writing the last sync error of the same two event types in the
opposite order, never deadlock (PostgreSQL would abort one of them: its batch sent again for nothing)."""

from __future__ import annotations

import threading

import pytest

from slotforce.store import Delivery, ItemResult, NewChange

ROUNDS = 12


def change(n: int, event_type: str) -> NewChange:
    return NewChange(f"api:dl-{n}:Created:0", f"dl-{n}", "Created", {"n": n}, event_type=event_type, establishes=True)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_finishes_noting_errors_of_two_event_types_in_opposite_orders_both_commit(open_outbox):
    first, second = open_outbox(), open_outbox()  # two workers: a connection each
    failures: list[BaseException] = []
    for r in range(ROUNDS):
        base = r * 4
        for n, event_type in enumerate(["alpha", "beta", "alpha", "beta"]):
            first.enqueue(Delivery("api", f"dl-{base + n}".encode()), [change(base + n, event_type)])
        lease_a = first.lease("a", limit=2)
        lease_b = second.lease("b", limit=2)
        assert len(lease_a.items) == len(lease_b.items) == 2
        # a's results name alpha then beta; b's beta then alpha: opposite orders of the same two rows
        a_results = [ItemResult.retry(i.id, f"a failed {i.event_type}", "UNABLE_TO_LOCK_ROW")
                     for i in sorted(lease_a.items, key=lambda i: i.event_type)]
        b_results = [ItemResult.retry(i.id, f"b failed {i.event_type}", "UNABLE_TO_LOCK_ROW")
                     for i in sorted(lease_b.items, key=lambda i: i.event_type, reverse=True)]
        start = threading.Barrier(2)

        def finish(outbox, lease, results):
            start.wait()
            try:
                outbox.finish(lease.id, results)
            except BaseException as exc:  # noqa: BLE001 - the test reports it below
                failures.append(exc)

        threads = [threading.Thread(target=finish, args=(first, lease_a, a_results)),
                   threading.Thread(target=finish, args=(second, lease_b, b_results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not failures, failures
        counts = first.counts()
        assert counts["leased"] == 0 and counts["retry_scheduled"] + counts["pending"] == 4 * (r + 1), counts
        first.release(lease_a.id)
    errors = {e.event_type: e.code for e in first.last_sync_errors()}
    assert errors == {"alpha": "UNABLE_TO_LOCK_ROW", "beta": "UNABLE_TO_LOCK_ROW"}


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_transaction_the_database_aborts_for_another_is_run_again_and_one_that_keeps_losing_is_a_lock_refusal(
        open_outbox):
    from psycopg import errors as pg_errors

    from slotforce.store import OutboxUnwritable

    outbox = open_outbox()
    tries: list[int] = []

    def write(tx, losses: int):
        tries.append(1)
        tx.run("write_note", key="note:try", value=str(len(tries)))
        if len(tries) <= losses:
            raise pg_errors.DeadlockDetected("deadlock detected")  # as PostgreSQL aborts the loser
        return len(tries)

    assert outbox._retrying(lambda tx: write(tx, 2)) == 3
    assert outbox.read_note("try") == "3"  # the aborted tries left nothing behind

    tries.clear()
    with pytest.raises(OutboxUnwritable) as refused:  # a webhook is answered 503, not 500
        outbox._retrying(lambda tx: write(tx, 99))
    assert refused.value.cause == "locked" and len(tries) == 5
    assert outbox.read_note("try") == "3"
