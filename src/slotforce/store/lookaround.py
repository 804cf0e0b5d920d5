"""The rows the outbox's rules look at for one page of due items, fetched in three statements per page
(not three per item: on a networked database each statement is a round trip).

Bookings are per org: rows are grouped by (org, uid), so the same uid in two orgs is two bookings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from slotforce.store import policy
from slotforce.store.storage import Tx

Row = dict[str, Any]


class PageRows:
    """The unfinished changes of the page's bookings, their done repeatables, and their creates."""

    def __init__(self, tx: Tx, array: Callable[[list[str]], Any], page: Sequence[Row]) -> None:
        uids = {r["booking_uid"] for r in page} | {r["previous_booking_uid"] for r in page if r["previous_booking_uid"]}
        self._unfinished: dict[tuple[str, str], dict[int, Row]] = defaultdict(dict)
        for r in tx.rows("booking_items", uids=array(sorted(uids))):
            for uid in (r["booking_uid"], r["previous_booking_uid"]):
                if uid is not None:
                    self._unfinished[(r["org"], uid)][r["id"]] = r
        self._done_repeatables = _grouped(tx, "done_repeatables", array,
                                          {r["booking_uid"] for r in page if r["repeat_order"] is not None})
        self._creates = _grouped(tx, "creates_of", array, {r["requires_uid"] for r in page if policy.needs_create(r)})
        self._stopped: set[int] = set()

    def booking(self, row: Row) -> list[Row]:
        """The unfinished changes of `row`'s booking, linked through its previous uid."""
        org = row["org"]
        found = {**self._unfinished[(org, row["booking_uid"])],
                 **self._unfinished[(org, row["previous_booking_uid"] or row["booking_uid"])]}
        return [r for rid, r in found.items() if rid not in self._stopped]

    def done_repeatables(self, row: Row) -> list[Row]:
        return self._done_repeatables.get((row["org"], row["booking_uid"]), [])

    def creates(self, row: Row) -> list[Row]:
        return self._creates.get((row["org"], row["requires_uid"]), [])

    def stopped(self, item_id: int) -> None:
        """This scan finished, parked or failed the item: it no longer holds its booking up."""
        self._stopped.add(item_id)


def _grouped(tx: Tx, name: str, array: Callable[[list[str]], Any], uids: set[str]) -> dict[tuple[str, str], list[Row]]:
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    if uids:
        for r in tx.rows(name, uids=array(sorted(uids))):
            grouped[(r["org"], r["booking_uid"])].append(r)
    return grouped
