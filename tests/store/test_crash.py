"""Kill -9 at any point loses and duplicates nothing: a producer mid-enqueue, a worker mid-batch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from slotforce.store import ItemResult, State
from slotforce.store.sqlite import SqliteOutbox

CHILD = str(Path(__file__).with_name("crash_child.py"))
PER_DELIVERY = 50


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, CHILD, *args], stdout=subprocess.PIPE, text=True)


def read_until(proc: subprocess.Popen, lines_wanted: int, prefix: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while len(lines) < lines_wanted and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            lines.append(line.strip())
    return lines


def kill(proc: subprocess.Popen) -> list[str]:
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return rest.splitlines()


def check_integrity(db: Path) -> sqlite3.Connection:
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return raw


@pytest.mark.timeout(60)
def test_producer_killed_mid_enqueue_loses_and_duplicates_nothing(tmp_path):
    db = tmp_path / "outbox.db"
    acked: set[int] = set()
    for round_ in range(3):
        proc = spawn("produce", str(db), "0", "100000")
        # Let it commit a few deliveries, then kill it wherever it is (usually inside a transaction).
        lines = read_until(proc, 5 + 7 * round_, "acked", timeout=20)
        lines += [line for line in kill(proc) if line.startswith("acked")]
        acked |= {int(line.split()[1]) for line in lines}
        raw = check_integrity(db)
        # Every acknowledged delivery is there, and no delivery is there in part.
        per_delivery = dict(raw.execute("SELECT delivery_id, COUNT(*) FROM items GROUP BY delivery_id").fetchall())
        assert set(per_delivery.values()) <= {PER_DELIVERY}
        bodies = {row[0].decode() for row in raw.execute("SELECT body FROM deliveries")}
        assert {f"delivery {n}" for n in acked} <= bodies
        assert len(bodies) <= len(acked) + 1  # at most the one committed just before the kill, unacked
        dupes = raw.execute("SELECT COUNT(*) - COUNT(DISTINCT dedupe_key) FROM items").fetchone()[0]
        assert dupes == 0
        raw.close()
        # The next round starts again from 0: the sender redelivers everything (it never saw acks).
    store = SqliteOutbox(db)
    total = len(acked)
    assert store.counts()["pending"] >= total * PER_DELIVERY
    assert store.counts()["repeated_deliveries"] >= 1
    store.close()


@pytest.mark.timeout(60)
def test_worker_killed_mid_batch_loses_nothing_and_store_duplicates_nothing(tmp_path):
    db = tmp_path / "outbox.db"
    sent_log = tmp_path / "sent.log"
    producer = subprocess.run([sys.executable, CHILD, "produce", str(db), "0", "8"], capture_output=True, text=True, timeout=30)
    assert producer.returncode == 0, producer.stderr
    total = 8 * PER_DELIVERY

    worker = spawn("work", str(db), str(sent_log))
    # Mid-batch: some items sent and finished, maybe one sent only, the rest of the batch not sent.
    assert len(read_until(worker, 20, "sent", timeout=20)) == 20
    kill(worker)

    store = SqliteOutbox(db)
    counts = store.counts()
    assert 0 < counts["done"] < total, counts
    assert counts["leased"] > 0  # the dead worker's batch is still leased...

    # ...until the lease expires; then a new worker picks it up again and finishes the queue.
    later = datetime.now(timezone.utc) + timedelta(seconds=5)
    with open(sent_log, "a", encoding="utf-8") as log:
        for _ in range(10):
            lease = store.lease("restarted", now=later)
            if not lease.items:
                break
            for item in lease.items:
                log.write(item.dedupe_key + "\n")
            store.finish(lease.id, [ItemResult.done(i.id) for i in lease.items], now=later)
    counts = store.counts()
    assert counts["done"] == total and counts["pending"] == counts["leased"] == 0

    sent = Counter(sent_log.read_text().split())
    all_keys = {i.dedupe_key for i in store.items(states=[State.DONE.value], limit=10_000)}
    assert len(all_keys) == total
    assert set(sent) == all_keys  # nothing lost
    # Re-sent at most the one item that was in flight when the worker died (harmless: upsert by key).
    assert sum(n - 1 for n in sent.values()) <= 1
    store.close()
    check_integrity(db).close()
    assert not os.path.exists(str(db) + "-journal")  # WAL, never a rollback journal
