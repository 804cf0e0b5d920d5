"""A process that uses the outbox until it is killed (run by test_crash.py, never by pytest itself).

    python crash_child.py produce DB START COUNT   enqueue deliveries START..COUNT-1 (50 changes each),
                                                   printing "acked N" after each commit
    python crash_child.py work DB SENT_LOG         lease batches and "send" each item (append its key
                                                   to SENT_LOG, fsync), finishing one item at a time
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

from slotforce.store import Delivery, ItemResult, NewChange
from slotforce.store.sqlite import SqliteOutbox

CHANGES_PER_DELIVERY = 50


def changes_for(n: int) -> list[NewChange]:
    return [
        NewChange(
            dedupe_key=f"calcom:d{n}-b{i}:Created:0",
            booking_uid=f"d{n}-b{i}",
            action="Created",
            change={"n": n, "i": i, "padding": "x" * 200},
            establishes=True,
        )
        for i in range(CHANGES_PER_DELIVERY)
    ]


def produce(db: str, start: int, count: int) -> None:
    outbox = SqliteOutbox(db)
    for n in range(start, count):
        outbox.enqueue(Delivery("calcom", f"delivery {n}".encode()), changes_for(n))
        # Only now may the webhook be acknowledged.
        print(f"acked {n}", flush=True)


def work(db: str, sent_log: str) -> None:
    outbox = SqliteOutbox(db)
    with open(sent_log, "a", encoding="utf-8") as log:
        while True:
            lease = outbox.lease("child", limit=200, lease_for=timedelta(seconds=1))
            if not lease.items:
                print("drained", flush=True)
                time.sleep(0.05)
                continue
            print(f"leased {len(lease.items)}", flush=True)
            for item in lease.items:
                # "Salesforce" receives the upsert first; the store learns of it after.
                log.write(item.dedupe_key + "\n")
                log.flush()
                os.fsync(log.fileno())
                outbox.finish(lease.id, [ItemResult.done(item.id, {"id": f"a00{item.id}"})])
                print(f"sent {item.dedupe_key}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "produce":
        produce(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "work":
        work(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {mode}")
