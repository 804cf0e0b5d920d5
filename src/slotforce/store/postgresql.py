"""The outbox in PostgreSQL: what several intakes and workers on several hosts share.

Connections come from a psycopg_pool pool. Leasing locks the rows it decides on with
`FOR UPDATE SKIP LOCKED`, so workers lease side by side without handing one item out twice; an
enqueue sends `NOTIFY slotforce_outbox` on commit and an idle worker LISTENs, so it wakes at once.
Periodic jobs are claimed under an advisory lock (`claim_job`). The rules are `queue.SqlOutbox`'s.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from slotforce.store.backoff import Backoff
from slotforce.store.errors import OutboxUnwritable, StoreError
from slotforce.store.migrations import migrate
from slotforce.store.outbox import DEFAULT_CREATE_WAIT
from slotforce.store.queries import load_queries
from slotforce.store.queue import SqlOutbox
from slotforce.store.storage import Storage, Tx

CHANNEL = "slotforce_outbox"
CONNECT_TIMEOUT = 5  # seconds: an unreachable server is reported at start, not after minutes
# How long a transaction waits for a pooled connection: a webhook is answered 503 (or /healthz says
# why) within this when the server is gone, instead of hanging as long as the sender waits.
POOL_TIMEOUT = 10
# SQLSTATEs meaning "this transaction lost to another one; run it again" (40P01, 40001): not a refusal of
# the storage (psycopg files them under OperationalError, which would read as "unreachable").
_CONFLICTS = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
# SQLSTATEs meaning "the server refuses to write", not "this statement is wrong".
_UNWRITABLE: dict[type[Exception], str] = {pg_errors.DiskFull: "disk_full", pg_errors.OutOfMemory: "disk_full",
                                           pg_errors.ReadOnlySqlTransaction: "read_only",
                                           pg_errors.InsufficientPrivilege: "read_only",
                                           pg_errors.LockNotAvailable: "locked", pg_errors.QueryCanceled: "locked"}


def redacted(url: str) -> str:
    """The URL as messages show it: user, host, port and database, never the password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(an unreadable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', 'localhost')}{port}/{parts.get('dbname', '')}"


def check_reachable(url: str) -> None:
    """One direct connection, closed at once: raises `StoreError` saying which server and why not.

    (The pool would only say "timed out"; check-config asks this without touching the schema.)
    """
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT).close()
    except psycopg.Error as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        raise StoreError(f"cannot reach the outbox {redacted(url)}: {reason} (check that the server runs and that"
                         " `store:` names it: host, port, database, user, password)") from None


class PostgresStorage(Storage):
    """A pool of connections to one database; the schema is migrated on open (under an advisory lock)."""

    backend = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.where = redacted(url)
        self._url = url
        self._queries = load_queries("postgresql", "pyformat")
        self._listeners = threading.local()
        self._all_listeners: list[psycopg.Connection] = []
        check_reachable(url)
        self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=False, name="slotforce-outbox",
                                   kwargs={"connect_timeout": CONNECT_TIMEOUT}, timeout=POOL_TIMEOUT)
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
            with self.transaction() as tx:
                migrate(tx, self.backend, self.where)
        except BaseException:
            self.pool.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                yield Tx(cursor, self._queries)
        except (psycopg.Error, PoolTimeout) as exc:
            problem = self._unwritable(exc)
            if problem is exc:
                raise
            raise problem from exc

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self.transaction() as tx:
            yield tx

    def refusal(self, exc: BaseException) -> OutboxUnwritable | None:
        if not isinstance(exc, (psycopg.Error, PoolTimeout)):
            return None
        problem = self._unwritable(exc)
        return problem if isinstance(problem, OutboxUnwritable) else None

    def conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, _CONFLICTS)

    def _unwritable(self, exc: Exception) -> OutboxUnwritable | Exception:
        if isinstance(exc, _CONFLICTS):
            return exc
        for kind, cause in _UNWRITABLE.items():
            if isinstance(exc, kind):
                return OutboxUnwritable(self.where, cause, f"PostgreSQL: {exc}")
        if isinstance(exc, (psycopg.OperationalError, PoolTimeout)):
            return OutboxUnwritable(self.where, "unreachable", f"PostgreSQL: {exc}")
        return exc

    def write_problem(self) -> OutboxUnwritable | None:
        try:
            with self.pool.connection() as conn:
                with conn.transaction(force_rollback=True), conn.cursor() as cursor:
                    Tx(cursor, self._queries).run("write_probe", size=8192)
        except (psycopg.Error, PoolTimeout) as exc:
            problem = self._unwritable(exc)
            if isinstance(problem, OutboxUnwritable):
                return problem
            raise
        return None

    def wake(self) -> None:
        """Nothing to do here: the NOTIFY of the enqueue reaches this process's listeners too."""

    def wait_for_work(self, timeout: float) -> bool:
        """LISTEN on a connection of this thread's own (outside the pool: it waits, it does not query)."""
        conn = getattr(self._listeners, "conn", None)
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
                conn.execute(f"LISTEN {CHANNEL}")
                self._listeners.conn = conn
                self._all_listeners.append(conn)
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error:
            # The server went away: wait as a poll would, and connect again next time.
            self._listeners.conn = None
            threading.Event().wait(timeout)
            return False

    def close(self) -> None:
        for conn in self._all_listeners:
            conn.close()
        self.pool.close()


class PostgresOutbox(SqlOutbox):
    """`PostgresOutbox("postgresql://user:password@host:5432/db")`."""

    def __init__(self, url: str, *, create_wait: timedelta = DEFAULT_CREATE_WAIT, backoff: Backoff = Backoff(),
                 rng: random.Random | None = None, pool_size: int = 4, **_: Any) -> None:
        super().__init__(PostgresStorage(url, pool_size=pool_size), create_wait=create_wait, backoff=backoff,
                         rng=rng)
