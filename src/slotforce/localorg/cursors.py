"""Query cursors: the rows of a query not yet fetched, by query locator (what nextRecordsUrl names)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from slotforce.localorg import errors, store

MAX_OPEN_CURSORS = 200  # Salesforce keeps a limited number of open query cursors per user too


class Cursors:
    """Results not yet fetched, by query locator (kept in memory, oldest dropped first)."""

    def __init__(self) -> None:
        self._open: OrderedDict[str, tuple[list[dict], int]] = OrderedDict()
        self._lock = threading.Lock()
        self._next = 0

    def open(self, records: list[dict], total: int) -> str:
        with self._lock:
            self._next += 1
            locator = store.make_id("01g", self._next)
            self._open[locator] = (records, total)
            while len(self._open) > MAX_OPEN_CURSORS:
                self._open.popitem(last=False)
            return locator

    def get(self, locator: str) -> tuple[list[dict], int]:
        with self._lock:
            found = self._open.get(locator)
        if found is None:
            raise errors.InvalidQueryLocator("invalid query locator")
        return found

    def clear(self) -> None:
        with self._lock:
            self._open.clear()
