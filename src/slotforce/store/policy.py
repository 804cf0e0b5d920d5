"""The outbox's rules as pure functions over plain rows (mappings by column name): every backend's verdicts.

A backend only fetches the rows a rule names and writes what the verdict says; it decides nothing.
The rules (see `outbox.py` for the promises they keep):

- `expired_lease`: a lease that ran out (or a batch the worker gave up on mid-way) is not an attempt:
  its attempt is given back and `expired_leases` counts it. Only an item its worker died with alone
  fails (LEASE_EXPIRED_REPEATEDLY, after `max_attempts` expiries), so a payload that kills every
  worker cannot stall the queue and a crash is never charged to the items that shared its batch.
- `batch_cap`: items back from expired leases go out in smaller batches (halves, down to one), so
  after a few crashes the one that causes them is alone.
- `superseded`: a repeatable change older than one of the same uid and scope already sent is skipped.
- `blocked`: one change of a booking in flight at a time, earlier ones first; a create overtakes
  the changes waiting for it; repeatables of one uid go in the order they happened.
- `create_wait`: a change that needs its booking's create waits for it, and is parked after
  `create_wait` when none is queued.
- `settle`: what a worker's result does to an item (done, retry with backoff, wait for the budget, failed).
"""

from __future__ import annotations

import enum
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slotforce.store.backoff import Backoff
from slotforce.store.models import ItemResult, State

Row = Mapping[str, Any]

LEASE_EXPIRED_REPEATEDLY = "LEASE_EXPIRED_REPEATEDLY"
WAITING_FOR_CREATE = "WAITING_FOR_CREATE"


class Verdict(str, enum.Enum):
    READY = "ready"  # hand it out now
    BLOCKED = "blocked"  # not now: an earlier change of its booking, or its create, comes first
    SUPERSEDED = "superseded"  # finish as done, skipped: a newer change of the same kind was sent
    PARK = "park"  # stop waiting for its create; an operator replays it
    LEASE_EXPIRED = "lease_expired"  # its worker died with it too often: failed


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str | None = None
    code: str | None = None
    by: Row | None = None  # the newer change that supersedes this one

    @property
    def outcome(self) -> dict[str, Any]:
        """The `outcome` of a superseded item."""
        assert self.by is not None
        return {"status": "skipped", "reason": self.reason, "superseded_by": self.by["dedupe_key"]}


READY = Decision(Verdict.READY)
BLOCKED = Decision(Verdict.BLOCKED)


@dataclass(frozen=True)
class Expiry:
    """What an expired lease does to one of its items: its new counts, and a verdict when it fails."""

    expired_leases: int
    attempts: int
    decision: Decision | None = None


def expired_lease(row: Row, held: int, max_attempts: int) -> Expiry:
    """For an item whose lease ran out while its worker held `held` unfinished items (this one included).

    The attempt taken at lease time is given back: attempts count only tries that ended with a
    result. Only an item held alone can be blamed for the crash, so only then does it fail.
    """
    count = row["expired_leases"] + 1
    attempts = max(row["attempts"] - 1, 0)
    if held > 1 or count < max_attempts:
        return Expiry(count, attempts)
    reason = (f"its lease expired {count} times without a result, the last time with the worker holding it alone"
              " (the worker died or hung while sending it); replay it once the cause is fixed")
    return Expiry(count, attempts, Decision(Verdict.LEASE_EXPIRED, reason, LEASE_EXPIRED_REPEATEDLY))


def batch_cap(limit: int, row: Row) -> int:
    """The most items a lease holding `row` may have: halved for each lease of it that expired, down to one."""
    return max(1, limit >> row["expired_leases"])


def narrowed_cap(cap: int, chosen: int, limit: int, row: Row) -> int | None:
    """The lease's cap once `row` joins its `chosen` items, or None if it does not fit (it waits for the next lease)."""
    new = min(cap, batch_cap(limit, row))
    return new if chosen < new else None


def superseded(row: Row, done_repeatables: Sequence[Row]) -> Decision | None:
    """`row` against the done repeatable changes of its uid: superseded by the newest that happened after it
    and is about the same people (scope), unless that one was itself skipped.

    Sending it now would undo the newer change (a no-show set after it was cleared); an in-order
    delivery would have sent it first and then the newer one, which leaves the newer one's state.
    """
    order = row["repeat_order"]
    if order is None:
        return None
    scope = row["repeat_scope"] or ""
    newer = [d for d in done_repeatables if d["repeat_order"] is not None and d["repeat_order"] > order
             and (d["repeat_scope"] or "") == scope and _status(d) != "skipped"]
    if not newer:
        return None
    by = max(newer, key=lambda d: d["repeat_order"])
    reason = (f"superseded: {by['action']} (item {by['id']}) happened after this {row['action']} and was already"
              " sent; sending this one would undo it")
    return Decision(Verdict.SUPERSEDED, reason, by=by)


def supersede_trace(decision: Decision) -> list[dict[str, Any]]:
    assert decision.by is not None
    return [{"step": "superseded", "detail": {"by": decision.by["dedupe_key"], "item": decision.by["id"]}}]


def _status(row: Row) -> str:
    outcome = row["outcome"]
    return (json.loads(outcome) if isinstance(outcome, str) else outcome or {}).get("status") or ""


def blocked(row: Row, booking_rows: Sequence[Row]) -> bool:
    """An earlier change of the same booking (`booking_rows`: its unfinished changes, linked through
    reschedules) is still queued, or one is in flight.

    "Earlier" is arrival order (item id), except among the repeatable changes of one uid, which go
    in the order they happened: each takes the queue position of the first-arrived of its uid's
    repeatable changes that happened at or after it. That keeps one total order per booking (no two
    changes can wait for each other), whichever worker on whichever host looks.
    """
    if len(booking_rows) < 2:
        return False

    def position(r: Row) -> tuple[int, int, int]:
        rid, order, ruid = r["id"], r["repeat_order"], r["booking_uid"]
        if order is None:
            return (rid, 0, rid)
        first = min(o["id"] for o in booking_rows if o["booking_uid"] == ruid and o["repeat_order"] is not None
                    and (o["repeat_order"], o["id"]) >= (order, rid))
        return (first, order, rid)

    mine = next((r for r in booking_rows if r["id"] == row["id"]), None)
    if mine is None:
        return False
    me = position(mine)
    for other in booking_rows:
        if other["id"] == row["id"]:
            continue
        if row["establishes"] and other["requires_uid"] == row["booking_uid"]:
            continue  # a create is never held up by the changes that are waiting for it
        if other["state"] == State.LEASED.value or position(other) < me:
            return True  # one change of a booking in flight at a time
    return False


def needs_create(row: Row) -> bool:
    """Whether `create_wait` applies: the change needs a create and the operator did not say "send anyway"."""
    return row["requires_uid"] is not None and not row["skip_create_wait"]


def create_wait(row: Row, creates: Sequence[Row], now: float, wait: timedelta) -> Decision:
    """`row` against the changes that establish its `requires_uid` (`creates`): ready once one is done.

    Without one after `wait` it is parked, unless a create is queued (waiting for the API budget or a
    retry): then it keeps waiting however long that takes.
    """
    if any(c["state"] == State.DONE.value for c in creates):
        return READY
    queued = any(c["state"] in (State.PENDING.value, State.LEASED.value) for c in creates)
    if now - row["created_at"] < wait.total_seconds() or queued:
        return BLOCKED
    reason = (f"no create of booking {row['requires_uid']} was sent within {int(wait.total_seconds() // 60)} minutes"
              f" of this {row['action']} change; if the Event exists in Salesforce already, `slotforce replay {row['id']}`")
    return Decision(Verdict.PARK, reason, WAITING_FOR_CREATE)


@dataclass(frozen=True)
class Settlement:
    """What one result does to its item: the new state and, for pending, when it is due again."""

    state: State
    available_at: float | None = None
    give_back_attempt: bool = False  # the lease was not an attempt (waiting for the budget)
    error: str | None = None
    code: str | None = None
    gave_up: bool = False  # a transient failure past max_attempts
    note_error: bool = False  # remember it as the event type's last sync error


def settle(result: ItemResult, attempts: int, now: float, backoff: Backoff, rng: random.Random) -> Settlement:
    """The verdict on a leased item after `attempts` leases, from how sending it went."""
    if result.kind == "done":
        return Settlement(State.DONE)
    if result.kind == "retry":
        if result.retry_at is None and attempts >= backoff.max_attempts:
            return Settlement(State.FAILED, error=f"gave up after {attempts} attempts; last error: {result.error}",
                              code=result.code, gave_up=True, note_error=True)
        due = result.retry_at.timestamp() if result.retry_at is not None else now + backoff.delay(attempts, rng)
        return Settlement(State.PENDING, due, error=result.error, code=result.code, note_error=True)
    if result.kind == "wait":
        # Not an attempt: the org refused to look at it (no API budget left). Give the lease's
        # attempt back so that a long wait never reaches max_attempts.
        due = result.retry_at.timestamp() if result.retry_at is not None else now
        return Settlement(State.PENDING, due, give_back_attempt=True, error=result.error, code=result.code,
                          note_error=True)
    if result.kind == "failed":
        return Settlement(State.FAILED, error=result.error or "", code=result.code, note_error=True)
    raise ValueError(f"ItemResult.kind must be done, retry, wait or failed, not {result.kind!r}")
