"""Mail the org would have sent: kept, never delivered, listed at GET /__localorg__/emails.

Automation (a flow's Send Email or email alert action) records a message inside its transaction, in
the org's SQLite file: a save that rolls back sends nothing, as Salesforce sends mail only when the
transaction commits.
"""

from __future__ import annotations

import json
import sqlite3

_TABLE = "CREATE TABLE IF NOT EXISTS _emails (n INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL)"


def record(conn: sqlite3.Connection, message: dict) -> None:
    """Keep one message: to/cc/bcc (lists of addresses), from, subject, body, and where it came from."""
    conn.execute(_TABLE)
    conn.execute("INSERT INTO _emails(message) VALUES (?)", (json.dumps(message),))


def sent(conn: sqlite3.Connection) -> list[dict]:
    """Every kept message, oldest first."""
    conn.execute(_TABLE)
    return [json.loads(row[0]) for row in conn.execute("SELECT message FROM _emails ORDER BY n")]


def clear(conn: sqlite3.Connection) -> None:
    conn.execute(_TABLE)
    conn.execute("DELETE FROM _emails")
