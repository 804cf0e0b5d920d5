"""What became of one booking change (`Outcome`, its trace on it), and what the engine reports beside it.

Traces travel on outcomes: whoever keeps outcomes (the outbox, with `finish`) keeps their traces.
The one thing an outcome's verdict does not say is that a change went through *without* some of
its mapped fields; the engine reports that to an `ErrorSink` (the outbox's last sync error per
event type, like Cal.com's lastSyncError).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from slotforce.sync.booking import BookingChange
from slotforce.sync.plan import BookingPlan
from slotforce.sync.trace import Trace
from slotforce.sync.writes import Dropped


class OutcomeStatus(enum.StrEnum):
    PROCESSED = "processed"  # the Flows processed the Booking Action
    PENDING = "pending"  # written (or about to be); the Flows have not processed the Booking Action yet
    FAILED = "failed"  # see error_code, error and transient
    SKIPPED = "skipped"  # nothing to write for this change; error says why


@dataclass
class Outcome:
    """What happened to one booking change."""

    change: BookingChange
    status: OutcomeStatus
    event_type: str = "default"
    booking_action_id: str | None = None
    event_id: str | None = None
    who_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    transient: bool = False  # retrying later may succeed
    dropped: list[Dropped] = field(default_factory=list)
    plan: BookingPlan | None = None

    @property
    def action_key(self) -> str:
        return self.change.action_key

    @property
    def trace(self) -> Trace:
        return self.plan.trace if self.plan else Trace()

    def fail(self, code: str, message: str | None, *, transient: bool = False) -> None:
        self.status, self.error_code, self.error, self.transient = OutcomeStatus.FAILED, code, message, transient


@dataclass(frozen=True)
class DroppedFieldsReport:
    """Mapped fields a change was written without (the booking itself may have gone through)."""

    event_type: str
    booking_uid: str
    fields: tuple[str, ...]
    code: str  # FIELDS_DROPPED, or the error of a change that failed besides
    message: str


class ErrorSink(Protocol):
    """Where the engine reports dropped fields; the worker's is the outbox."""

    def fields_dropped(self, report: DroppedFieldsReport) -> None: ...
