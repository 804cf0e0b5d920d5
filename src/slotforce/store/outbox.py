"""The outbox interface every backend implements (SQLite now; PostgreSQL can follow).

Rules every backend keeps:

- `enqueue` writes the raw delivery and its changes in one transaction; acknowledge the webhook
  only after it returns. A repeated delivery stores nothing new (dedupe by `NewChange.dedupe_key`).
- Per booking, changes are handed out in arrival order, one at a time: a change is not leased while
  an earlier change of the same booking (same uid, or linked through a reschedule's previous uid) is
  pending or leased. The one exception is the booking's create, which overtakes changes that wait
  for it.
- A change that needs its booking's create (`requires_uid`) is not leased until a change that
  establishes that uid is done; after `create_wait` without one it is parked with a reason.
- `lease` hands out at most `limit` ready items for `lease_for`; if the worker dies, the lease
  expires and the items are handed out again (Salesforce upserts by Action_Key__c make a re-send
  harmless). Every lease counts as an attempt (backoff grows with it); an item whose lease expired
  `max_attempts` times is failed, so a payload that kills the worker cannot stall the queue.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slotforce.store.models import (
    Delivery,
    FinishReport,
    ItemResult,
    Lease,
    NewChange,
    OutboxItem,
    Receipt,
    SyncError,
    TraceEntry,
)

DEFAULT_BATCH = 200
DEFAULT_LEASE = timedelta(minutes=2)
# How long a cancel/reschedule/no-show waits for its booking's create before it is parked.
DEFAULT_CREATE_WAIT = timedelta(minutes=15)


class Outbox(abc.ABC):
    """Durable queue of booking changes between the webhook intake and the sync worker."""

    # -- intake ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def enqueue(self, delivery: Delivery, changes: Sequence[NewChange], *, now: datetime | None = None) -> Receipt:
        """Store the raw delivery and its changes in one transaction."""

    # -- worker ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def lease(
        self,
        worker: str,
        *,
        limit: int = DEFAULT_BATCH,
        lease_for: timedelta = DEFAULT_LEASE,
        now: datetime | None = None,
    ) -> Lease:
        """Hand out up to `limit` ready items (oldest first) to `worker` until the lease expires."""

    @abc.abstractmethod
    def finish(self, lease_id: str, results: Iterable[ItemResult], *, now: datetime | None = None) -> FinishReport:
        """Record how each leased item went, in one transaction."""

    @abc.abstractmethod
    def release(self, lease_id: str, item_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
        """Hand a lease's unsent items (default: all still leased) back to the queue at once.

        For a worker that stops before sending: not an attempt, not an error. Returns how many.
        """

    # -- operator -------------------------------------------------------------------------------
    @abc.abstractmethod
    def replay(self, item_id: int, *, now: datetime | None = None) -> OutboxItem:
        """Move a failed or parked item back to pending, to be sent at once (even without its create)."""

    @abc.abstractmethod
    def get(self, item_id: int) -> OutboxItem: ...

    @abc.abstractmethod
    def items(self, *, states: Sequence[str] | None = None, booking_uid: str | None = None, limit: int = 50) -> list[OutboxItem]:
        """Most recently updated first."""

    @abc.abstractmethod
    def counts(self, *, now: datetime | None = None) -> dict[str, int]:
        """Queue depth by state, with pending split into due and scheduled (waiting for a retry time)."""

    @abc.abstractmethod
    def delivery_body(self, delivery_id: int) -> bytes: ...

    # -- traces and errors ----------------------------------------------------------------------
    @abc.abstractmethod
    def record_trace(
        self,
        booking_uid: str,
        steps: list[Any],
        *,
        action_key: str | None = None,
        item_id: int | None = None,
        now: datetime | None = None,
    ) -> None:
        """Keep the decision steps (JSON-able) of one change of a booking; `finish` does it for traced results."""

    @abc.abstractmethod
    def traces(self, booking_uid: str) -> list[TraceEntry]:
        """Oldest first."""

    @abc.abstractmethod
    def record_sync_error(
        self,
        event_type: str | None,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        item_id: int | None = None,
        now: datetime | None = None,
    ) -> None:
        """Remember the last sync error for an event type (failures record theirs automatically)."""

    @abc.abstractmethod
    def last_sync_errors(self) -> list[SyncError]: ...

    @abc.abstractmethod
    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Delete done items (with their traces and raw deliveries) last changed before now - older_than;
        failed and parked items are kept whatever their age. Returns how many items went."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
