"""What only the SQLite backend has: WAL with full fsync, file paths in URLs, an intact file, old files upgraded."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
import sqlite3

import pytest

from slotforce.store import DEFAULT_ORG, BadStoreUrl, Delivery, ItemResult, NewChange, open_store
from slotforce.store.migrations import latest, migrations
from slotforce.store.queries import statements
from slotforce.store.sqlite import SqliteOutbox

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def put(outbox, *changes: NewChange, when: float = 0):
    return outbox.enqueue(Delivery("calcom", repr([c.dedupe_key for c in changes]).encode()), list(changes), now=at(when))


def created(uid: str) -> NewChange:
    return NewChange(f"calcom:{uid}:Created:0", uid, "Created", {"booking_uid": uid}, establishes=True)


def send_all(outbox, when: float) -> list[str]:
    sent = []
    while lease := outbox.lease("w", now=at(when)):
        sent += [i.dedupe_key for i in lease.items]
        outbox.finish(lease.id, [ItemResult.done(i.id, {"status": "processed"}) for i in lease.items], now=at(when))
    return sent


def test_wal_mode_and_full_sync_are_on(tmp_path):
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    assert outbox.journal_mode() == "wal"
    assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert (tmp_path / "outbox.db-wal").exists()


def test_open_store_resolves_relative_paths_and_refuses_unknown_schemes(tmp_path):
    store = open_store("sqlite:///sub/o.db", base_dir=tmp_path)
    assert (tmp_path / "sub" / "o.db").exists()
    store.close()
    with pytest.raises(BadStoreUrl, match="unknown store scheme"):
        open_store("mysql://db/slotforce")
    with pytest.raises(BadStoreUrl, match="three slashes"):
        open_store("sqlite://o.db")


def test_a_second_connection_leaves_an_intact_file(tmp_path):
    a = SqliteOutbox(tmp_path / "o.db")
    put(a, created("A"))
    b = SqliteOutbox(tmp_path / "o.db")
    assert [i.booking_uid for i in b.lease("w", now=at(1)).items] == ["A"]
    assert len(a.lease("w2", now=at(1))) == 0  # the lease taken through b is visible to a
    a.close(), b.close()
    raw = sqlite3.connect(tmp_path / "o.db")
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_outbox_of_schema_1_is_upgraded_and_its_queued_repeatables_ordered(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)  # schema 1 exactly as its migration made it
    for statement in statements(migrations("sqlite")[0][1]):
        db.execute(statement)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    db.commit()
    db.close()
    old = sqlite3.connect(path)
    old.execute("INSERT INTO deliveries (source, body_sha256, body, received_at, last_received_at)"
                " VALUES ('api', 'x', x'00', 0, 0)")
    for key, action, seq in (("api:a:Created:0", "Created", 0), ("api:a:No_Show:2000", "No_Show", 2000),
                             ("api:a:No_Show_Cleared:1000", "No_Show_Cleared", 1000)):
        old.execute("INSERT INTO items (delivery_id, dedupe_key, source, booking_uid, establishes, action, change,"
                    " state, available_at, created_at, updated_at, requires_uid) VALUES (1, ?, 'api', 'a', ?, ?, ?,"
                    " 'pending', 0, 0, 0, ?)",
                    (key, int(action == "Created"), action, json.dumps({"action": action, "sequence": seq}),
                     None if action == "Created" else "a"))
    old.commit()
    old.close()
    store = SqliteOutbox(path)
    assert send_all(store, 10) == ["api:a:Created:0", "api:a:No_Show_Cleared:1000", "api:a:No_Show:2000"]
    assert store._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(latest("sqlite"))
    assert {i.org for i in store.items(limit=10)} == {DEFAULT_ORG}  # rows from before orgs: the implicit org
    store.close()
