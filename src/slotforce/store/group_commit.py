"""Group commit: deliveries that arrive while a commit is in flight are stored together, in one transaction.

A durable commit costs one fsync (SQLite, `synchronous=FULL`) or one round trip (PostgreSQL)
whatever it holds, so one writer thread takes whatever has queued up since its last commit and
stores it with `Outbox.enqueue_many`. Nothing waits on purpose: an idle writer commits a lone
delivery at once, and a busy one gathers exactly what arrived during the commit before. Each
caller holds a future that resolves only after the transaction holding ITS delivery committed, so
"acknowledged only after it is durably stored" holds for every delivery of a group.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from slotforce.store.errors import StoreError
from slotforce.store.models import Delivery, NewChange, Receipt
from slotforce.store.outbox import Outbox

log = logging.getLogger("slotforce.store")

# Deliveries per transaction at most: a burst is committed in a few transactions rather than one
# long one that holds the write lock (and the worker's finish) for long.
MAX_GROUP = 64

_Entry = tuple[Delivery, Sequence[NewChange], "Future[Receipt]"]


class GroupCommit:
    """`submit(delivery, changes)` -> a future of its `Receipt` (or its exception); `close()` drains and stops."""

    def __init__(self, outbox: Outbox, *, max_group: int = MAX_GROUP) -> None:
        self.outbox = outbox
        self.max_group = max_group
        self.groups = 0  # transactions committed (or refused): deliveries / groups is the gain
        self.deliveries = 0
        self._queue: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="slotforce-intake-commit", daemon=True)
        self._thread.start()

    def submit(self, delivery: Delivery, changes: Sequence[NewChange]) -> Future[Receipt]:
        future: Future[Receipt] = Future()
        if self._closed:
            future.set_exception(StoreError("the intake is stopping: send the delivery again"))
        else:
            self._queue.put((delivery, changes, future))
        return future

    @property
    def waiting(self) -> int:
        """Deliveries submitted and not yet in a transaction (approximate while they arrive)."""
        return self._queue.qsize()

    def enqueue(self, delivery: Delivery, changes: Sequence[NewChange]) -> Receipt:
        """Blocking `submit` (for callers on a thread of their own)."""
        return self.submit(delivery, changes).result()

    def close(self, timeout: float = 30.0) -> None:
        """Commit what was submitted, then stop the writer."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            group = [first]
            while len(group) < self.max_group:
                try:
                    entry = self._queue.get_nowait()
                except queue.Empty:
                    break
                if entry is None:
                    stopping = True
                    break
                group.append(entry)
            self._commit(group)

    def _commit(self, group: list[_Entry]) -> None:
        self.groups += 1
        self.deliveries += len(group)
        try:
            answers = self.outbox.enqueue_many([(delivery, changes) for delivery, changes, _ in group])
        except Exception as exc:  # the storage refused the transaction: none of the group is stored
            for _, _, future in group:
                future.set_exception(exc)
            return
        except BaseException as exc:  # never leave a caller waiting forever
            for _, _, future in group:
                future.set_exception(StoreError(f"the intake writer stopped: {exc!r}"))
            raise
        for (_, _, future), answer in zip(group, answers):
            if isinstance(answer, Exception):
                log.error("storing one delivery of a group failed: %r", answer)
                future.set_exception(answer)
            else:
                future.set_result(answer)
