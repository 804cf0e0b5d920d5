"""Errors of the durable outbox, each saying what went wrong and what to do about it."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: something about the outbox itself (its URL, its file, an item id)."""


class BadStoreUrl(StoreError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"store: {url!r}: {problem} (expected e.g. `store: sqlite:///.slotforce/outbox.db` or `store: postgresql://user@host:5432/slotforce` in slotforce.yml)")
        self.url = url


class ItemNotFound(StoreError):
    def __init__(self, item_id: int) -> None:
        super().__init__(f"outbox item {item_id} does not exist (see `slotforce status` / `slotforce errors` for ids)")
        self.item_id = item_id


class NotReplayable(StoreError):
    def __init__(self, item_id: int, state: str) -> None:
        super().__init__(
            f"outbox item {item_id} is {state}: only failed or parked items can be replayed"
            + (" (it is still queued or being sent; wait for it)" if state in ("pending", "leased") else "")
        )
        self.item_id = item_id
        self.state = state


class LeaseLost(StoreError):
    """The worker no longer holds its lease: it ran out and another worker may have the items."""

    def __init__(self, lease_id: str, held: int, expected: int | None) -> None:
        have = f"{held} of {expected}" if expected is not None else str(held)
        super().__init__(
            f"lease {lease_id} is lost ({have} item(s) still held): it expired and the items may be with another"
            " worker; this worker must not write them (raise outbox.lease_seconds if calls are slow)"
        )
        self.lease_id = lease_id
        self.held = held


class OutboxUnwritable(StoreError):
    """The outbox cannot write: its disk is full, it is read-only, locked too long, or its server is gone.

    Nothing of the failed transaction was stored. `cause` is one of CAUSES' keys; the service answers
    503 with Retry-After, so the sender delivers again once the cause is fixed.
    """

    CAUSES = {
        "disk_full": "the disk (or the database's size limit) is full: free space on its volume",
        "read_only": "it is read-only: make the file, its -wal and -shm files and its folder writable by the "
                     "user running slotforce (and the volume mounted read-write)",
        "io_error": "the disk reported an I/O error: check the volume",
        "locked": "another process holds its write lock for too long: stop the stuck process (another "
                  "`slotforce sync`, a backup holding a transaction)",
        "unreachable": "its database server cannot be reached: check that it runs and that `store:` names it",
    }

    def __init__(self, path: str, cause: str, detail: str) -> None:
        super().__init__(f"the outbox {path} cannot store anything: {self.CAUSES[cause]} ({detail})")
        self.path = path
        self.cause = cause
