"""Errors of the durable outbox, each saying what went wrong and what to do about it."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: something about the outbox itself (its URL, its file, an item id)."""


class BadStoreUrl(StoreError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"store: {url!r}: {problem} (expected e.g. `store: sqlite:///.slotforce/outbox.db` in slotforce.yml)")
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
