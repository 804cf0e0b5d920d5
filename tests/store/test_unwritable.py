"""A full or read-only outbox: the transaction leaves nothing, the error says why, write_problem tells."""

from __future__ import annotations

import pytest

from slotforce.store import Delivery, NewChange, OutboxUnwritable
from slotforce.store.sqlite import SqliteOutbox
from slotforce.testing import fill_disk, free_disk


def change(n: int) -> NewChange:
    return NewChange(dedupe_key=f"api:bk-{n}:Created:0", booking_uid=f"bk-{n}", action="Created",
                     change={"n": n, "padding": "x" * 2000})


def delivery(n: int) -> Delivery:
    return Delivery(source="api", body=b'{"n": %d, "pad": "%s"}' % (n, b"y" * 4000))


def test_a_full_outbox_refuses_the_whole_delivery_and_says_free_space(tmp_path):
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    outbox.enqueue(delivery(1), [change(1)])
    assert outbox.write_problem() is None
    fill_disk(outbox._db)
    with pytest.raises(OutboxUnwritable, match="is full: free space on its volume") as refused:
        outbox.enqueue(delivery(2), [change(2)])
    assert refused.value.cause == "disk_full"
    assert outbox.counts()["deliveries"] == 1 and [i.booking_uid for i in outbox.items()] == ["bk-1"]
    assert outbox.write_problem().cause == "disk_full"

    free_disk(outbox._db)  # space freed
    outbox.enqueue(delivery(2), [change(2)])
    assert outbox.counts()["deliveries"] == 2 and outbox.write_problem() is None


def test_write_problem_probes_without_a_refused_write_and_leaves_nothing(tmp_path):
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    fill_disk(outbox._db)
    assert outbox.write_problem().cause == "disk_full"
    free_disk(outbox._db)
    assert outbox.write_problem() is None
    assert outbox._db.execute("SELECT count(*) FROM meta WHERE key = 'write_probe'").fetchone()[0] == 0


def test_a_read_only_outbox_says_so_and_what_to_do(tmp_path):
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    outbox._db.execute("PRAGMA query_only = ON")  # SQLite answers as for a read-only file
    assert "read-only: make the file" in str(outbox.write_problem())
    with pytest.raises(OutboxUnwritable) as refused:
        outbox.enqueue(delivery(1), [change(1)])
    assert refused.value.cause == "read_only" and outbox.counts()["deliveries"] == 0
