"""The outbox in one SQLite file, in WAL mode with full fsync: what a single-host install runs.

Every state change is one `BEGIN IMMEDIATE` transaction, so a process killed at any point leaves
either the old or the new state, never half of one. `synchronous=FULL` makes a committed enqueue
survive power loss too, which is what "acknowledged only after it is durably stored" promises.
"""

from __future__ import annotations

import hashlib
import json
import contextlib
import random
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from slotforce.store.backoff import Backoff
from slotforce.store.errors import ItemNotFound, LeaseLost, NotReplayable, OutboxUnwritable, StoreError
from slotforce.store.models import (
    BUDGET_SPENT,
    REPEATABLE_ACTIONS,
    UNFINISHED,
    BudgetWait,
    Delivery,
    FinishReport,
    HeldLease,
    ItemResult,
    Lease,
    NewChange,
    OutboxItem,
    Receipt,
    State,
    LastSyncError,
    TraceEntry,
    utc,
)
from slotforce.store.outbox import DEFAULT_BATCH, DEFAULT_CREATE_WAIT, DEFAULT_LEASE, Activity, Outbox

SCHEMA_VERSION = 3  # 2: items.repeat_order (repeatable changes in the order they happened); 3: items.repeat_scope

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT,
    note TEXT,
    received_at REAL NOT NULL,
    repeats INTEGER NOT NULL DEFAULT 0,
    last_received_at REAL NOT NULL,
    UNIQUE (source, body_sha256)
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    dedupe_key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    booking_uid TEXT NOT NULL,
    previous_booking_uid TEXT,
    requires_uid TEXT,
    establishes INTEGER NOT NULL DEFAULT 0,
    action TEXT NOT NULL,
    event_type TEXT,
    change TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expired_leases INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    lease_id TEXT,
    lease_owner TEXT,
    lease_expires_at REAL,
    skip_create_wait INTEGER NOT NULL DEFAULT 0,
    repeat_order INTEGER,
    repeat_scope TEXT,
    last_error TEXT,
    last_error_code TEXT,
    outcome TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_state ON items (state, available_at);
CREATE INDEX IF NOT EXISTS items_unfinished ON items (id) WHERE state IN ('pending', 'leased');
CREATE INDEX IF NOT EXISTS items_by_uid ON items (booking_uid, state);
CREATE INDEX IF NOT EXISTS items_by_previous_uid ON items (previous_booking_uid, state);
CREATE INDEX IF NOT EXISTS items_by_update ON items (updated_at);
CREATE TABLE IF NOT EXISTS traces (
    id INTEGER PRIMARY KEY,
    booking_uid TEXT NOT NULL,
    action_key TEXT,
    item_id INTEGER,
    at REAL NOT NULL,
    steps TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_uid ON traces (booking_uid, id);
CREATE TABLE IF NOT EXISTS sync_errors (
    event_type TEXT PRIMARY KEY,
    code TEXT,
    message TEXT NOT NULL,
    details TEXT,
    item_id INTEGER,
    at REAL NOT NULL
);
"""

# Event types are keys in slotforce.yml; changes without one are filed under the default settings.
_NO_EVENT_TYPE = "default"

_ITEM_COLUMNS = (
    "id, delivery_id, dedupe_key, source, booking_uid, previous_booking_uid, action, event_type, state, attempts,"
    " change, available_at, created_at, updated_at, lease_expires_at, last_error, last_error_code, outcome,"
    " requires_uid, establishes, skip_create_wait, expired_leases, repeat_order, repeat_scope"
)

# The same positions as _ITEM_COLUMNS without the JSON bodies: what the lease scan reads.
_SCAN_COLUMNS = _ITEM_COLUMNS.replace(" change,", " NULL,").replace(" outcome,", " NULL,")


def _epoch(now: datetime | None) -> float:
    return time.time() if now is None else now.timestamp()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


# SQLite primary result codes meaning "the storage refuses to write", not "this statement is wrong".
_UNWRITABLE = {sqlite3.SQLITE_FULL: "disk_full", sqlite3.SQLITE_READONLY: "read_only",
               sqlite3.SQLITE_CANTOPEN: "read_only", sqlite3.SQLITE_IOERR: "io_error",
               sqlite3.SQLITE_BUSY: "locked", sqlite3.SQLITE_LOCKED: "locked"}
# A delivery may be up to 1 MiB (sources' default body limit): with less free space the next may not fit.
MIN_FREE_BYTES = 1024 * 1024
# How long a refused write keeps `write_problem` answering even when the probe passes: the probe writes
# little and rolls back, so a full disk may only show when a real delivery is written.
RECENT_FAILURE_SECONDS = 60.0


class SqliteOutbox(Outbox):
    """`SqliteOutbox(path)`; `path` may be ":memory:" for throwaway use (no WAL there)."""

    def __init__(
        self,
        path: str | Path,
        *,
        create_wait: timedelta = DEFAULT_CREATE_WAIT,
        backoff: Backoff = Backoff(),
        rng: random.Random | None = None,
        busy_timeout: timedelta = timedelta(seconds=10),
    ) -> None:
        self.path = str(path)
        self.create_wait = create_wait
        self.backoff = backoff
        self._rng = rng or random.Random()
        self._last_failure: tuple[OutboxUnwritable, float] | None = None
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE below.
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the outbox database {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        try:
            self._open(busy_timeout)
        except sqlite3.Error as exc:  # a read-only file fails here, before any delivery is taken
            self._db.close()
            raise self._unwritable(exc) or StoreError(f"cannot open the outbox database {self.path}: {exc}") from exc
        except StoreError:
            self._db.close()
            raise

    def _open(self, busy_timeout: timedelta) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout.total_seconds() * 1000)}")
        if self.path != ":memory:":
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); is the file on a network share?")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA foreign_keys = ON")
        with self._transaction() as db:
            for statement in filter(str.strip, _DDL.split(";")):
                db.execute(statement)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer slotforce (schema {row[0]}); upgrade slotforce")
            elif int(row[0]) < SCHEMA_VERSION:
                self._upgrade(db, int(row[0]))

    @staticmethod
    def _upgrade(db: sqlite3.Connection, version: int) -> None:
        """Bring an older outbox file up to SCHEMA_VERSION in place (inside the opening transaction)."""
        if version < 2:
            columns = {r[1] for r in db.execute("PRAGMA table_info(items)")}
            if "repeat_order" not in columns:
                db.execute("ALTER TABLE items ADD COLUMN repeat_order INTEGER")
            # queued repeatable changes get their order from the stored change, as enqueue now does
            actions = ", ".join(f"'{a}'" for a in sorted(REPEATABLE_ACTIONS))
            db.execute(
                "UPDATE items SET repeat_order = json_extract(change, '$.sequence')"
                f" WHERE action IN ({actions}) AND json_type(change, '$.sequence') = 'integer'"
            )
        if version < 3 and "repeat_scope" not in {r[1] for r in db.execute("PRAGMA table_info(items)")}:
            db.execute("ALTER TABLE items ADD COLUMN repeat_scope TEXT")  # queued changes: the whole booking
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    # -- plumbing -------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction; a refusal of the storage becomes OutboxUnwritable."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
            except sqlite3.Error as exc:
                problem = self._unwritable(exc)
                if problem is None:
                    raise
                self._last_failure = (problem, time.monotonic())
                raise problem from exc
            self._last_failure = None

    def _rollback(self) -> None:
        # SQLite has already rolled back after SQLITE_FULL and some I/O errors; a second ROLLBACK
        # would raise and hide the error that matters.
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def _unwritable(self, exc: sqlite3.Error) -> OutboxUnwritable | None:
        cause = _UNWRITABLE.get((getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF)
        return OutboxUnwritable(self.path, cause, str(exc)) if cause else None

    def write_problem(self) -> OutboxUnwritable | None:
        if self._last_failure and time.monotonic() - self._last_failure[1] < RECENT_FAILURE_SECONDS:
            return self._last_failure[0]
        if self.path != ":memory:" and shutil.disk_usage(Path(self.path).parent).free < MIN_FREE_BYTES:
            return OutboxUnwritable(self.path, "disk_full", f"less than {MIN_FREE_BYTES} bytes free on its volume")
        with self._lock:
            try:
                # Needs new pages as a delivery would (a full database fails here), then leaves nothing.
                self._db.execute("BEGIN IMMEDIATE")
                page = self._db.execute("PRAGMA page_size").fetchone()[0]
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('write_probe', zeroblob(?))",
                                 (2 * page,))
            except sqlite3.Error as exc:
                problem = self._unwritable(exc)
                if problem is None:
                    raise
                return problem
            finally:
                self._rollback()
        return None

    def read_note(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (f"note:{key}",)).fetchone()
        return row[0] if row else None

    def write_note(self, key: str, value: str | None) -> None:
        with self._transaction() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (f"note:{key}",))
            else:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (f"note:{key}", value))

    def journal_mode(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA journal_mode").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- intake ---------------------------------------------------------------------------------
    def enqueue(self, delivery: Delivery, changes: Sequence[NewChange], *, now: datetime | None = None) -> Receipt:
        at = _epoch(now)
        digest = hashlib.sha256(delivery.body).hexdigest()
        with self._transaction() as db:
            row = db.execute(
                "SELECT id FROM deliveries WHERE source = ? AND body_sha256 = ?", (delivery.source, digest)
            ).fetchone()
            repeated = row is not None
            if repeated:
                delivery_id = row[0]
                db.execute(
                    "UPDATE deliveries SET repeats = repeats + 1, last_received_at = ? WHERE id = ?", (at, delivery_id)
                )
            else:
                delivery_id = db.execute(
                    "INSERT INTO deliveries (source, body_sha256, body, content_type, note, received_at, last_received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (delivery.source, digest, delivery.body, delivery.content_type, delivery.note, at, at),
                ).lastrowid
            item_ids: list[int] = []
            duplicates: list[int] = []
            for change in changes:
                existing = db.execute("SELECT id FROM items WHERE dedupe_key = ?", (change.dedupe_key,)).fetchone()
                if existing:
                    item_ids.append(existing[0])
                    duplicates.append(existing[0])
                    continue
                new_id = (
                    db.execute(
                        "INSERT INTO items (delivery_id, dedupe_key, source, booking_uid, previous_booking_uid,"
                        " requires_uid, establishes, action, event_type, change, state, available_at, created_at,"
                        " updated_at, repeat_order, repeat_scope)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                        (
                            delivery_id,
                            change.dedupe_key,
                            delivery.source,
                            change.booking_uid,
                            change.previous_booking_uid,
                            change.requires_uid,
                            int(change.establishes),
                            change.action,
                            change.event_type,
                            _json(change.change),
                            at,
                            at,
                            at,
                            change.happened_order(),
                            change.repeat_scope,
                        ),
                    ).lastrowid
                )
                self._inherit_event_type(db, new_id)
                item_ids.append(new_id)
        return Receipt(delivery_id, repeated, tuple(item_ids), tuple(duplicates), delivery.note)

    # -- worker ---------------------------------------------------------------------------------
    def lease(
        self,
        worker: str,
        *,
        limit: int = DEFAULT_BATCH,
        lease_for: timedelta = DEFAULT_LEASE,
        now: datetime | None = None,
    ) -> Lease:
        at = _epoch(now)
        lease_id = uuid.uuid4().hex
        expires = at + lease_for.total_seconds()
        with self._transaction() as db:
            chosen: list[int] = []
            after = 0
            # Page through due items oldest first (not the change JSON: only what ordering needs), so a
            # deep queue is not loaded at once and a full batch stops the scan early.
            while len(chosen) < limit:
                page = db.execute(
                    f"SELECT {_SCAN_COLUMNS} FROM items WHERE state IN ('pending', 'leased') AND id > ? AND"
                    " ((state = 'pending' AND available_at <= ?) OR (state = 'leased' AND lease_expires_at <= ?))"
                    " ORDER BY id LIMIT 500",
                    (after, at, at),
                ).fetchall()
                if not page:
                    break
                for row in page:
                    after = row[0]
                    if len(chosen) >= limit:
                        break
                    if self._ready(db, row, at):
                        chosen.append(row[0])
            for item_id in chosen:
                db.execute(
                    "UPDATE items SET state = 'leased', lease_id = ?, lease_owner = ?, lease_expires_at = ?,"
                    " attempts = attempts + 1, updated_at = ? WHERE id = ?",
                    (lease_id, worker, expires, at, item_id),
                )
                self._inherit_event_type(db, item_id)
            items = tuple(self._get(db, item_id) for item_id in chosen)
        return Lease(lease_id, worker, utc(expires), items)  # type: ignore[arg-type]

    def _ready(self, db: sqlite3.Connection, row: tuple, at: float) -> bool:
        item_id, state, expired_leases = row[0], row[8], row[21]
        if state == State.LEASED.value:
            expired_leases += 1
            db.execute("UPDATE items SET expired_leases = ? WHERE id = ?", (expired_leases, item_id))
            if expired_leases >= self.backoff.max_attempts:
                # Its worker died (or hung) every time it held this item: stop handing it out, or
                # one poison payload would take the worker down forever.
                self._set_failed(
                    db,
                    item_id,
                    row[7],
                    f"its lease expired {expired_leases} times without a result (the worker was killed or"
                    " hung while sending it); replay it once the cause is fixed",
                    "LEASE_EXPIRED_REPEATEDLY",
                    None,
                    at,
                )
                return False
        if self._superseded(db, row, at):
            return False
        return not self._blocked(db, row) and not self._waiting_for_create(db, row, at)

    def _superseded(self, db: sqlite3.Connection, row: tuple, at: float) -> bool:
        """A repeatable change older than one of the same uid (and scope: the same people) already sent:
        finish it as skipped.

        Sending it now would undo the newer change (a no-show set after it was cleared); an in-order
        delivery would have sent it first and then the newer one, which leaves the newer one's state.
        """
        item_id, uid, action, order, scope = row[0], row[4], row[6], row[22], row[23]
        if order is None:
            return False
        newer = db.execute(
            "SELECT id, action, dedupe_key FROM items WHERE booking_uid = ? AND repeat_order > ? AND state = 'done'"
            " AND COALESCE(repeat_scope, '') = ?"
            " AND COALESCE(json_extract(outcome, '$.status'), '') != 'skipped' ORDER BY repeat_order DESC LIMIT 1",
            (uid, order, scope or ""),
        ).fetchone()
        if newer is None:
            return False
        reason = (f"superseded: {newer[1]} (item {newer[0]}) happened after this {action} and was already sent;"
                  " sending this one would undo it")
        outcome = {"status": "skipped", "reason": reason, "superseded_by": newer[2]}
        db.execute(
            "UPDATE items SET state = 'done', outcome = ?, last_error = NULL, last_error_code = NULL, lease_id = NULL,"
            " lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
            (_json(outcome), at, item_id),
        )
        superseded = {"step": "superseded", "detail": {"by": newer[2], "item": newer[0]}}
        _insert_trace(db, uid, row[2], item_id, at, [superseded])
        return True

    @staticmethod
    def _inherit_event_type(db: sqlite3.Connection, item_id: int) -> None:
        """No-show and meeting-ended webhooks do not say the event type; the booking's create did.
        Filling it in lets the worker pick the right settings and files errors under the right type."""
        db.execute(
            "UPDATE items SET event_type = (SELECT earlier.event_type FROM items AS earlier"
            " WHERE earlier.booking_uid IN (items.booking_uid, items.previous_booking_uid)"
            " AND earlier.event_type IS NOT NULL AND earlier.id != items.id ORDER BY earlier.id DESC LIMIT 1)"
            " WHERE id = ? AND event_type IS NULL",
            (item_id,),
        )

    @staticmethod
    def _blocked(db: sqlite3.Connection, row: tuple) -> bool:
        """An earlier change of the same booking is still queued, or one is in flight.

        "Earlier" is arrival order (item id), except among the repeatable changes of one uid, which
        go in the order they happened: each takes the queue position of the first-arrived of its
        uid's repeatable changes that happened at or after it. That keeps one total order per
        booking (no two changes can wait for each other).
        """
        item_id, uid, previous, establishes = row[0], row[4], row[5], row[19]
        uids = (uid, previous if previous is not None else uid)
        # (`+state` keeps SQLite on the uid indexes: a booking has a handful of rows, the queue thousands.)
        columns = "SELECT id, state, requires_uid, repeat_order, booking_uid FROM items"
        rows = db.execute(
            f"{columns} WHERE booking_uid IN (?, ?) AND +state IN (?, ?)"
            f" UNION {columns} WHERE previous_booking_uid IN (?, ?) AND +state IN (?, ?)",
            (*uids, *UNFINISHED, *uids, *UNFINISHED),
        ).fetchall()
        if len(rows) < 2:
            return False

        def position(r: tuple) -> tuple[int, int, int]:
            rid, order, ruid = r[0], r[3], r[4]
            if order is None:
                return (rid, 0, rid)
            first = min(o[0] for o in rows if o[4] == ruid and o[3] is not None and (o[3], o[0]) >= (order, rid))
            return (first, order, rid)

        mine = next((r for r in rows if r[0] == item_id), None)
        if mine is None:
            return False
        me = position(mine)
        for other in rows:
            if other[0] == item_id:
                continue
            if establishes and other[2] == uid:
                continue  # a create is never held up by the changes that are waiting for it
            if other[1] == State.LEASED.value or position(other) < me:
                return True  # one change of a booking in flight at a time
        return False

    def _waiting_for_create(self, db: sqlite3.Connection, row: tuple, at: float) -> bool:
        """The change needs its booking's create to be done first; parks it when that takes too long."""
        item_id, event_type, created_at, requires, skip = row[0], row[7], row[12], row[18], row[20]
        if requires is None or skip:
            return False
        created = db.execute(
            "SELECT 1 FROM items WHERE booking_uid = ? AND establishes = 1 AND state = 'done' LIMIT 1", (requires,)
        ).fetchone()
        if created:
            return False
        waited = at - created_at
        if waited >= self.create_wait.total_seconds() and not self._create_queued(db, requires):
            reason = (
                f"no create of booking {requires} was sent within {int(self.create_wait.total_seconds() // 60)} minutes"
                f" of this {row[6]} change; if the Event exists in Salesforce already, `slotforce replay {item_id}`"
            )
            db.execute(
                "UPDATE items SET state = 'parked', last_error = ?, last_error_code = 'WAITING_FOR_CREATE',"
                " lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
                (reason, at, item_id),
            )
            self._note_sync_error(db, event_type, "WAITING_FOR_CREATE", reason, None, item_id, at)
        return True

    @staticmethod
    def _create_queued(db: sqlite3.Connection, uid: str) -> bool:
        """The booking's create is in the outbox, not sent yet (e.g. waiting for the API budget or a
        retry): the change keeps waiting for it however long that takes, instead of being parked."""
        return db.execute(
            "SELECT 1 FROM items WHERE booking_uid = ? AND establishes = 1 AND +state IN ('pending', 'leased') LIMIT 1",
            (uid,),
        ).fetchone() is not None

    def finish(self, lease_id: str, results: Iterable[ItemResult], *, now: datetime | None = None) -> FinishReport:
        at = _epoch(now)
        applied: list[int] = []
        stale: list[int] = []
        gave_up: list[int] = []
        with self._transaction() as db:
            for result in results:
                row = db.execute(
                    "SELECT booking_uid, event_type, attempts, dedupe_key FROM items"
                    " WHERE id = ? AND state = 'leased' AND lease_id = ?",
                    (result.item_id, lease_id),
                ).fetchone()
                if row is None:
                    stale.append(result.item_id)
                    continue
                booking_uid, event_type, attempts, dedupe_key = row
                if result.kind == "done":
                    db.execute(
                        "UPDATE items SET state = 'done', outcome = ?, last_error = NULL, last_error_code = NULL,"
                        " lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
                        (_json(result.outcome or {}), at, result.item_id),
                    )
                elif result.kind == "retry":
                    if result.retry_at is None and attempts >= self.backoff.max_attempts:
                        message = f"gave up after {attempts} attempts; last error: {result.error}"
                        self._set_failed(db, result.item_id, event_type, message, result.code, result.details, at)
                        gave_up.append(result.item_id)
                    else:
                        retry_at = (
                            result.retry_at.timestamp()
                            if result.retry_at is not None
                            else at + self.backoff.delay(attempts, self._rng)
                        )
                        db.execute(
                            "UPDATE items SET state = 'pending', available_at = ?, last_error = ?, last_error_code = ?,"
                            " lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
                            (retry_at, result.error, result.code, at, result.item_id),
                        )
                        self._note_sync_error(db, event_type, result.code, result.error or "", result.details, result.item_id, at)
                elif result.kind == "wait":
                    # Not an attempt: the org refused to look at it (no API budget left). Give the lease's
                    # attempt back so that a long wait never reaches max_attempts.
                    retry_at = result.retry_at.timestamp() if result.retry_at is not None else at
                    db.execute(
                        "UPDATE items SET state = 'pending', available_at = ?, attempts = MAX(attempts - 1, 0),"
                        " last_error = ?, last_error_code = ?, lease_id = NULL, lease_owner = NULL,"
                        " lease_expires_at = NULL, updated_at = ? WHERE id = ?",
                        (retry_at, result.error, result.code, at, result.item_id),
                    )
                    self._note_sync_error(db, event_type, result.code, result.error or "", result.details, result.item_id, at)
                elif result.kind == "failed":
                    self._set_failed(db, result.item_id, event_type, result.error or "", result.code, result.details, at)
                else:
                    raise ValueError(f"ItemResult.kind must be done, retry, wait or failed, not {result.kind!r}")
                if result.trace is not None:
                    _insert_trace(db, booking_uid, dedupe_key, result.item_id, at, result.trace)
                applied.append(result.item_id)
        return FinishReport(tuple(applied), tuple(stale), tuple(gave_up))

    def renew(self, lease_id: str, lease_for: timedelta = DEFAULT_LEASE, *, items: int | None = None,
              now: datetime | None = None) -> datetime:
        at = _epoch(now)
        expires = at + lease_for.total_seconds()
        with self._transaction() as db:
            # Items still carrying this lease id were not handed out again: lease() runs in a
            # transaction like this one, so holding them all means no one else can have any.
            held = db.execute(
                "SELECT COUNT(*) FROM items WHERE state = 'leased' AND lease_id = ?", (lease_id,)
            ).fetchone()[0]
            if held == 0 or (items is not None and held < items):
                raise LeaseLost(lease_id, held, items)
            db.execute(
                "UPDATE items SET lease_expires_at = ? WHERE state = 'leased' AND lease_id = ?", (expires, lease_id)
            )
        return utc(expires)  # type: ignore[return-value]

    def hold_queue(self, until: datetime, error: str, code: str, *, now: datetime | None = None) -> int:
        at = _epoch(now)
        with self._transaction() as db:
            return db.execute(
                "UPDATE items SET available_at = ?, last_error = ?, last_error_code = ?, updated_at = ?"
                " WHERE state = 'pending' AND available_at < ?",
                (until.timestamp(), error, code, at, until.timestamp()),
            ).rowcount

    def held_leases(self, *, now: datetime | None = None) -> list[HeldLease]:
        with self._lock:
            rows = self._db.execute(
                "SELECT lease_id, lease_owner, COUNT(*), MAX(lease_expires_at) FROM items WHERE state = 'leased'"
                " GROUP BY lease_id, lease_owner ORDER BY 4"
            ).fetchall()
        return [HeldLease(r[0], r[1] or "", r[2], utc(r[3])) for r in rows]  # type: ignore[arg-type]

    def budget_wait(self, *, now: datetime | None = None) -> BudgetWait | None:
        with self._lock:
            n, first = self._db.execute(
                "SELECT COUNT(*), MIN(available_at) FROM items WHERE state = 'pending' AND last_error_code = ?"
                " AND available_at > ?",
                (BUDGET_SPENT, _epoch(now)),
            ).fetchone()
        return BudgetWait(n, utc(first)) if n else None  # type: ignore[arg-type]

    def release(self, lease_id: str, item_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> int:
        at = _epoch(now)
        sql = (
            "UPDATE items SET state = 'pending', available_at = ?, attempts = MAX(attempts - 1, 0), lease_id = NULL,"
            " lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE state = 'leased' AND lease_id = ?"
        )
        with self._transaction() as db:
            if item_ids is None:
                return db.execute(sql, (at, at, lease_id)).rowcount
            return sum(db.execute(sql + " AND id = ?", (at, at, lease_id, item_id)).rowcount for item_id in item_ids)

    def _set_failed(
        self,
        db: sqlite3.Connection,
        item_id: int,
        event_type: str | None,
        message: str,
        code: str | None,
        details: dict[str, Any] | None,
        at: float,
    ) -> None:
        db.execute(
            "UPDATE items SET state = 'failed', last_error = ?, last_error_code = ?, lease_id = NULL,"
            " lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
            (message, code, at, item_id),
        )
        self._note_sync_error(db, event_type, code, message, details, item_id, at)

    @staticmethod
    def _note_sync_error(
        db: sqlite3.Connection,
        event_type: str | None,
        code: str | None,
        message: str,
        details: dict[str, Any] | None,
        item_id: int | None,
        at: float,
    ) -> None:
        db.execute(
            "INSERT INTO sync_errors (event_type, code, message, details, item_id, at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (event_type) DO UPDATE SET code = excluded.code, message = excluded.message,"
            " details = excluded.details, item_id = excluded.item_id, at = excluded.at",
            (event_type or _NO_EVENT_TYPE, code, message, _json(details or {}), item_id, at),
        )

    # -- operator -------------------------------------------------------------------------------
    def replay(self, item_id: int, *, now: datetime | None = None) -> OutboxItem:
        at = _epoch(now)
        with self._transaction() as db:
            row = db.execute("SELECT state FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise ItemNotFound(item_id)
            if row[0] not in (State.FAILED.value, State.PARKED.value):
                raise NotReplayable(item_id, row[0])
            # The operator decided it should go now: it no longer waits for a create.
            db.execute(
                "UPDATE items SET state = 'pending', available_at = ?, attempts = 0, expired_leases = 0, skip_create_wait = 1,"
                " lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ?",
                (at, at, item_id),
            )
            return self._get(db, item_id)

    def get(self, item_id: int) -> OutboxItem:
        with self._lock:
            return self._get(self._db, item_id)

    def _get(self, db: sqlite3.Connection, item_id: int) -> OutboxItem:
        row = db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise ItemNotFound(item_id)
        return _item(row)

    def items(self, *, states: Sequence[str] | None = None, booking_uid: str | None = None, limit: int = 50) -> list[OutboxItem]:
        where, params = [], []
        if states:
            states = [State(s).value for s in states]
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        if booking_uid is not None:
            where.append("(booking_uid = ? OR previous_booking_uid = ?)")
            params.extend([booking_uid, booking_uid])
        sql = f"SELECT {_ITEM_COLUMNS} FROM items"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY updated_at DESC, id DESC LIMIT ?"
        with self._lock:
            return [_item(r) for r in self._db.execute(sql, (*params, limit)).fetchall()]

    def counts(self, *, now: datetime | None = None) -> dict[str, int]:
        at = _epoch(now)
        result = {"pending": 0, "retry_scheduled": 0, "leased": 0, "done": 0, "failed": 0, "parked": 0}
        with self._lock:
            for state, scheduled, n in self._db.execute(
                "SELECT state, state = 'pending' AND available_at > ?, COUNT(*) FROM items GROUP BY 1, 2", (at,)
            ):
                result["retry_scheduled" if scheduled else state] += n
            # a part of retry_scheduled: what waits for Salesforce's daily API budget, not for a retry
            result["waiting_for_budget"] = self._db.execute(
                "SELECT COUNT(*) FROM items WHERE state = 'pending' AND available_at > ? AND last_error_code = ?",
                (at, BUDGET_SPENT),
            ).fetchone()[0]
            result["deliveries"] = self._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
            result["repeated_deliveries"] = self._db.execute("SELECT COALESCE(SUM(repeats), 0) FROM deliveries").fetchone()[0]
        return result

    def activity(self, since: datetime) -> Activity:
        at = _epoch(since)
        with self._lock:
            minutes = self._db.execute(
                "SELECT minute, COALESCE(event_type, ?), SUM(kind = 'accepted'), SUM(kind = 'done'), SUM(kind = 'failed')"
                " FROM (SELECT CAST(created_at / 60 AS INTEGER) AS minute, event_type, 'accepted' AS kind FROM items"
                " WHERE created_at >= ? UNION ALL SELECT CAST(updated_at / 60 AS INTEGER), event_type, state FROM items"
                " WHERE updated_at >= ? AND (state = 'failed' OR (state = 'done'"
                " AND json_extract(outcome, '$.status') IN ('processed', 'pending'))))"
                " GROUP BY 1, 2 ORDER BY 1, 2",
                (_NO_EVENT_TYPE, at, at),
            ).fetchall()
            unfinished = self._db.execute(
                "SELECT COALESCE(event_type, ?), COUNT(*), MIN(created_at) FROM items"
                " WHERE state IN ('pending', 'leased') GROUP BY 1",
                (_NO_EVENT_TYPE,),
            ).fetchall()
        return Activity(minutes=[(utc(m * 60), t, a, d, f) for m, t, a, d, f in minutes],  # type: ignore[misc]
                        unfinished={t: (n, utc(first)) for t, n, first in unfinished})  # type: ignore[misc]

    def delivery_body(self, delivery_id: int) -> bytes:
        with self._lock:
            row = self._db.execute("SELECT body FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
        if row is None:
            raise StoreError(f"delivery {delivery_id} does not exist")
        return bytes(row[0])

    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        cutoff = _epoch(now) - older_than.total_seconds()
        with self._transaction() as db:
            gone = db.execute("DELETE FROM items WHERE state = 'done' AND updated_at < ?", (cutoff,)).rowcount
            db.execute("DELETE FROM traces WHERE at < ? AND item_id NOT IN (SELECT id FROM items)", (cutoff,))
            # A delivery goes once none of its changes is left (and so no raw body is needed to debug one).
            db.execute(
                "DELETE FROM deliveries WHERE last_received_at < ?"
                " AND NOT EXISTS (SELECT 1 FROM items WHERE items.delivery_id = deliveries.id)",
                (cutoff,),
            )
        return gone

    # -- traces and errors ----------------------------------------------------------------------
    def record_trace(
        self,
        booking_uid: str,
        steps: list[Any],
        *,
        action_key: str | None = None,
        item_id: int | None = None,
        now: datetime | None = None,
    ) -> None:
        with self._transaction() as db:
            _insert_trace(db, booking_uid, action_key, item_id, _epoch(now), steps)

    def traces(self, booking_uid: str) -> list[TraceEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT booking_uid, item_id, at, steps, action_key FROM traces WHERE booking_uid = ? ORDER BY id",
                (booking_uid,),
            ).fetchall()
        return [TraceEntry(r[0], r[1], utc(r[2]), json.loads(r[3]), r[4]) for r in rows]  # type: ignore[arg-type]

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
        with self._transaction() as db:
            self._note_sync_error(db, event_type, code, message, details, item_id, _epoch(now))

    def last_sync_errors(self) -> list[LastSyncError]:
        with self._lock:
            rows = self._db.execute(
                "SELECT event_type, code, message, at, item_id, details FROM sync_errors ORDER BY at DESC"
            ).fetchall()
        return [LastSyncError(r[0], r[1], r[2], utc(r[3]), r[4], json.loads(r[5] or "{}")) for r in rows]  # type: ignore[arg-type]


def _insert_trace(db: sqlite3.Connection, booking_uid: str, action_key: str | None, item_id: int | None,
                  at: float, steps: list[Any]) -> None:
    db.execute(
        "INSERT INTO traces (booking_uid, action_key, item_id, at, steps) VALUES (?, ?, ?, ?, ?)",
        (booking_uid, action_key, item_id, at, _json(steps)),
    )


def _item(row: tuple) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        delivery_id=row[1],
        dedupe_key=row[2],
        source=row[3],
        booking_uid=row[4],
        previous_booking_uid=row[5],
        action=row[6],
        event_type=row[7],
        state=State(row[8]),
        attempts=row[9],
        change=json.loads(row[10]),
        available_at=utc(row[11]),  # type: ignore[arg-type]
        created_at=utc(row[12]),  # type: ignore[arg-type]
        updated_at=utc(row[13]),  # type: ignore[arg-type]
        lease_expires_at=utc(row[14]),
        last_error=row[15],
        last_error_code=row[16],
        outcome=json.loads(row[17]) if row[17] else None,
    )
