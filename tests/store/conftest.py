"""The conformance suite's backends: every test taking `open_outbox` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib

import pytest

from slotforce.store import open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A new, empty outbox's URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/outbox.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def open_outbox(store_url):
    """`open_outbox(**options)`: a new connection to the test's outbox (call again for a second process's view)."""
    opened = []

    def open_(**options):
        store = open_store(store_url, **options)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()
