"""Platform events the org published (X__e, PublishAfterCommit): kept, listed at GET /__localorg__/events.

A flow's Create Records on a platform event publishes it inside its transaction, in
the org's SQLite file: a save that rolls back publishes nothing, as Salesforce publishes only when the
transaction commits.
"""

from __future__ import annotations

import json
import sqlite3

_TABLE = "CREATE TABLE IF NOT EXISTS _events (n INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL)"


def record(conn: sqlite3.Connection, message: dict) -> None:
    """Keep one published event: its object, field values, and the flow that published it."""
    conn.execute(_TABLE)
    conn.execute("INSERT INTO _events(message) VALUES (?)", (json.dumps(message),))


def sent(conn: sqlite3.Connection) -> list[dict]:
    """Every published event, oldest first."""
    conn.execute(_TABLE)
    return [json.loads(row[0]) for row in conn.execute("SELECT message FROM _events ORDER BY n")]


def clear(conn: sqlite3.Connection) -> None:
    conn.execute(_TABLE)
    conn.execute("DELETE FROM _events")
