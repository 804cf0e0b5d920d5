"""Which backend a `store:` URL names, opened: `open_store(url)` gives an `Outbox`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slotforce.store.errors import BadStoreUrl
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


def open_store(url: str, *, base_dir: str | Path | None = None, **options: Any) -> Outbox:
    """Open (and create if needed) the outbox at `url`; `options` go to the backend (create_wait, backoff)."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return SqliteOutbox(sqlite_path(url, base_dir), **options)
    if scheme in ("postgres", "postgresql"):
        raise BadStoreUrl(url, "the PostgreSQL outbox is not implemented yet; use a sqlite:/// store for now")
    raise BadStoreUrl(url, "unknown store scheme")
