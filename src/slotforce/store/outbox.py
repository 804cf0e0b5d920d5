"""The outbox interface: what the service and the worker use, whichever backend is behind it.

Rules every backend keeps:

- `enqueue` writes the raw delivery and its changes in one transaction; acknowledge the webhook
  only after it returns. A repeated delivery stores nothing new (dedupe by `NewChange.dedupe_key`).
- Per booking, changes are handed out in arrival order, one at a time: a change is not leased while
  an earlier change of the same booking (same uid, or linked through a reschedule's previous uid) is
  pending or leased. The one exception is the booking's create, which overtakes changes that wait
  for it.
- Repeatable changes of one uid (No_Show, No_Show_Cleared, Completed) go in the order they happened
  (`NewChange.happened_order()`), not the order they arrived; one that arrives after a change of
  the same uid that happened later was already sent is finished as done, skipped as superseded
  (with a trace), because sending it would undo the newer one.
- A change that needs its booking's create (`requires_uid`) is not leased until a change that
  establishes that uid is done; after `create_wait` without one it is parked with a reason.
- `lease` hands out at most `limit` ready items for `lease_for`; if the worker dies, the lease
  expires and the items are handed out again (Salesforce upserts by Action_Key__c make a re-send
  harmless). A lease counts as an attempt once it ends with a result (backoff grows with it); an
  expired one is given back, and its items go out again in smaller batches (halves, down to one).
  An item whose lease expired `max_attempts` times, the last time held alone, is failed, so a
  payload that kills the worker cannot stall the queue and its batch-mates are not blamed.
- `renew` extends a lease before each Salesforce call; it fails with `LeaseLost` once any item has
  gone to another worker, and the worker then stops writing that batch.
- `enqueue_many` is `enqueue` for several deliveries in one transaction (one commit, one fsync):
  each is stored or not on its own (a savepoint each), except that a refusal of the storage
  stores none of them.
- A transaction the storage refuses (disk full, read-only file, lock held too long) raises
  `OutboxUnwritable` and leaves nothing behind; `write_problem` says whether writing works now.
- A `wait` result (the API budget is spent) puts the item back at its time without counting the
  attempt: waiting for the budget never turns into a permanent failure.
- Items carry their org (`Delivery.org`; `DEFAULT_ORG` for a single-org deployment). A booking is an
  (org, uid): dedupe, order, supersede and create waits never look across orgs; last sync errors,
  budget holds and the operator's reads take an `org` (None: every org's).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slotforce.store.errors import OutboxUnwritable
from slotforce.store.models import (
    DEFAULT_ORG,
    BudgetWait,
    Delivery,
    FinishReport,
    HeldLease,
    ItemResult,
    Lease,
    NewChange,
    OutboxItem,
    Receipt,
    LastSyncError,
    TraceEntry,
)

DEFAULT_BATCH = 200
DEFAULT_LEASE = timedelta(minutes=2)
# How long a cancel/reschedule/no-show waits for its booking's create before it is parked.
DEFAULT_CREATE_WAIT = timedelta(minutes=15)
# How long changes wait after Salesforce refused a call for the daily API budget. The budget is a
# rolling 24-hour window, so there is no reset time to wait for: the next batch after this is the probe.
DEFAULT_BUDGET_PROBE = timedelta(minutes=5)


@dataclass(frozen=True)
class Activity:
    """What went through the outbox since a time, per minute and event type (`Outbox.activity`).

    `minutes`: (minute start, event type, accepted, landed, failed) for minutes with any of them:
    accepted = changes stored (created_at), landed = done with the Booking Action in Salesforce
    (outcome processed or pending; skipped changes are not), failed = failed for good (updated_at).
    `unfinished`: event type -> (pending or leased changes, when the oldest of them arrived).
    """

    minutes: list[tuple[datetime, str, int, int, int]] = field(default_factory=list)
    unfinished: dict[str, tuple[int, datetime]] = field(default_factory=dict)


class Outbox(abc.ABC):
    """Durable queue of booking changes between the webhook intake and the sync worker."""

    # -- intake ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def enqueue(self, delivery: Delivery, changes: Sequence[NewChange], *, now: datetime | None = None) -> Receipt:
        """Store the raw delivery and its changes in one transaction."""

    @abc.abstractmethod
    def enqueue_many(self, deliveries: Sequence[tuple[Delivery, Sequence[NewChange]]], *,
                     now: datetime | None = None) -> list[Receipt | Exception]:
        """Store several deliveries in one transaction (group commit): one answer per delivery, in order.

        A delivery that fails on its own (an error that is not the storage refusing) is that delivery's
        answer, an exception, and leaves the others stored. A refusal of the storage (`OutboxUnwritable`)
        raises, and none of the group is stored.
        """

    # -- worker ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def lease(
        self,
        worker: str,
        *,
        limit: int = DEFAULT_BATCH,
        lease_for: timedelta = DEFAULT_LEASE,
        org: str | None = None,
        now: datetime | None = None,
    ) -> Lease:
        """Hand out up to `limit` ready items (oldest first) to `worker` until the lease expires;
        only `org`'s when given (a worker leasing fairly takes the orgs in turn, see `due_orgs`)."""

    @abc.abstractmethod
    def due_orgs(self, *, now: datetime | None = None) -> dict[str, int]:
        """{org: how many of its items could be handed out now}, for orgs that have any."""

    @abc.abstractmethod
    def finish(self, lease_id: str, results: Iterable[ItemResult], *, now: datetime | None = None) -> FinishReport:
        """Record how each leased item went, in one transaction."""

    @abc.abstractmethod
    def renew(self, lease_id: str, lease_for: timedelta = DEFAULT_LEASE, *, items: int | None = None,
              now: datetime | None = None) -> datetime:
        """Extend a lease to now + `lease_for` and return the new expiry.

        Raises `LeaseLost` when none of its items is still held, or fewer than `items` (some were
        handed to another worker after the lease ran out). Items finished under the lease count as lost,
        so renew before writing, not after finishing.
        """

    @abc.abstractmethod
    def hold_queue(self, until: datetime, error: str, code: str, *, org: str | None = None,
                   now: datetime | None = None) -> int:
        """Put every pending item (of `org`, or of every org) due before `until` off until then, with
        this reason (not an attempt).

        For a refusal that is about the org, not the changes (the daily API budget is spent): the
        org's whole queue waits, and `status` says why. Returns how many items were put off.
        """

    @abc.abstractmethod
    def held_leases(self, *, now: datetime | None = None) -> list[HeldLease]:
        """Leases with items still held (including ones past their expiry, not yet handed out again)."""

    @abc.abstractmethod
    def budget_wait(self, *, org: str | None = None, now: datetime | None = None) -> BudgetWait | None:
        """Items waiting for Salesforce's daily API budget, or None when none is."""

    @abc.abstractmethod
    def wait_for_work(self, timeout: float) -> bool:
        """Block until an enqueue (in any process on this store) or `timeout` seconds; True when woken.

        What an idle worker does between looks: it wakes at once when a delivery arrives.
        """

    @abc.abstractmethod
    def claim_job(self, name: str, every: timedelta, *, now: datetime | None = None) -> bool:
        """Claim this period's run of a periodic job (the link sync): True for exactly one caller per
        `every`, whichever process or host asks, so the job runs once per deployment, not once per host."""

    @abc.abstractmethod
    def release(self, lease_id: str, item_ids: Iterable[int] | None = None, *, interrupted: bool = False,
                now: datetime | None = None) -> int:
        """Hand a lease's unsent items (default: all still leased) back to the queue at once.

        For a worker that stops before sending: not an attempt, not an error. Returns how many.
        `interrupted`: the worker gave the whole batch up mid-way (an exception): still not an
        attempt, but counted as an expired lease of each item (smaller batches next, and an item
        that interrupts its worker alone `max_attempts` times fails), as if its worker had died.
        """

    # -- operator -------------------------------------------------------------------------------
    @abc.abstractmethod
    def replay(self, item_id: int, *, now: datetime | None = None) -> OutboxItem:
        """Move a failed or parked item back to pending, to be sent at once (even without its create)."""

    @abc.abstractmethod
    def get(self, item_id: int) -> OutboxItem: ...

    @abc.abstractmethod
    def items(self, *, states: Sequence[str] | None = None, booking_uid: str | None = None, limit: int = 50,
              org: str | None = None) -> list[OutboxItem]:
        """Most recently updated first."""

    @abc.abstractmethod
    def counts(self, *, org: str | None = None, now: datetime | None = None) -> dict[str, int]:
        """Queue depth by state, with pending split into due and scheduled (waiting for a retry time)."""

    @abc.abstractmethod
    def delivery_body(self, delivery_id: int) -> bytes: ...

    @abc.abstractmethod
    def activity(self, since: datetime, *, org: str | None = None) -> Activity:
        """Changes accepted, landed and failed per minute since `since`, and what is unfinished, by event type
        (changes without one under "default"); grouped by the database, for the status page."""

    # -- traces and errors ----------------------------------------------------------------------
    @abc.abstractmethod
    def record_trace(
        self,
        booking_uid: str,
        steps: list[Any],
        *,
        action_key: str | None = None,
        item_id: int | None = None,
        org: str = DEFAULT_ORG,
        now: datetime | None = None,
    ) -> None:
        """Keep the decision steps (JSON-able) of one change of a booking; `finish` does it for traced results."""

    @abc.abstractmethod
    def traces(self, booking_uid: str, *, org: str | None = None) -> list[TraceEntry]:
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
        org: str = DEFAULT_ORG,
        now: datetime | None = None,
    ) -> None:
        """Remember the last sync error for an event type (failures record theirs automatically)."""

    @abc.abstractmethod
    def last_sync_errors(self, *, org: str | None = None) -> list[LastSyncError]: ...

    @abc.abstractmethod
    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Delete done items (with their traces and raw deliveries) last changed before now - older_than;
        failed and parked items are kept whatever their age. Returns how many items went."""

    @abc.abstractmethod
    def write_problem(self) -> OutboxUnwritable | None:
        """Why the outbox cannot write now (a probe write, rolled back, or the last write's failure), or None.

        Answers a question and changes nothing: the probe's transaction is always rolled back.
        """

    @abc.abstractmethod
    def read_note(self, key: str) -> str | None:
        """A small value the service keeps beside the queue (e.g. the describe cache), or None."""

    @abc.abstractmethod
    def write_note(self, key: str, value: str | None) -> None:
        """Keep (or, with None, forget) a small value beside the queue."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
