"""The org's clock: wall time (real-time mode, optionally shifted) or a time that moves only when told.

Everything time-dependent in the org reads `org.clock()` — CreatedDate, TODAY in SOQL, $Flow.CurrentDateTime
and when scheduled flow paths fall due — so moving this clock (POST /__localorg__/clock) moves the
org's whole idea of now.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from slotforce.localorg.values import format_datetime_seconds


class OrgClock:
    """Callable: `clock()` is now (aware, UTC). Real time by default; `set` freezes, `advance` moves."""

    def __init__(self, source: Callable[[], dt.datetime] | None = None) -> None:
        self._source = source or (lambda: dt.datetime.now(dt.timezone.utc))
        self._offset = dt.timedelta(0)
        self._frozen: dt.datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return self._source() + self._offset

    @property
    def mode(self) -> str:
        return "frozen" if self._frozen is not None else "real"

    def set(self, when: dt.datetime) -> None:
        """Stop the clock at `when` (it then moves only with `advance`)."""
        if when.tzinfo is None:
            raise ValueError("the time must carry a time zone (Z or +hh:mm)")
        with self._lock:
            self._frozen = when.astimezone(dt.timezone.utc)

    def advance(self, by: dt.timedelta) -> None:
        """Move now forward (the clock keeps running in real-time mode)."""
        if by < dt.timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            if self._frozen is not None:
                self._frozen += by
            else:
                self._offset += by

    def run_in_real_time(self) -> None:
        """Let the clock run from where it is now (an earlier shift kept)."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - self._source()
                self._frozen = None

    def to_json(self) -> dict:
        return {"now": format_datetime_seconds(self()), "mode": self.mode}
