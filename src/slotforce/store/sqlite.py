"""The outbox in one SQLite file, in WAL mode with full fsync: what a single-host install runs.

Every state change is one `BEGIN IMMEDIATE` transaction, so a process killed at any point leaves
either the old or the new state, never half of one. `synchronous=FULL` makes a committed enqueue
survive power loss too, which is what "acknowledged only after it is durably stored" promises.
The rules are `queue.SqlOutbox`'s; this module only opens the file and runs `sql/sqlite/`.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from slotforce.store.backoff import Backoff
from slotforce.store.errors import OutboxUnwritable, StoreError
from slotforce.store.migrations import latest, migrate
from slotforce.store.outbox import DEFAULT_CREATE_WAIT
from slotforce.store.queries import load_queries
from slotforce.store.queue import SqlOutbox
from slotforce.store.storage import Storage, Tx

SCHEMA_VERSION = latest("sqlite")  # 2: items.repeat_order; 3: items.repeat_scope; 4: org on every row

# SQLite primary result codes meaning "the storage refuses to write", not "this statement is wrong".
_UNWRITABLE = {sqlite3.SQLITE_FULL: "disk_full", sqlite3.SQLITE_READONLY: "read_only",
               sqlite3.SQLITE_CANTOPEN: "read_only", sqlite3.SQLITE_IOERR: "io_error",
               sqlite3.SQLITE_BUSY: "locked", sqlite3.SQLITE_LOCKED: "locked"}
# A delivery may be up to 1 MiB (sources' default body limit): with less free space the next may not fit.
MIN_FREE_BYTES = 1024 * 1024
# How long a refused write keeps `write_problem` answering even when the probe passes: the probe writes
# little and rolls back, so a full disk may only show when a real delivery is written.
RECENT_FAILURE_SECONDS = 60.0


_wake_events: dict[str, threading.Event] = {}
_wake_lock = threading.Lock()


def _wake_event(path: str) -> threading.Event:
    """One event per file and process: the intake's and the worker's connections to a file share it."""
    key = path if path == ":memory:" else str(Path(path).resolve())
    with _wake_lock:
        return _wake_events.setdefault(key, threading.Event())


class SqliteStorage(Storage):
    """One connection (autocommit; transactions opened explicitly), shared by the threads of a process."""

    backend = "sqlite"

    def __init__(self, path: str | Path, busy_timeout: timedelta = timedelta(seconds=10)) -> None:
        self.path = self.where = str(path)
        self._queries = load_queries("sqlite")
        self._last_failure: tuple[OutboxUnwritable, float] | None = None
        self._work = _wake_event(self.path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the outbox database {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        try:
            self._open(busy_timeout)
        except sqlite3.Error as exc:  # a read-only file fails here, before any delivery is taken
            self.db.close()
            raise self._unwritable(exc) or StoreError(f"cannot open the outbox database {self.path}: {exc}") from exc
        except StoreError:
            self.db.close()
            raise

    def _open(self, busy_timeout: timedelta) -> None:
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout.total_seconds() * 1000)}")
        if self.path != ":memory:":
            mode = self.db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); is the file on a network share?")
        self.db.execute("PRAGMA synchronous = FULL")
        # Migrations that rebuild a table (0004) run with foreign keys off, as SQLite's ALTER TABLE
        # documentation says to; they are on for everything after.
        self.db.execute("PRAGMA foreign_keys = OFF")
        with self.transaction() as tx:
            migrate(tx, self.backend, self.path)
        self.db.execute("PRAGMA foreign_keys = ON")

    def _tx(self) -> Tx:
        return Tx(self.db, self._queries)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One BEGIN IMMEDIATE transaction; a refusal of the storage becomes OutboxUnwritable."""
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._tx()
                    self.db.execute("COMMIT")
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

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self._lock:
            yield self._tx()

    def _rollback(self) -> None:
        # SQLite has already rolled back after SQLITE_FULL and some I/O errors; a second ROLLBACK
        # would raise and hide the error that matters.
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")

    def refusal(self, exc: BaseException) -> OutboxUnwritable | None:
        return self._unwritable(exc) if isinstance(exc, sqlite3.Error) else None

    def _unwritable(self, exc: sqlite3.Error) -> OutboxUnwritable | None:
        cause = _UNWRITABLE.get((getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF)
        return OutboxUnwritable(self.path, cause, f"SQLite: {exc}") if cause else None

    def write_problem(self) -> OutboxUnwritable | None:
        if self._last_failure and time.monotonic() - self._last_failure[1] < RECENT_FAILURE_SECONDS:
            return self._last_failure[0]
        if self.path != ":memory:" and shutil.disk_usage(Path(self.path).parent).free < MIN_FREE_BYTES:
            return OutboxUnwritable(self.path, "disk_full", f"less than {MIN_FREE_BYTES} bytes free on its volume")
        with self._lock:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                page = self.db.execute("PRAGMA page_size").fetchone()[0]
                self._tx().run("write_probe", size=2 * page)
            except sqlite3.Error as exc:
                problem = self._unwritable(exc)
                if problem is None:
                    raise
                return problem
            finally:
                self._rollback()
        return None

    def array(self, values: list[str]) -> str:
        import json

        return json.dumps(values)  # read with json_each

    def wake(self) -> None:
        self._work.set()

    def wait_for_work(self, timeout: float) -> bool:
        # Workers in other processes poll every `timeout`; SQLite has no way to tell them sooner.
        woken = self._work.wait(timeout)
        self._work.clear()
        return woken

    def close(self) -> None:
        with self._lock:
            self.db.close()


class SqliteOutbox(SqlOutbox):
    """`SqliteOutbox(path)`; `path` may be ":memory:" for throwaway use (no WAL there)."""

    def __init__(self, path: str | Path, *, create_wait: timedelta = DEFAULT_CREATE_WAIT, backoff: Backoff = Backoff(),
                 rng: random.Random | None = None, busy_timeout: timedelta = timedelta(seconds=10)) -> None:
        self.path = str(path)
        super().__init__(SqliteStorage(path, busy_timeout), create_wait=create_wait, backoff=backoff, rng=rng)

    @property
    def _db(self) -> sqlite3.Connection:
        return self.storage.db  # type: ignore[attr-defined]

    def journal_mode(self) -> str:
        with self.storage.reading():
            return self._db.execute("PRAGMA journal_mode").fetchone()[0]
