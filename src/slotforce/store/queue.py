"""The outbox over any `Storage`: fetches what `policy.py` needs, writes what its verdicts say.

Every backend is this class over its own storage, so the rules hold the same on SQLite and on
PostgreSQL; a backend differs only in its named SQL and in how it locks (one writer for SQLite,
row locks taken with SKIP LOCKED for PostgreSQL, so workers on many hosts lease side by side).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slotforce.store import policy
from slotforce.store.backoff import Backoff
from slotforce.store.lookaround import PageRows
from slotforce.store.errors import ItemNotFound, LeaseLost, NotReplayable, OutboxUnwritable, StoreError
from slotforce.store.models import (
    BUDGET_SPENT,
    DEFAULT_ORG,
    BudgetWait,
    Delivery,
    FinishReport,
    HeldLease,
    ItemResult,
    LastSyncError,
    Lease,
    NewChange,
    OutboxItem,
    Receipt,
    State,
    TraceEntry,
    utc,
)
from slotforce.store.outbox import DEFAULT_BATCH, DEFAULT_CREATE_WAIT, DEFAULT_LEASE, Activity, Outbox
from slotforce.store.storage import Storage, Tx

# Event types are keys in slotforce.yml; changes without one are filed under the default settings.
_NO_EVENT_TYPE = "default"
# How often a transaction the database aborted for another one (PostgreSQL: a deadlock) is run again.
CONFLICT_RETRIES = 5
# Due items read per look: a deep queue is not loaded at once, a full batch stops early, and on
# PostgreSQL (which locks what it reads) the rest is left to the other workers.
SCAN_PAGE = 500


def _epoch(now: datetime | None) -> float:
    return time.time() if now is None else now.timestamp()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


class SqlOutbox(Outbox):
    """`SqlOutbox(storage)`; `create_wait` and `backoff` are the rules' settings (slotforce.yml's `outbox:`)."""

    def __init__(self, storage: Storage, *, create_wait: timedelta = DEFAULT_CREATE_WAIT, backoff: Backoff = Backoff(),
                 rng: random.Random | None = None) -> None:
        self.storage = storage
        self.create_wait = create_wait
        self.backoff = backoff
        self._rng = rng or random.Random()

    # -- intake ---------------------------------------------------------------------------------
    def enqueue(self, delivery: Delivery, changes: Sequence[NewChange], *, now: datetime | None = None) -> Receipt:
        at = _epoch(now)

        def store(tx: Tx) -> Receipt:
            receipt = self._store_delivery(tx, delivery, changes, at)
            if receipt.queued_new:
                tx.one("wake_workers")
            return receipt

        receipt = self._retrying(store)
        if receipt.queued_new:
            self.storage.wake()
        return receipt

    def enqueue_many(self, deliveries: Sequence[tuple[Delivery, Sequence[NewChange]]], *,
                     now: datetime | None = None) -> list[Receipt | Exception]:
        at = _epoch(now)
        if len(deliveries) == 1:  # alone, its own transaction is its savepoint (two statements fewer)
            try:
                return [self.enqueue(*deliveries[0], now=now)]
            except OutboxUnwritable:
                raise
            except Exception as exc:
                if self.storage.conflict(exc):
                    raise
                return [exc]

        def store(tx: Tx) -> list[Receipt | Exception]:
            answers: list[Receipt | Exception] = []
            for n, (delivery, changes) in enumerate(deliveries):
                # A savepoint each, so a delivery that fails alone takes only its own rows with it.
                savepoint = f"delivery_{n}"
                tx.script(f"SAVEPOINT {savepoint}")
                try:
                    answers.append(self._store_delivery(tx, delivery, changes, at))
                except Exception as exc:
                    # the storage refuses, or the database aborted the transaction for another one:
                    # the whole transaction goes (and, for a conflict, is run again), the group with it
                    if self.storage.refusal(exc) is not None or self.storage.conflict(exc):
                        raise
                    tx.script(f"ROLLBACK TO SAVEPOINT {savepoint}")
                    answers.append(exc)
                tx.script(f"RELEASE SAVEPOINT {savepoint}")
            if any(isinstance(a, Receipt) and a.queued_new for a in answers):
                tx.one("wake_workers")
            return answers

        answers = self._retrying(store)
        if any(isinstance(a, Receipt) and a.queued_new for a in answers):
            self.storage.wake()
        return answers

    def _store_delivery(self, tx: Tx, delivery: Delivery, changes: Sequence[NewChange], at: float) -> Receipt:
        """Write one delivery and its changes inside `tx` (deduplicated by body digest and change key)."""
        digest = hashlib.sha256(delivery.body).hexdigest()
        # Insert first, find on conflict: two intakes storing one delivery at once both succeed.
        org = delivery.org
        row = tx.one("insert_delivery", org=org, source=delivery.source, digest=digest, body=delivery.body,
                     content_type=delivery.content_type, note=delivery.note, now=at)
        repeated = row is None
        if row is None:
            row = tx.one("find_delivery", org=org, source=delivery.source, digest=digest)
            tx.run("repeat_delivery", id=row["id"], now=at)
        delivery_id = row["id"]
        item_ids: list[int] = []
        duplicates: list[int] = []
        for change in changes:
            new = tx.one(
                "insert_item", org=org, delivery_id=delivery_id, dedupe_key=change.dedupe_key, source=delivery.source,
                booking_uid=change.booking_uid, previous_booking_uid=change.previous_booking_uid,
                requires_uid=change.requires_uid, establishes=int(change.establishes), action=change.action,
                event_type=change.event_type, change=_json(change.change), now=at,
                repeat_order=change.happened_order(), repeat_scope=change.repeat_scope,
            )
            if new is None:  # an earlier delivery queued this change
                existing = tx.one("find_item_by_key", org=org, dedupe_key=change.dedupe_key)["id"]
                item_ids.append(existing)
                duplicates.append(existing)
                continue
            if change.event_type is None:  # (the statement changes nothing for a change that has one)
                tx.run("inherit_event_type", id=new["id"])
            item_ids.append(new["id"])
        return Receipt(delivery_id, repeated, tuple(item_ids), tuple(duplicates), delivery.note)

    # -- worker ---------------------------------------------------------------------------------
    def lease(self, worker: str, *, limit: int = DEFAULT_BATCH, lease_for: timedelta = DEFAULT_LEASE,
              org: str | None = None, now: datetime | None = None) -> Lease:
        at = _epoch(now)
        lease_id = uuid.uuid4().hex
        expires = at + lease_for.total_seconds()
        def take(tx: Tx) -> tuple[OutboxItem, ...]:
            chosen: list[int] = []
            cap = limit  # narrowed by items back from expired leases (policy.batch_cap)
            requeued: dict[int, int | None] = {}  # expired leases' items given back in this scan
            after = 0
            while len(chosen) < cap:
                size = min(SCAN_PAGE, max(limit, 20))
                page = (tx.all("due_items", after=after, now=at, page=size) if org is None
                        else tx.all("due_items_of_org", after=after, now=at, org=org, page=size))
                if not page:
                    break
                around = PageRows(tx, self.storage.array, page)
                for row in page:
                    after = row["id"]
                    if len(chosen) >= cap:
                        break
                    if not self._ready(tx, row, around, at, requeued):
                        continue
                    fits = policy.narrowed_cap(cap, len(chosen), limit, row)
                    if fits is not None:
                        chosen.append(row["id"])
                        cap = fits
            items: tuple[OutboxItem, ...] = ()
            if chosen:
                ids = self.storage.array(chosen)
                tx.run("take_items", ids=ids, lease_id=lease_id, worker=worker, expires=expires, now=at)
                tx.run("inherit_event_types", ids=ids)
                items = tuple(_item(r) for r in tx.rows("get_items", ids=ids))
            return items

        # (run again from the start if PostgreSQL aborts it for a concurrent finish: a deadlock)
        items = self._retrying(take)
        return Lease(lease_id, worker, utc(expires), items)  # type: ignore[arg-type]

    def _ready(self, tx: Tx, row: dict[str, Any], around: PageRows, at: float,
               requeued: dict[int, int | None]) -> bool:
        """Apply the rules to one due item, in their order; write what stops it (supersede, park, fail)."""
        if row["state"] == State.LEASED.value:
            if row["id"] not in requeued:
                requeued.update(self._expire_lease(tx, row["lease_id"], at))
            row["expired_leases"] = requeued.get(row["id"])
            if row["expired_leases"] is None:
                around.stopped(row["id"])
                return False
        if row["repeat_order"] is not None:
            decision = policy.superseded(row, around.done_repeatables(row))
            if decision is not None:
                tx.run("set_done", id=row["id"], outcome=_json(decision.outcome), now=at)
                self._trace(tx, row["org"], row["booking_uid"], row["dedupe_key"], row["id"], at,
                            policy.supersede_trace(decision))
                around.stopped(row["id"])
                return False
        if policy.blocked(row, around.booking(row)):
            return False
        if not policy.needs_create(row):
            return True
        decision = policy.create_wait(row, around.creates(row), at, self.create_wait)
        if decision.verdict == policy.Verdict.PARK:
            self._stop(tx, row["id"], State.PARKED, row["org"], row["event_type"], decision.reason, decision.code,
                       None, at)
            around.stopped(row["id"])
        return decision.verdict == policy.Verdict.READY

    def _expire_lease(self, tx: Tx, lease_id: str, at: float) -> dict[int, int | None]:
        """Give all the items of a lease that ended without a result back at once (so each is judged by
        how many its worker held when it died): each item's new count of expired leases, None if it failed."""
        rows = tx.all("lease_rows", lease_id=lease_id)
        held = tx.one("held_at_expiry", lease_id=lease_id)["held"]
        return {row["id"]: self._expire(tx, row, held, at) for row in rows}

    def _expire(self, tx: Tx, row: dict[str, Any], held: int, at: float) -> int | None:
        """One item of an ended lease back to the queue, as `policy.expired_lease` says."""
        expiry = policy.expired_lease(row, held, self.backoff.max_attempts)
        # the counts are written even for one that fails: its attempts say how often it got a result
        tx.run("requeue_expired", id=row["id"], lease_id=row["lease_id"], attempts=expiry.attempts,
               expired_leases=expiry.expired_leases, now=at)
        if expiry.decision is None:
            return expiry.expired_leases
        self._stop(tx, row["id"], State.FAILED, row["org"], row["event_type"], expiry.decision.reason,
                   expiry.decision.code, None, at)
        return None

    def finish(self, lease_id: str, results: Iterable[ItemResult], *, now: datetime | None = None) -> FinishReport:
        at = _epoch(now)
        results = list(results)
        return self._retrying(lambda tx: self._finish(tx, lease_id, results, at))

    def _retrying(self, work):
        """`work(tx)` in a transaction, run again (from the start) when the database aborted it for a
        concurrent one; anything else raises at once."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                with self.storage.transaction() as tx:
                    return work(tx)
            except Exception as exc:
                if not self.storage.conflict(exc):
                    raise
                if attempt + 1 == CONFLICT_RETRIES:  # (a webhook is then a 503: send it again later)
                    raise OutboxUnwritable(self.storage.where, "locked",
                                           f"aborted {CONFLICT_RETRIES} times for concurrent transactions: {exc}") from exc
        raise AssertionError("unreachable")

    def _finish(self, tx: Tx, lease_id: str, results: list[ItemResult], at: float) -> FinishReport:
        applied: list[int] = []
        stale: list[int] = []
        gave_up: list[int] = []
        # Each (org, event type)'s last sync error is one row that concurrent finishes all write: they
        # are written last, one per event type, in name order, so two finishes lock them in the same
        # order (in the order of the results, two could each hold the row the other wants: a deadlock).
        notes: dict[tuple[str, str], dict[str, Any]] = {}
        # one statement to lock and read the lease's rows, one for all the dones, one for all traces
        held = {r["id"]: r for r in tx.rows("leased_items", ids=self.storage.array([r.item_id for r in results]),
                                             lease_id=lease_id)}
        dones: list[dict[str, Any]] = []
        traces: list[dict[str, Any]] = []
        for result in results:
            row = held.get(result.item_id)
            if row is None:
                stale.append(result.item_id)
                continue
            verdict = policy.settle(result, row["attempts"], at, self.backoff, self._rng)
            if verdict.state == State.DONE:
                dones.append({"id": result.item_id, "outcome": _json(result.outcome or {}), "now": at})
            elif verdict.state == State.PENDING:
                tx.run("set_pending", id=result.item_id, available_at=verdict.available_at,
                       give_back=int(verdict.give_back_attempt), error=verdict.error, code=verdict.code, now=at)
                notes[row["org"], row["event_type"] or _NO_EVENT_TYPE] = self._sync_error(
                    row["org"], row["event_type"], verdict.code, verdict.error or "", result.details,
                    result.item_id, at)
            else:
                tx.run("set_stopped", id=result.item_id, state=verdict.state.value, error=verdict.error,
                       code=verdict.code, now=at)
                notes[row["org"], row["event_type"] or _NO_EVENT_TYPE] = self._sync_error(
                    row["org"], row["event_type"], verdict.code, verdict.error or "", result.details,
                    result.item_id, at)
            if verdict.gave_up:
                gave_up.append(result.item_id)
            if result.trace is not None:
                traces.append({"org": row["org"], "booking_uid": row["booking_uid"], "action_key": row["dedupe_key"],
                               "item_id": result.item_id, "now": at, "steps": _json(result.trace)})
            applied.append(result.item_id)
        tx.run_many("set_done", dones)
        tx.run_many("insert_trace", traces)
        for key in sorted(notes):
            tx.run("note_sync_error", **notes[key])
        return FinishReport(tuple(applied), tuple(stale), tuple(gave_up))

    def renew(self, lease_id: str, lease_for: timedelta = DEFAULT_LEASE, *, items: int | None = None,
              now: datetime | None = None) -> datetime:
        expires = _epoch(now) + lease_for.total_seconds()
        with self.storage.transaction() as tx:
            # Items still carrying this lease id were not handed out again: a lease that takes them
            # holds their rows (or the write lock), so holding them all means no one else has any.
            held = tx.one("count_held", lease_id=lease_id)["held"]
            if held == 0 or (items is not None and held < items):
                raise LeaseLost(lease_id, held, items)
            tx.run("extend_lease", lease_id=lease_id, expires=expires)
        return utc(expires)  # type: ignore[return-value]

    def hold_queue(self, until: datetime, error: str, code: str, *, org: str | None = None,
                   now: datetime | None = None) -> int:
        with self.storage.transaction() as tx:
            return tx.run("hold_queue", until=until.timestamp(), error=error, code=code, org=org, now=_epoch(now))

    def held_leases(self, *, now: datetime | None = None) -> list[HeldLease]:
        with self.storage.reading() as tx:
            rows = tx.all("held_leases")
        return [HeldLease(r["lease_id"], r["lease_owner"] or "", r["items"], utc(r["expires_at"]))  # type: ignore[arg-type]
                for r in rows]

    def budget_wait(self, *, org: str | None = None, now: datetime | None = None) -> BudgetWait | None:
        with self.storage.reading() as tx:
            row = tx.one("budget_wait", code=BUDGET_SPENT, org=org, now=_epoch(now))
        return BudgetWait(row["items"], utc(row["next_try_at"])) if row and row["items"] else None  # type: ignore[arg-type]

    def release(self, lease_id: str, item_ids: Iterable[int] | None = None, *, interrupted: bool = False,
                now: datetime | None = None) -> int:
        at = _epoch(now)
        with self.storage.transaction() as tx:
            if interrupted:  # counted like an expired lease: the batch is split, not charged
                return len(self._expire_lease(tx, lease_id, at))
            if item_ids is None:
                return tx.run("release", lease_id=lease_id, id=None, now=at)
            return sum(tx.run("release", lease_id=lease_id, id=item_id, now=at) for item_id in item_ids)

    def read_note(self, key: str) -> str | None:
        with self.storage.reading() as tx:
            row = tx.one("read_note", key=f"note:{key}")
        return row["value"] if row else None

    def write_note(self, key: str, value: str | None) -> None:
        with self.storage.transaction() as tx:
            if value is None:
                tx.run("delete_note", key=f"note:{key}")
            else:
                tx.run("write_note", key=f"note:{key}", value=value)

    def due_orgs(self, *, now: datetime | None = None) -> dict[str, int]:
        with self.storage.reading() as tx:
            return {r["org"]: int(r["due"]) for r in tx.rows("due_orgs", now=_epoch(now))}

    def activity(self, since: datetime, *, org: str | None = None) -> Activity:
        with self.storage.reading() as tx:
            minutes = tx.all("activity_minutes", default=_NO_EVENT_TYPE, since=since.timestamp(), org=org)
            unfinished = tx.all("unfinished_by_type", default=_NO_EVENT_TYPE, org=org)
        return Activity(
            minutes=[(utc(int(r["minute"]) * 60), r["event_type"], int(r["accepted"]), int(r["landed"]), int(r["failed"]))
                     for r in minutes],  # type: ignore[misc]
            unfinished={r["event_type"]: (int(r["n"]), utc(r["first"])) for r in unfinished})  # type: ignore[misc]

    def wait_for_work(self, timeout: float) -> bool:
        return self.storage.wait_for_work(timeout)

    def claim_job(self, name: str, every: timedelta, *, now: datetime | None = None) -> bool:
        at = _epoch(now)
        with self.storage.transaction() as tx:
            if not tx.one("job_lock", key=f"job:{name}")["locked"]:
                return False  # another host is claiming it right now
            return tx.run("claim_job", key=f"job:{name}", now=str(at), cutoff=at - every.total_seconds()) > 0

    # -- shared writes --------------------------------------------------------------------------
    def _stop(self, tx: Tx, item_id: int, state: State, org: str, event_type: str | None, message: str | None,
              code: str | None, details: dict[str, Any] | None, at: float) -> None:
        """Failed or parked with its reason, which also becomes the event type's last sync error."""
        tx.run("set_stopped", id=item_id, state=state.value, error=message, code=code, now=at)
        self._note_sync_error(tx, org, event_type, code, message or "", details, item_id, at)

    @staticmethod
    def _sync_error(org: str, event_type: str | None, code: str | None, message: str,
                    details: dict[str, Any] | None, item_id: int | None, at: float) -> dict[str, Any]:
        return {"org": org, "event_type": event_type or _NO_EVENT_TYPE, "code": code, "message": message,
                "details": _json(details or {}), "item_id": item_id, "now": at}

    @classmethod
    def _note_sync_error(cls, tx: Tx, org: str, event_type: str | None, code: str | None, message: str,
                         details: dict[str, Any] | None, item_id: int | None, at: float) -> None:
        tx.run("note_sync_error", **cls._sync_error(org, event_type, code, message, details, item_id, at))

    @staticmethod
    def _trace(tx: Tx, org: str, booking_uid: str, action_key: str | None, item_id: int | None, at: float,
               steps: list[Any]) -> None:
        tx.run("insert_trace", org=org, booking_uid=booking_uid, action_key=action_key, item_id=item_id, now=at,
               steps=_json(steps))

    # -- operator -------------------------------------------------------------------------------
    def replay(self, item_id: int, *, now: datetime | None = None) -> OutboxItem:
        with self.storage.transaction() as tx:
            item = self._get(tx, item_id)
            if item.state not in (State.FAILED, State.PARKED):
                raise NotReplayable(item_id, item.state.value)
            tx.run("replay_item", id=item_id, now=_epoch(now))
            return self._get(tx, item_id)

    def get(self, item_id: int) -> OutboxItem:
        with self.storage.reading() as tx:
            return self._get(tx, item_id)

    @staticmethod
    def _get(tx: Tx, item_id: int) -> OutboxItem:
        row = tx.one("get_item", id=item_id)
        if row is None:
            raise ItemNotFound(item_id)
        return _item(row)

    def items(self, *, states: Sequence[str] | None = None, booking_uid: str | None = None,
              limit: int = 50, org: str | None = None) -> list[OutboxItem]:
        wanted = self.storage.array([State(s).value for s in states]) if states else None
        with self.storage.reading() as tx:
            return [_item(r) for r in tx.rows("items", states=wanted, uid=booking_uid, limit=limit, org=org)]

    def counts(self, *, org: str | None = None, now: datetime | None = None) -> dict[str, int]:
        at = _epoch(now)
        result = {"pending": 0, "retry_scheduled": 0, "leased": 0, "done": 0, "failed": 0, "parked": 0}
        with self.storage.reading() as tx:
            for r in tx.rows("count_by_state", now=at, org=org):
                result["retry_scheduled" if r["scheduled"] else r["state"]] += r["n"]
            # a part of retry_scheduled: what waits for Salesforce's daily API budget, not for a retry
            wait = tx.one("budget_wait", code=BUDGET_SPENT, now=at, org=org)
            deliveries = tx.one("count_deliveries", org=org)
        result["waiting_for_budget"] = wait["items"] if wait else 0
        result["deliveries"] = deliveries["deliveries"]
        result["repeated_deliveries"] = int(deliveries["repeated"])
        return result

    def delivery_body(self, delivery_id: int) -> bytes:
        with self.storage.reading() as tx:
            row = tx.one("delivery_body", id=delivery_id)
        if row is None:
            raise StoreError(f"delivery {delivery_id} does not exist")
        return bytes(row["body"])

    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        cutoff = _epoch(now) - older_than.total_seconds()
        with self.storage.transaction() as tx:
            gone = tx.run("prune_items", cutoff=cutoff)
            tx.run("prune_traces", cutoff=cutoff)
            tx.run("prune_deliveries", cutoff=cutoff)
        return gone

    # -- traces and errors ----------------------------------------------------------------------
    def record_trace(self, booking_uid: str, steps: list[Any], *, action_key: str | None = None,
                     item_id: int | None = None, org: str = DEFAULT_ORG, now: datetime | None = None) -> None:
        with self.storage.transaction() as tx:
            self._trace(tx, org, booking_uid, action_key, item_id, _epoch(now), steps)

    def traces(self, booking_uid: str, *, org: str | None = None) -> list[TraceEntry]:
        with self.storage.reading() as tx:
            rows = tx.all("traces", uid=booking_uid, org=org)
        return [TraceEntry(r["booking_uid"], r["item_id"], utc(r["at"]), json.loads(r["steps"]),  # type: ignore[arg-type]
                           r["action_key"], r["org"]) for r in rows]

    def record_sync_error(self, event_type: str | None, message: str, *, code: str | None = None,
                          details: dict[str, Any] | None = None, item_id: int | None = None,
                          org: str = DEFAULT_ORG, now: datetime | None = None) -> None:
        with self.storage.transaction() as tx:
            self._note_sync_error(tx, org, event_type, code, message, details, item_id, _epoch(now))

    def last_sync_errors(self, *, org: str | None = None) -> list[LastSyncError]:
        with self.storage.reading() as tx:
            rows = tx.all("last_sync_errors", org=org)
        return [LastSyncError(r["event_type"], r["code"], r["message"], utc(r["at"]), r["item_id"],  # type: ignore[arg-type]
                              json.loads(r["details"] or "{}"), r["org"]) for r in rows]

    def write_problem(self) -> OutboxUnwritable | None:
        return self.storage.write_problem()

    def close(self) -> None:
        self.storage.close()


def _item(row: dict[str, Any]) -> OutboxItem:
    return OutboxItem(
        id=row["id"], delivery_id=row["delivery_id"], dedupe_key=row["dedupe_key"], source=row["source"],
        booking_uid=row["booking_uid"], previous_booking_uid=row["previous_booking_uid"], action=row["action"],
        event_type=row["event_type"], state=State(row["state"]), attempts=row["attempts"],
        change=json.loads(row["change"]),
        available_at=utc(row["available_at"]),  # type: ignore[arg-type]
        created_at=utc(row["created_at"]),  # type: ignore[arg-type]
        updated_at=utc(row["updated_at"]),  # type: ignore[arg-type]
        lease_expires_at=utc(row["lease_expires_at"]), last_error=row["last_error"],
        last_error_code=row["last_error_code"], outcome=json.loads(row["outcome"]) if row["outcome"] else None,
        org=row["org"],
    )
