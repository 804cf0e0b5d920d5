"""Group commit (store.GroupCommit over Outbox.enqueue_many), on both backends: deliveries that queue up
during a commit share the next one, each answered after its own commit; one failing alone leaves the
rest; a refusal of the storage stores none of the group."""

from __future__ import annotations

import threading
from concurrent.futures import wait

import pytest

from slotforce.store import Delivery, GroupCommit, NewChange, OutboxUnwritable, Receipt
from slotforce.testing import fill_disk, free_disk


def delivery(n: int, *, size: int = 0) -> tuple[Delivery, list[NewChange]]:
    body = b'{"n": %d, "pad": "%s"}' % (n, b"x" * size)
    change = NewChange(dedupe_key=f"api:bk-{n}:Created:0", booking_uid=f"bk-{n}", action="Created",
                       event_type=None, change={"n": n}, establishes=True)
    return Delivery(source="api", body=body, content_type="application/json"), [change]


class GatedOutbox:
    """The real outbox, with its first group commit held until `release` is set (so others queue up)."""

    def __init__(self, outbox) -> None:
        self.outbox = outbox
        self.entered = threading.Event()
        self.release = threading.Event()
        self._real = outbox.enqueue_many
        self._first = True

    def enqueue_many(self, deliveries, **kw):
        if self._first:
            self._first = False
            self.entered.set()
            assert self.release.wait(10)
        return self._real(deliveries, **kw)


def test_deliveries_arriving_during_a_commit_share_the_next_one_and_are_all_there_after_reopening(open_outbox):
    outbox = open_outbox()
    gated = GatedOutbox(outbox)
    commits = GroupCommit(gated)  # type: ignore[arg-type]
    first = commits.submit(*delivery(0))
    assert gated.entered.wait(10)
    rest = [commits.submit(*delivery(n)) for n in range(1, 11)]
    assert not any(f.done() for f in [first, *rest])  # nothing answered before its commit
    gated.release.set()
    done, _ = wait([first, *rest], timeout=10)
    assert len(done) == 11
    commits.close()
    assert (commits.groups, commits.deliveries) == (2, 11)  # the ten waiting shared one transaction
    receipts = [f.result() for f in [first, *rest]]
    outbox.close()

    reopened = open_outbox()
    for n, receipt in enumerate(receipts):
        assert [reopened.get(i).booking_uid for i in receipt.item_ids] == [f"bk-{n}"]
    assert reopened.counts()["deliveries"] == 11


def test_one_delivery_failing_alone_leaves_the_rest_of_its_group_stored(open_outbox):
    outbox = open_outbox()
    bad = delivery(1)
    bad[1][0] = NewChange(dedupe_key=None, booking_uid="bk-1", action="Created", event_type=None,  # type: ignore[arg-type]
                          change={}, establishes=True)  # NOT NULL: the database refuses this row, not the write
    answers = outbox.enqueue_many([delivery(0), bad, delivery(2)])
    assert isinstance(answers[0], Receipt) and isinstance(answers[2], Receipt)
    assert isinstance(answers[1], Exception) and not isinstance(answers[1], OutboxUnwritable)
    assert outbox.counts()["deliveries"] == 2  # the bad one's raw delivery went with its savepoint
    assert [outbox.get(i).booking_uid for a in (answers[0], answers[2]) for i in a.item_ids] == ["bk-0", "bk-2"]


def test_a_repeated_delivery_inside_one_group_is_stored_once(open_outbox):
    outbox = open_outbox()
    first, again = outbox.enqueue_many([delivery(0), delivery(0)])
    assert not first.repeated_delivery and again.repeated_delivery
    assert again.item_ids == first.item_ids == again.duplicate_item_ids
    assert outbox.counts()["deliveries"] == 1


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_storage_refusal_in_the_middle_of_a_group_fails_every_delivery_of_it_and_stores_none(open_outbox):
    outbox = open_outbox()
    fill_disk(outbox._db, spare_pages=8)  # room for small deliveries, not for a 40 kB one
    assert isinstance(outbox.enqueue_many([delivery(10)])[0], Receipt)  # a small one still fits
    group = [delivery(0), delivery(1), delivery(2, size=40_000), delivery(3)]
    with pytest.raises(OutboxUnwritable) as refused:
        outbox.enqueue_many(group)
    assert refused.value.cause == "disk_full"
    assert outbox.counts()["deliveries"] == 1  # the two before the big one went with the transaction

    commits = GroupCommit(outbox)
    futures = [commits.submit(*d) for d in group]
    wait(futures, timeout=10)
    assert all(isinstance(f.exception(), OutboxUnwritable) for f in futures)
    assert outbox.counts()["deliveries"] == 1

    free_disk(outbox._db)  # the operator made room; the senders retry
    assert all(isinstance(f.result(timeout=10), Receipt) for f in [commits.submit(*d) for d in group])
    assert outbox.counts()["deliveries"] == 5
    commits.close()


def test_a_closed_group_commit_refuses_new_deliveries_after_storing_those_it_had(open_outbox):
    outbox = open_outbox()
    commits = GroupCommit(outbox)
    held = [commits.submit(*delivery(n)) for n in range(5)]
    commits.close()
    assert all(isinstance(f.result(timeout=5), Receipt) for f in held)
    late = commits.submit(*delivery(9))
    assert "stopping" in str(late.exception(timeout=5))
    assert outbox.counts()["deliveries"] == 5
