"""The one interface under the outbox's rules: run a backend's named statements in transactions.

A backend (`sqlite.py`, `postgresql.py`) opens connections, maps its refusals to `OutboxUnwritable`,
and wakes idle workers; it knows no rule of the queue (those are in `policy.py`, applied by `queue.py`).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from slotforce.store.errors import OutboxUnwritable

class Tx:
    """Named statements inside one open transaction; rows come back as dicts by column name.

    `db` is what runs them: a sqlite3 connection or a psycopg cursor (both have execute/executemany).
    """

    def __init__(self, db: Any, queries: Mapping[str, str]) -> None:
        self._db = db
        self._execute = db.execute
        self._queries = queries

    def rows(self, name: str, **params: Any) -> Iterator[dict[str, Any]]:
        cursor = self._execute(self._queries[name], params)
        names = [c[0] for c in cursor.description]
        for row in cursor.fetchall():
            yield dict(zip(names, row))

    def all(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.rows(name, **params))

    def one(self, name: str, **params: Any) -> dict[str, Any] | None:
        return next(self.rows(name, **params), None)

    def run(self, name: str, **params: Any) -> int:
        """Execute a statement that returns no rows; how many rows it changed."""
        return self._execute(self._queries[name], params).rowcount

    def run_many(self, name: str, params: Sequence[Mapping[str, Any]]) -> None:
        """One statement for many rows (psycopg pipelines them: one round trip, not one per row)."""
        if params:
            self._db.executemany(self._queries[name], params)

    def script(self, sql: str) -> None:
        """One statement of a migration (no parameters)."""
        self._execute(sql, {})


class Storage(abc.ABC):
    """Where an outbox keeps its rows. `where` names it in messages (a path, a URL without password)."""

    backend: str  # the folder of its SQL under sql/, and its name in messages
    where: str

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction: committed on leaving, rolled back on an error; a refusal of the
        storage (disk full, read-only, unreachable) raises `OutboxUnwritable` and leaves nothing."""

    @abc.abstractmethod
    def reading(self) -> AbstractContextManager[Tx]:
        """A read-only look (may share a connection; never writes)."""

    @abc.abstractmethod
    def write_problem(self) -> OutboxUnwritable | None:
        """Why a write would fail now (a probe, rolled back), or None."""

    @abc.abstractmethod
    def refusal(self, exc: BaseException) -> OutboxUnwritable | None:
        """`exc`, raised by a statement inside a transaction, as the storage refusing to write (disk
        full, read-only, unreachable), or None when it is about that statement only."""

    def conflict(self, exc: BaseException) -> bool:
        """Whether `exc` is the database aborting this transaction for another one (a deadlock, a
        serialization failure): the same work, run again, can commit. SQLite has one writer: never."""
        return False

    def array(self, values: list[str]) -> Any:
        """A list parameter as the backend's SQL takes it."""
        return values

    @abc.abstractmethod
    def wake(self) -> None:
        """An enqueue committed: wake this process's idle workers (other processes: the `wake_workers` statement)."""

    @abc.abstractmethod
    def wait_for_work(self, timeout: float) -> bool:
        """Block up to `timeout` seconds or until `wake`; True when woken."""

    @abc.abstractmethod
    def close(self) -> None: ...
