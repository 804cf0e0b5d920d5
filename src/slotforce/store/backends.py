"""Which backend a `store:` URL names, opened: `open_store(url)` gives an `Outbox`.

`sqlite:///path` (the embedded default) or `postgresql://user:password@host:port/database`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from slotforce.store.errors import BadStoreUrl, StoreError
from slotforce.store.outbox import Outbox
from slotforce.store.sqlite import SqliteOutbox


def sqlite_path(url: str, base_dir: str | Path | None = None) -> str:
    """The file behind `sqlite:///relative/path` (relative to `base_dir`) or `sqlite:////abs/path`."""
    if not url.startswith("sqlite:///"):
        raise BadStoreUrl(url, "a SQLite store URL starts with sqlite:/// (three slashes, then the path)")
    path = url[len("sqlite:///"):]
    if not path:
        raise BadStoreUrl(url, "the URL has no file path")
    if path == ":memory:" or Path(path).is_absolute() or base_dir is None:
        return path
    return str(Path(base_dir) / path)


# URL scheme -> backend: what `store:` in slotforce.yml may name.
BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


def backend_of(url: str) -> str | None:
    """'sqlite' or 'postgresql' for a store URL slotforce can open; None for any other."""
    return BACKENDS.get(url.split(":", 1)[0].lower()) if ":" in url else None


def open_store(url: str, *, base_dir: str | Path | None = None, **options: Any) -> Outbox:
    """Open (and create if needed) the outbox at `url`; `options` go to the backend (create_wait, backoff)."""
    scheme = backend_of(url)
    if scheme == "sqlite":
        return SqliteOutbox(sqlite_path(url, base_dir), **options)
    if scheme == "postgresql":
        from slotforce.store.postgresql import PostgresOutbox  # psycopg is only needed by who uses it

        return PostgresOutbox(url, **options)
    raise BadStoreUrl(url, "unknown store scheme")


def check_store(url: str, *, base_dir: str | Path | None = None) -> None:
    """Raise `StoreError` (saying which store and why) when the outbox at `url` could not be opened for
    writing; creates and changes nothing (`check-config` asks it before anything runs)."""
    scheme = backend_of(url)
    if scheme == "postgresql":
        from slotforce.store.postgresql import check_reachable

        check_reachable(url)
        return
    if scheme != "sqlite":
        raise BadStoreUrl(url, "unknown store scheme")
    path = Path(sqlite_path(url, base_dir))
    if str(path) == ":memory:":
        return
    existing = path if path.exists() else next((p for p in path.parents if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK):
        raise StoreError(f"the outbox {path} cannot be written: {existing} is not writable by this user")
