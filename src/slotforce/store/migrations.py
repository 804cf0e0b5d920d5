"""Numbered schema migrations (`sql/<backend>/migrations/NNNN_what.sql`), applied in order when a store opens.

The schema version is the number of the last migration applied, kept in `meta`; a store written
by a newer slotforce (a version above the last file here) is refused, not guessed at.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from slotforce.store.errors import StoreError
from slotforce.store.queries import statements

_FILE = re.compile(r"^(\d{4})_\w+\.sql$")


def migrations(backend: str) -> list[tuple[int, str]]:
    """(number, script), lowest first."""
    folder = resources.files("slotforce.store").joinpath("sql", backend, "migrations")
    found = [(int(m.group(1)), f.read_text(encoding="utf-8"))
             for f in folder.iterdir() if (m := _FILE.match(f.name))]
    return sorted(found)


def latest(backend: str) -> int:
    return migrations(backend)[-1][0]


def migrate(tx: Any, backend: str, where: str) -> int:
    """Bring the schema in `tx` (a `Tx`, inside the opening transaction) up to date; returns its version."""
    tx.one("migration_lock")  # several processes opening a new database at once: one migrates
    version = 0
    if tx.one("meta_exists")["present"]:
        row = tx.one("schema_version")
        version = int(row["value"]) if row else 0
    newest = latest(backend)
    if version > newest:
        raise StoreError(f"{where} was written by a newer slotforce (schema {version}); upgrade slotforce")
    for number, script in migrations(backend):
        if number > version:
            for statement in statements(script):
                tx.script(statement)
    if version < newest:
        tx.run("set_schema_version", version=str(newest))
    return newest
