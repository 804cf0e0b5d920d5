"""Routing trace and sync errors: every decision as a step, kept per booking; last error per event type.

The service keeps traces and errors in the outbox, not here: `Outbox.finish` stores each change's
steps with its outcome, the worker's `OutboxErrorSink` is the engine's `TraceStore`, and
`slotforce trace UID` / `slotforce errors` print from the outbox (store/cli.py).
`MemoryTraceStore`, `SqliteTraceStore`, `render_trace` and `render_errors` serve the engine used on
its own (tests, a script calling `SyncEngine`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol


@dataclass(frozen=True)
class TraceStep:
    """One decision: `step` is a stable name (e.g. account_found_by_website), `detail` the facts."""

    step: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        facts = ", ".join(f"{k}={_short(v)}" for k, v in self.detail.items())
        return f"{self.step}" + (f" ({facts})" if facts else "")


def _short(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_short(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + "]"
    return str(v)


class Trace(list[TraceStep]):
    """The steps of one booking change, in order."""

    def add(self, step: str, /, **detail: Any) -> None:
        self.append(TraceStep(step, detail))

    def steps(self, name: str) -> list[TraceStep]:
        return [s for s in self if s.step == name]

    def as_json(self) -> list[dict[str, Any]]:
        """The steps as the outbox keeps them and /owner answers them: [{"step": name, "detail": {...}}]."""
        return [{"step": s.step, "detail": s.detail} for s in self]


@dataclass(frozen=True)
class SyncError:
    """The last thing that went wrong for an event type (like Cal.com's lastSyncError)."""

    event_type: str
    code: str
    message: str
    dropped_fields: tuple[str, ...] = ()
    booking_uid: str | None = None
    at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


@dataclass(frozen=True)
class StoredTrace:
    booking_uid: str
    action_key: str
    steps: tuple[TraceStep, ...]
    at: str


class TraceStore(Protocol):
    def save_trace(self, booking_uid: str, action_key: str, steps: list[TraceStep]) -> None: ...
    def traces(self, booking_uid: str) -> list[StoredTrace]: ...
    def record_error(self, error: SyncError) -> None: ...
    def last_errors(self) -> list[SyncError]: ...


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class MemoryTraceStore:
    def __init__(self) -> None:
        self._traces: dict[str, list[StoredTrace]] = {}
        self._errors: dict[str, SyncError] = {}

    def save_trace(self, booking_uid: str, action_key: str, steps: list[TraceStep]) -> None:
        kept = [t for t in self._traces.get(booking_uid, []) if t.action_key != action_key]
        self._traces[booking_uid] = kept + [StoredTrace(booking_uid, action_key, tuple(steps), _now())]

    def traces(self, booking_uid: str) -> list[StoredTrace]:
        return list(self._traces.get(booking_uid, []))

    def record_error(self, error: SyncError) -> None:
        self._errors[error.event_type] = error

    def last_errors(self) -> list[SyncError]:
        return sorted(self._errors.values(), key=lambda e: e.event_type)


class SqliteTraceStore:
    """Traces and last errors in one SQLite file (or `:memory:`)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS sync_trace (
              booking_uid TEXT NOT NULL, action_key TEXT NOT NULL, steps TEXT NOT NULL, at TEXT NOT NULL,
              PRIMARY KEY (booking_uid, action_key));
            CREATE TABLE IF NOT EXISTS sync_error (
              event_type TEXT PRIMARY KEY, body TEXT NOT NULL);
            """
        )

    def save_trace(self, booking_uid: str, action_key: str, steps: list[TraceStep]) -> None:
        body = json.dumps(Trace(steps).as_json(), default=str)
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO sync_trace VALUES (?,?,?,?)", (booking_uid, action_key, body, _now()))

    def traces(self, booking_uid: str) -> list[StoredTrace]:
        with self._lock:
            rows = self._db.execute(
                "SELECT booking_uid, action_key, steps, at FROM sync_trace WHERE booking_uid = ? ORDER BY at, rowid",
                (booking_uid,)).fetchall()
        return [StoredTrace(u, k, tuple(TraceStep(s["step"], s["detail"]) for s in json.loads(body)), at)
                for u, k, body, at in rows]

    def record_error(self, error: SyncError) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO sync_error VALUES (?, ?)", (error.event_type, json.dumps(asdict(error))))

    def last_errors(self) -> list[SyncError]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM sync_error ORDER BY event_type").fetchall()
        out = []
        for (body,) in rows:
            d = json.loads(body)
            d["dropped_fields"] = tuple(d.get("dropped_fields") or ())
            out.append(SyncError(**d))
        return out


def render_trace(booking_uid: str, traces: list[StoredTrace]) -> str:
    """What `slotforce trace UID` prints."""
    if not traces:
        return f"No trace for booking {booking_uid}. Has it been synced? (slotforce status)"
    lines = []
    for t in traces:
        lines.append(f"{t.action_key}  ({t.at})")
        lines += [f"  {i:2d}. {s}" for i, s in enumerate(t.steps, 1)]
    return "\n".join(lines)


def render_errors(errors: list[SyncError]) -> str:
    """What `slotforce errors` prints."""
    if not errors:
        return "No sync errors."
    lines = []
    for e in errors:
        lines.append(f"{e.event_type}: {e.code} at {e.at}" + (f" (booking {e.booking_uid})" if e.booking_uid else ""))
        lines.append(f"  {e.message}")
        if e.dropped_fields:
            lines.append(f"  dropped fields: {', '.join(e.dropped_fields)}")
    return "\n".join(lines)
