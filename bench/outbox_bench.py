"""The outbox alone: deliveries stored per second, and bookings/s drained by 1, 2 and 4 worker processes,
on PostgreSQL and on SQLite, printed side by side with the targets.

Each worker is a process of its own (its own connection, as on its own host) that leases batches of
100 and "sends" each batch in SEND_SECONDS (Salesforce's share of a batch, simulated, so that the
figures are the outbox's and the scaling with workers shows). PostgreSQL is a throwaway server
started like the tests' (`slotforce.testing.running_postgres`, fsync off: the figures are for the
queue's logic and locking, not the disk).
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from pathlib import Path

from slotforce.store import Delivery, ItemResult, NewChange, open_store
from slotforce.testing import PostgresMissing, running_postgres

BOOKINGS = 2000
BATCH = 100
SEND_SECONDS = 0.05  # one batch's Salesforce calls, simulated
WORKERS = (1, 2, 4)
TARGETS = {"intake": 500.0, "drain": 1000.0}  # per second; 1,000 bookings/s is the scale-out goal


def _changes(n: int) -> list[NewChange]:
    """Booking n's create, and for every fifth a cancel that must wait for it."""
    uid = f"bench-{n:06d}"
    changes = [NewChange(f"api:{uid}:Created:0", uid, "Created", {"n": n}, establishes=True)]
    if n % 5 == 0:
        changes.append(NewChange(f"api:{uid}:Canceled:1", uid, "Canceled", {"n": n}, requires_uid=uid))
    return changes


def _fill(url: str) -> tuple[int, float]:
    """Store BOOKINGS deliveries one by one (as webhooks come); (changes stored, deliveries/s)."""
    outbox = open_store(url)
    started = time.perf_counter()
    stored = sum(len(outbox.enqueue(Delivery("api", f"b{n}".encode()), _changes(n)).item_ids) for n in range(BOOKINGS))
    rate = BOOKINGS / (time.perf_counter() - started)
    outbox.close()
    return stored, rate


def _work(url: str, name: str, done: "multiprocessing.Queue[int]") -> None:
    outbox = open_store(url)
    sent, idle_since = 0, time.monotonic()
    while time.monotonic() - idle_since < 0.5:
        lease = outbox.lease(name, limit=BATCH)
        if not lease.items:
            outbox.wait_for_work(0.05)
            continue
        time.sleep(SEND_SECONDS)
        outbox.finish(lease.id, [ItemResult.done(i.id) for i in lease.items])
        sent += len(lease.items)
        idle_since = time.monotonic()
    outbox.close()
    done.put(sent)


def _drain(url: str, workers: int, total: int) -> float:
    """Changes per second sent by `workers` processes until the outbox is empty."""
    done: multiprocessing.Queue[int] = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_work, args=(url, f"w{i}", done)) for i in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    sent = sum(done.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - started - 0.5  # the last idle half second is not work
    for p in procs:
        p.join()
    assert sent == total, f"{sent} sent of {total}"
    return total / elapsed


def _measure(new_url) -> dict[str, float]:
    figures = {}
    for workers in WORKERS:
        url = new_url()
        total, intake = _fill(url)
        figures.setdefault("intake", intake)
        figures[f"drain x{workers}"] = _drain(url, workers, total)
    return figures


def main() -> None:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = iter(range(100))
        results["SQLite"] = _measure(lambda: f"sqlite:///{Path(tmp) / f'o{next(files)}.db'}")
    try:
        with running_postgres() as server:
            import psycopg

            names = iter(range(100))

            def new_database() -> str:
                name = f"bench{next(names)}"
                with psycopg.connect(server.url(), autocommit=True) as admin:
                    admin.execute(f"CREATE DATABASE {name}")
                return server.url(name)

            results["PostgreSQL"] = _measure(new_database)
    except PostgresMissing as missing:
        print(f"PostgreSQL skipped: {missing}")
    rows = ["intake"] + [f"drain x{w}" for w in WORKERS]
    print(f"{BOOKINGS} bookings ({BOOKINGS + BOOKINGS // 5} changes), batches of {BATCH}, "
          f"{SEND_SECONDS * 1000:.0f} ms simulated Salesforce time per batch; per second:")
    print(f"{'':<12}" + "".join(f"{name:>12}" for name in results) + f"{'target':>10}")
    for row in rows:
        target = TARGETS["intake" if row == "intake" else "drain"]
        unit = "deliveries" if row == "intake" else "changes"
        print(f"{row:<12}" + "".join(f"{results[b][row]:>12.0f}" for b in results) + f"{target:>10.0f}  {unit}")


if __name__ == "__main__":
    main()
