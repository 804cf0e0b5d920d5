"""The plain data that goes in and out of the outbox. No booking model here: changes are JSON.

The store knows only what ordering needs: which booking uid a change belongs to, which uid must
have been created first, and whether the change itself creates its uid. The caller (the webhook
intake) fills those from the booking model, so the store stays independent of sources and sync.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class State(str, enum.Enum):
    PENDING = "pending"  # waiting to be leased (maybe not before `available_at`, maybe behind its create)
    LEASED = "leased"  # handed to a worker until `lease_expires_at`; then pending again in effect
    DONE = "done"  # sent; the outcome (Salesforce ids, status) is kept
    FAILED = "failed"  # permanent failure, kept with its reason; `replay(id)` sends it again
    PARKED = "parked"  # waited too long for the booking's create; `replay(id)` sends it anyway


UNFINISHED = (State.PENDING.value, State.LEASED.value)

# Actions that can happen more than once for one booking uid (a host marks a no-show, clears it,
# marks it again). Their order is when they happened, not when their webhooks arrived. Mirrors
# slotforce.sync.booking (whose `sequence` for these is the webhook's time in epoch ms); the store
# keeps its own copy because it must not import the engine.
REPEATABLE_ACTIONS = frozenset({"No_Show", "No_Show_Cleared", "Completed"})

# The org of a single-org slotforce.yml (no `orgs:` block), and of every row stored before orgs existed.
DEFAULT_ORG = "default"

# The error code of a spent daily API budget: such items wait for the budget, they are not retried.
BUDGET_SPENT = "REQUEST_LIMIT_EXCEEDED"


def utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc)


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery (or ingested file) exactly as it arrived."""

    source: str
    body: bytes
    content_type: str | None = None
    note: str | None = None  # e.g. why a delivery yielded no change (an event slotforce does not sync)
    org: str = DEFAULT_ORG  # whose webhook it is: dedupe, order and identity are per org


@dataclass(frozen=True)
class NewChange:
    """One booking change to queue.

    `dedupe_key` identifies the change across repeated deliveries (Action_Key__c:
    `{source}:{booking_uid}:{action}:{sequence}`). `requires_uid` is the booking uid whose create must
    be done before this change is handed out (None for a create); `establishes` says this change
    creates `booking_uid` (a create, or a reschedule that moves a booking to a new uid).
    """

    dedupe_key: str
    booking_uid: str
    action: str
    change: dict[str, Any]
    previous_booking_uid: str | None = None
    requires_uid: str | None = None
    establishes: bool = False
    event_type: str | None = None
    # When a repeatable change happened (any increasing number, e.g. epoch ms). None: taken from
    # the change's `sequence` for REPEATABLE_ACTIONS, else the change is ordered by arrival.
    repeat_order: int | None = None
    # Whom a repeatable change is about (e.g. the attendees a no-show names; None: the whole booking):
    # a newer change supersedes an older one of the same scope only.
    repeat_scope: str | None = None

    def happened_order(self) -> int | None:
        """The order among this booking's repeatable changes, or None for a change that happens once."""
        if self.repeat_order is not None:
            return self.repeat_order
        sequence = self.change.get("sequence") if self.action in REPEATABLE_ACTIONS else None
        return sequence if isinstance(sequence, int) and not isinstance(sequence, bool) else None


@dataclass(frozen=True)
class Receipt:
    """What `enqueue` stored: safe to acknowledge the webhook once you hold one."""

    delivery_id: int
    repeated_delivery: bool  # the same body from the same source was stored before
    item_ids: tuple[int, ...]  # ids of the changes, new or already queued by an earlier delivery
    duplicate_item_ids: tuple[int, ...]  # the subset that an earlier delivery had already queued
    note: str | None = None  # the delivery's note, e.g. why it yielded no change

    @property
    def queued_new(self) -> bool:
        """Whether this delivery queued a change no earlier delivery had (so a worker has work)."""
        return len(self.duplicate_item_ids) < len(self.item_ids)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    delivery_id: int
    dedupe_key: str
    source: str
    booking_uid: str
    previous_booking_uid: str | None
    action: str
    event_type: str | None
    state: State
    attempts: int
    change: dict[str, Any]
    available_at: datetime
    created_at: datetime
    updated_at: datetime
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    last_error_code: str | None = None
    outcome: dict[str, Any] | None = None
    org: str = DEFAULT_ORG


@dataclass(frozen=True)
class Lease:
    """A batch handed to one worker. Finish it before `expires_at` or it is handed out again."""

    id: str
    worker: str
    expires_at: datetime
    items: tuple[OutboxItem, ...]

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class ItemResult:
    """How sending one leased item went. Build with `done`, `retry`, `wait` or `failed`."""

    item_id: int
    kind: str  # "done" | "retry" | "wait" | "failed"
    outcome: dict[str, Any] | None = None
    error: str | None = None
    code: str | None = None
    retry_at: datetime | None = None
    trace: list[Any] | None = None
    details: dict[str, Any] | None = None

    @classmethod
    def done(cls, item_id: int, outcome: dict[str, Any] | None = None, *, trace: list[Any] | None = None) -> "ItemResult":
        """Sent. `outcome` holds what Salesforce answered, e.g. {"id": "a00...", "status": "Processed"}."""
        return cls(item_id, "done", outcome=outcome or {}, trace=trace)

    @classmethod
    def retry(
        cls,
        item_id: int,
        error: str,
        code: str | None = None,
        *,
        retry_at: datetime | None = None,
        trace: list[Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> "ItemResult":
        """A transient failure: try again at `retry_at` or, if None, after the store's backoff."""
        return cls(item_id, "retry", error=error, code=code, retry_at=retry_at, trace=trace, details=details)

    @classmethod
    def wait(cls, item_id: int, error: str, code: str | None, *, retry_at: datetime,
             trace: list[Any] | None = None, details: dict[str, Any] | None = None) -> "ItemResult":
        """Not tried on its merits (Salesforce refused every call, e.g. the daily API budget is spent):
        back to the queue at `retry_at`; the lease does not count as an attempt, so a wait of any
        length never turns into a permanent failure."""
        return cls(item_id, "wait", error=error, code=code, retry_at=retry_at, trace=trace, details=details)

    @classmethod
    def failed(
        cls,
        item_id: int,
        error: str,
        code: str | None = None,
        *,
        trace: list[Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> "ItemResult":
        """A permanent failure: kept with its reason until someone replays it."""
        return cls(item_id, "failed", error=error, code=code, trace=trace, details=details)

    @classmethod
    def transient_or_failed(cls, item_id: int, error: str, code: str | None = None, *, transient: bool,
                            **kw: Any) -> "ItemResult":
        """`retry` or `failed`. (Not named `error`: that is a field, and a method of that name would
        become the field's default.)"""
        return cls.retry(item_id, error, code, **kw) if transient else cls.failed(item_id, error, code, **kw)


@dataclass(frozen=True)
class FinishReport:
    applied: tuple[int, ...] = ()
    stale: tuple[int, ...] = ()  # not in this lease any more (finished or re-leased by someone else)
    gave_up: tuple[int, ...] = ()  # transient failures past max_attempts, now failed


@dataclass(frozen=True)
class HeldLease:
    """Items a worker holds right now; once `expires_at` passes they are handed out again."""

    lease_id: str
    worker: str
    items: int
    expires_at: datetime


@dataclass(frozen=True)
class BudgetWait:
    """Items waiting because Salesforce's daily API budget was spent; the earliest is tried at `next_try_at`."""

    items: int
    next_try_at: datetime


@dataclass(frozen=True)
class LastSyncError:
    """The last thing that went wrong for an event type (like Cal.com's lastSyncError), as the outbox keeps it."""

    event_type: str
    code: str | None
    message: str
    at: datetime
    item_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    org: str = DEFAULT_ORG


@dataclass(frozen=True)
class TraceEntry:
    booking_uid: str
    item_id: int | None
    at: datetime
    steps: list[Any]
    action_key: str | None = None
    org: str = DEFAULT_ORG
