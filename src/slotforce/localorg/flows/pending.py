"""Scheduled flow paths waiting for their time, in the org's SQLite file (table _flow_paths).

A path is scheduled inside the save that started it, so a save that rolls back schedules nothing. Due
paths leave the table when they ran; a path whose run failed stays, marked failed, with the error
(Salesforce's paused-interview failure, here listed at GET /__localorg__/clock).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

_TABLE = ("CREATE TABLE IF NOT EXISTS _flow_paths (n INTEGER PRIMARY KEY AUTOINCREMENT, flow TEXT NOT NULL, "
          "version INTEGER NOT NULL, path TEXT NOT NULL, record_id TEXT NOT NULL, event TEXT NOT NULL, "
          "prior TEXT, due TEXT NOT NULL, failed TEXT)")


@dataclass
class PendingPath:
    n: int
    flow: str
    version: int
    path: str
    record_id: str
    event: str
    prior: dict | None
    due: str  # UTC, ISO 8601 to the second: compares as text
    failed: str | None = None

    def to_json(self) -> dict:
        return {"flow": self.flow, "version": self.version, "path": self.path, "recordId": self.record_id,
                "due": self.due, **({"error": self.failed} if self.failed else {})}


def add(conn: sqlite3.Connection, flow: str, version: int, path: str, record_id: str, event: str,
        prior: dict | None, due: str) -> None:
    conn.execute(_TABLE)
    conn.execute("INSERT INTO _flow_paths(flow, version, path, record_id, event, prior, due) VALUES (?,?,?,?,?,?,?)",
                 (flow, version, path, record_id, event, json.dumps(prior) if prior is not None else None, due))


def _rows(conn: sqlite3.Connection, where: str, args: tuple) -> list[PendingPath]:
    conn.execute(_TABLE)
    rows = conn.execute(f"SELECT n, flow, version, path, record_id, event, prior, due, failed FROM _flow_paths "
                        f"WHERE {where} ORDER BY due, n", args).fetchall()
    return [PendingPath(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]) if r[6] else None, r[7], r[8])
            for r in rows]


def due(conn: sqlite3.Connection, now: str) -> list[PendingPath]:
    return _rows(conn, "failed IS NULL AND due <= ?", (now,))


def waiting(conn: sqlite3.Connection) -> list[PendingPath]:
    return _rows(conn, "1", ())


def remove(conn: sqlite3.Connection, numbers: list[int]) -> None:
    conn.executemany("DELETE FROM _flow_paths WHERE n = ?", [(n,) for n in numbers])


def fail(conn: sqlite3.Connection, numbers: list[int], error: str) -> None:
    conn.executemany("UPDATE _flow_paths SET failed = ? WHERE n = ?", [(error, n) for n in numbers])


def clear(conn: sqlite3.Connection) -> None:
    conn.execute(_TABLE)
    conn.execute("DELETE FROM _flow_paths")
