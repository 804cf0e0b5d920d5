"""The worker: lease ready changes from the outbox, sync them as one batch, record each outcome.

One pass (`run_once`) is: lease up to 200 ready items -> BookingChanges -> `SyncEngine.sync` (one
fetch Composite, one or a few write Composites) -> `Outbox.finish` with, per item, done (Salesforce
has the Booking Action), retry (a transient failure: row lock, limits, outage; the outbox backs
off) or failed (permanent, kept with its reason, replayable). `slotforce sync` drains once and
exits; `slotforce serve` runs `run()` in a background thread until told to stop.

The engine object lives across batches so describes are fetched once; it is dropped (and the
connection rebuilt) after an expired session or a connection error.

Two things keep a batch from being sent twice or failed for nothing:

- Every Salesforce call has a timeout shorter than the lease, and the lease is renewed before each
  call (`Outbox.renew`). If the lease was lost meanwhile (a slow call, a paused process), the call
  is not made and the batch is abandoned to whichever worker holds it now.
- REQUEST_LIMIT_EXCEEDED (the org's rolling 24-hour API budget is spent) is not a failure of the
  changes: they wait (`ItemResult.wait`, not an attempt) and the worker leases nothing of that org
  until the budget probe interval has passed; the next batch is the probe.

Many orgs (issue 13.4): a worker serves each org of slotforce.yml through its own `OrgLane` (settings,
connection, engine and describes made lazily, budget wait, outage backoff). Each pass leases from one
org, the next in turn among those with due work (`Outbox.due_orgs`), so a backlog in one org never
starves another; an org whose Salesforce is down (no answer, 5xx, a spent budget) backs off on its
own lane while the others are served at full speed. With one org nothing of this shows.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from pydantic import ValidationError
from simple_salesforce import Salesforce

from slotforce.service.connect import call_guard
from slotforce.store import (
    BUDGET_SPENT, DEFAULT_BATCH, DEFAULT_ORG, ItemResult, Lease, LeaseLost, Outbox, OutboxTiming, StoreError,
)
from slotforce.sync import (
    BookingChange, DescribeCache, DroppedFieldsReport, Outcome, OutcomeStatus, SalesforceCallError, Settings,
    SoqlValueError, SyncEngine,
)

log = logging.getLogger("slotforce.worker")

FLUSH_INTERVAL = 0.5  # seconds between looks at the outbox when it was empty or not full
DESCRIBE_NOTE = "describe_cache"  # where an org's describe cache is kept in the outbox (+ ":" + org)
# How long an org whose Salesforce failed a whole batch (no answer, 5xx) is left alone at most, while
# the worker serves the other orgs; it doubles from the flush interval with each failed probe.
MAX_ORG_BACKOFF = 30.0
# After such a failure the org is probed with one change and calls of at most this many seconds, so a
# hung org holds a worker (and uses attempts) for little; a probe that is answered ends the rest.
PROBE_CALL_TIMEOUT = 10.0


class LeaseLostCall(requests.RequestException):
    """Raised by the lease check in place of a Salesforce call: nothing was sent."""


@dataclass
class BatchReport:
    """What one or more passes did; `slotforce sync` prints it as its summary table."""

    batches: int = 0
    leased: int = 0
    processed: int = 0  # the Booking Action is in Salesforce (Flow status Processed or still Pending)
    skipped: int = 0  # nothing to write for this change (the engine said why); finished as done
    retried: int = 0  # transient failure: back in the queue with backoff
    waiting: int = 0  # Salesforce's daily API budget is spent: back in the queue, not an attempt
    abandoned: int = 0  # the lease was lost mid-batch: left to the worker that holds them now
    failed: int = 0  # permanent failure (or the Flow marked it Failed): kept, replayable
    api_calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # distinct messages, for the summary

    def add(self, other: "BatchReport") -> None:
        for f in fields(self):
            if f.name != "errors":  # every other field is a count (or seconds) that adds up
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        for e in other.errors:
            if e not in self.errors:
                self.errors.append(e)


class OutboxErrorSink:
    """The engine's ErrorSink: dropped fields become the event type's last sync error in the outbox.
    (Traces and failures need no sink: they travel on the outcomes that `finish` stores.)"""

    def __init__(self, outbox: Outbox, org: str = DEFAULT_ORG) -> None:
        self.outbox = outbox
        self.org = org

    def fields_dropped(self, report: DroppedFieldsReport) -> None:
        self.outbox.record_sync_error(report.event_type, report.message, code=report.code, org=self.org,
                                      details={"dropped_fields": list(report.fields), "booking_uid": report.booking_uid})


@dataclass
class OrgLane:
    """One org a worker serves: its settings and connection, its engine (made on first use, dropped
    after an outage), and its own waits: for the API budget, and after Salesforce failed a batch."""

    org: str
    settings: Settings
    connect: Callable[[], Salesforce]
    engine: SyncEngine | None = None
    budget_wait_until: datetime | None = None  # no leasing before this: the API budget was spent
    down_until: float = 0.0  # time.monotonic(): Salesforce failed the last probe; not before this
    failures: int = 0  # batches in a row that Salesforce failed as a whole
    last_batch_at: datetime | None = None
    last_error: str | None = None

    @property
    def describe_note(self) -> str:
        return f"{DESCRIBE_NOTE}:{self.org}"

    def resting(self, now: float) -> bool:
        """Not to be leased for now (waiting for the budget, or backing off an outage)."""
        if self.budget_wait_until is not None and datetime.now(timezone.utc) < self.budget_wait_until:
            return True
        return now < self.down_until


def item_result(item_id: int, o: Outcome, budget_retry_at: datetime | None = None) -> ItemResult:
    """Turn the engine's outcome into the outbox's verdict for one item."""
    trace = o.trace.as_json()
    if o.status != OutcomeStatus.FAILED:
        outcome: dict[str, Any] = {"status": o.status, "booking_action_id": o.booking_action_id,
                                   "event_id": o.event_id, "who_id": o.who_id}
        if o.status == OutcomeStatus.SKIPPED:
            outcome["reason"] = o.error
        if o.dropped:
            outcome["dropped"] = [f"{d.field}: {d.reason}" for d in o.dropped]
        return ItemResult.done(item_id, {k: v for k, v in outcome.items() if v is not None}, trace=trace)
    message = o.error or "failed without a message"
    details = {"booking_action_id": o.booking_action_id} if o.booking_action_id else None
    if o.error_code == BUDGET_SPENT and budget_retry_at is not None:
        return ItemResult.wait(item_id, message, o.error_code, retry_at=budget_retry_at, trace=trace, details=details)
    return ItemResult.transient_or_failed(item_id, message, o.error_code, transient=o.transient, trace=trace, details=details)


class Worker:
    """Drains the outbox through the sync engine. Not thread-safe: one thread runs one Worker."""

    def __init__(self, outbox: Outbox, settings: Settings | None = None, connect: Callable[[], Salesforce] | None = None,
                 *, orgs: Mapping[str, tuple[Settings, Callable[[], Salesforce]]] | None = None,
                 name: str | None = None, batch_size: int = DEFAULT_BATCH, timing: OutboxTiming | None = None,
                 lease_for: timedelta | None = None, call_timeout: timedelta | None = None,
                 budget_probe: timedelta | None = None, metrics: Any = None) -> None:
        """One org (`settings`, `connect`: the implicit org) or several (`orgs`: {name: (settings, connect)}).
        `timing` is slotforce.yml's `outbox:` block; `lease_for`, `call_timeout`, `budget_probe` override it."""
        timing = timing or OutboxTiming()
        self.outbox = outbox
        if orgs is None:
            if settings is None or connect is None:
                raise ValueError("give settings and connect (one org) or orgs")
            orgs = {DEFAULT_ORG: (settings, connect)}
        self.lanes: dict[str, OrgLane] = {}
        self._pending_orgs: Mapping[str, tuple[Settings, Callable[[], Salesforce]]] | None = None
        self._orgs_lock = threading.Lock()
        self._apply_orgs(orgs)
        self._lane: OrgLane | None = None  # the org of the batch in hand (else of the last one)
        self._last_org: str | None = None  # fair leasing: the next pass starts after this org
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.batch_size = min(batch_size, *(lane.settings.batch_size for lane in self.lanes.values()))
        self.lease_for = lease_for or timing.lease
        if call_timeout is None:
            configured = timing.call_timeout_seconds
            call_timeout = timedelta(seconds=configured) if configured and lease_for is None else self.lease_for * 0.75
        if call_timeout >= self.lease_for:
            raise ValueError(f"the call timeout ({call_timeout.total_seconds():g} s) must be shorter than the lease "
                             f"({self.lease_for.total_seconds():g} s)")
        self.call_timeout = call_timeout
        self.budget_probe = budget_probe or timing.budget_probe
        self.metrics = metrics
        self._lease: Lease | None = None  # the batch in hand: a call that could outlive its lease renews it
        self._lease_lost: LeaseLost | None = None
        self._lease_until = 0.0  # (monotonic) the batch in hand's lease runs at least until then
        self.last_batch_at: datetime | None = None
        self.last_error: str | None = None

    # -- orgs -------------------------------------------------------------------------------------

    def _apply_orgs(self, orgs: Mapping[str, tuple[Settings, Callable[[], Salesforce]]]) -> None:
        """Serve exactly `orgs`: new ones get a lane, removed ones are dropped, an org whose settings
        changed gets a new lane (its engine is made again); the others keep theirs (and their waits)."""
        lanes = {}
        for org, (settings, connect) in orgs.items():
            old = self.lanes.get(org)
            lanes[org] = old if old is not None and old.settings == settings else OrgLane(org, settings, connect)
        self.lanes = lanes

    def serve_orgs(self, orgs: Mapping[str, tuple[Settings, Callable[[], Salesforce]]]) -> None:
        """From another thread (a config reload): serve `orgs` from the next pass on (the batch in hand
        is finished with the settings it was leased under)."""
        with self._orgs_lock:
            self._pending_orgs = dict(orgs)

    def _take_pending_orgs(self) -> None:
        with self._orgs_lock:
            pending, self._pending_orgs = self._pending_orgs, None
        if pending is not None:
            self._apply_orgs(pending)

    @property
    def lane(self) -> OrgLane:
        """The lane of the batch in hand, else of the last batch, else the first org's."""
        if self._lane is not None and self._lane.org in self.lanes:
            return self._lane
        return next(iter(self.lanes.values()))

    @property
    def settings(self) -> Settings:
        return self.lane.settings

    @property
    def budget_wait_until(self) -> datetime | None:
        return self.lane.budget_wait_until

    def _next_lane(self, tried: Collection[str] = ()) -> OrgLane | None:
        """Fair leasing: the next org after the last one served, among those with due work that are not
        resting (and not `tried` in this pass); one org is leased from directly (no extra query)."""
        now = time.monotonic()
        if len(self.lanes) == 1:
            only = next(iter(self.lanes.values()))
            return None if only.resting(now) or only.org in tried else only
        due = self.outbox.due_orgs()
        ready = sorted(org for org, lane in self.lanes.items()
                       if org in due and org not in tried and not lane.resting(now))
        if not ready:
            return None
        after = [org for org in ready if self._last_org is None or org > self._last_org]
        return self.lanes[(after or ready)[0]]

    def _org_failed(self, lane: OrgLane, error: str) -> None:
        """Salesforce failed a whole batch of `lane`'s org: its engine goes; with other orgs to serve, the
        org rests (doubling, up to MAX_ORG_BACKOFF) so they keep the worker's passes."""
        lane.engine = None
        lane.last_error = error
        if len(self.lanes) > 1:
            lane.failures += 1
            rest = min(MAX_ORG_BACKOFF, FLUSH_INTERVAL * 2 ** (lane.failures - 1))
            lane.down_until = time.monotonic() + rest
            log.warning("org %s: Salesforce failed a whole batch (%s); leaving it for %.1f s and serving the "
                        "other orgs", lane.org, error, rest, extra={"event": "org_backoff", "org": lane.org})

    # -- engine -----------------------------------------------------------------------------------

    @property
    def _engine(self) -> SyncEngine | None:
        return self.lane.engine

    @property
    def engine(self) -> SyncEngine:
        return self._engine_of(self.lane)

    def _engine_of(self, lane: OrgLane) -> SyncEngine:
        if lane.engine is None:
            sf = lane.connect()
            guard = call_guard(sf, self.call_timeout.total_seconds())
            guard.before_call = self._renew_lease
            # describes kept beside the outbox: a fresh process (cron `slotforce sync`) need not describe again
            cache = DescribeCache.from_json(self.outbox.read_note(lane.describe_note))
            lane.engine = SyncEngine(lane.settings, sf, errors=OutboxErrorSink(self.outbox, lane.org),
                                     describe_cache=cache)
        return lane.engine

    def _renew_lease(self, method: str, url: str) -> None:
        """Before each Salesforce call with a batch in hand: extend the lease, or stop if it is gone."""
        lease = self._lease
        if lease is None:
            return  # describes and other calls outside a batch
        if self._lease_lost is None and time.monotonic() + self.call_timeout.total_seconds() < self._lease_until:
            # The call ends (or times out) before the lease runs out, and until then no other worker can
            # take these items: a renewal now would only cost a durable commit (an fsync) per call.
            return
        if self._lease_lost is None:
            try:
                asked = time.monotonic()
                self.outbox.renew(lease.id, self.lease_for, items=len(lease.items))
                self._lease_until = asked + self.lease_for.total_seconds()
                return
            except LeaseLost as lost:
                self._lease_lost = lost
                log.warning("%s; abandoning the batch of %d before %s %s", lost, len(lease.items), method, url)
        raise LeaseLostCall(str(self._lease_lost))

    @property
    def api_calls(self) -> int:
        return self._engine.gateway.calls if self._engine else 0

    # -- one pass ---------------------------------------------------------------------------------

    def run_once(self) -> BatchReport:
        """Lease, sync and finish one batch (of the next org in turn that has one ready). Returns an
        empty report when nothing was ready."""
        started = time.monotonic()
        self._take_pending_orgs()
        tried: set[str] = set()
        while len(tried) < len(self.lanes):
            lane = self._next_lane(tried)
            if lane is None:
                break  # nothing due, or every org with work is resting (budget, outage)
            tried.add(lane.org)
            lease = self._lease_from(lane)
            if lease is not None:
                return self._run_lease(lane, lease, started)
        return BatchReport()

    def _lease_from(self, lane: OrgLane) -> Lease | None:
        """A batch of `lane`'s org, or None (nothing ready, or its Salesforce cannot be reached)."""
        if lane.budget_wait_until is not None and datetime.now(timezone.utc) >= lane.budget_wait_until:
            lane.budget_wait_until = None  # the next batch is the probe
        self._lane = lane
        self._last_org = lane.org
        try:
            self._engine_of(lane)  # connect before leasing: an unreachable org must not use up the items' attempts
        except Exception as err:
            self._org_failed(lane, f"{type(err).__name__}: {err}")
            if len(self.lanes) == 1:
                raise
            return None  # the other orgs are served meanwhile
        probing = lane.failures > 0
        timeout = min(self.call_timeout.total_seconds(), PROBE_CALL_TIMEOUT) if probing else None
        call_guard(lane.engine.gateway.sf, timeout or self.call_timeout.total_seconds())
        asked = time.monotonic()  # (before the lease: its expiry is no earlier than this + lease_for)
        lease = self.outbox.lease(self.name, limit=1 if probing else min(self.batch_size, lane.settings.batch_size),
                                  lease_for=self.lease_for, org=lane.org)
        if not lease.items:
            return None
        self._lease_until = asked + self.lease_for.total_seconds()
        return lease

    def _run_lease(self, lane: OrgLane, lease: Lease, started: float) -> BatchReport:
        report = BatchReport()
        report.batches, report.leased = 1, len(lease.items)
        finished = False
        self._lease, self._lease_lost = lease, None
        try:
            calls_before = self.api_calls
            results = self._sync(lease, report)
            report.api_calls = max(0, self.api_calls - calls_before)
            if self._lease_lost is not None:
                # Another worker has (some of) these items now; recording anything would be a guess.
                report.abandoned = len(lease.items)
                results = []
            else:
                self.outbox.finish(lease.id, results)
            finished = True
        finally:
            self._lease = None
            if not finished:  # interrupted mid-batch: hand the items back now instead of at lease expiry
                self.release(lease)
        for r in results:
            if r.kind == "done":
                if (r.outcome or {}).get("status") == OutcomeStatus.SKIPPED:
                    report.skipped += 1
                else:
                    report.processed += 1
            elif r.kind == "retry":
                report.retried += 1
            elif r.kind == "wait":
                report.waiting += 1
            else:
                report.failed += 1
            if r.kind != "done" and r.error:
                msg = (f"{r.code}: " if r.code else "") + r.error
                if msg not in report.errors:
                    report.errors.append(msg)
        report.seconds = time.monotonic() - started
        self.last_batch_at = lane.last_batch_at = datetime.now(timezone.utc)
        self._keep_describes()
        if self.metrics is not None:
            self.metrics.batch_done(report, lane.org)
        self._log(report, results)
        return report

    def _keep_describes(self) -> None:
        lane = self.lane
        cache = lane.engine.describe_cache if lane.engine is not None else None
        if cache is not None and cache.changed:
            try:
                self.outbox.write_note(lane.describe_note, cache.as_json())
                cache.changed = False
            except StoreError as err:  # only a cache: the next process describes again
                log.warning("could not keep the describe cache in the outbox: %s", err)

    @staticmethod
    def _log(report: BatchReport, results: list[ItemResult]) -> None:
        """One info line per batch, and a warning per change that failed for good (it will not be retried)."""
        counts = {k: getattr(report, k) for k in ("leased", "processed", "skipped", "retried", "waiting",
                                                   "abandoned", "failed")}
        log.info("batch of %d: %s; %d API call(s) in %.2f s", report.leased,
                 ", ".join(f"{n} {k}" for k, n in counts.items() if n and k != "leased") or "nothing finished",
                 report.api_calls, report.seconds,
                 extra={"event": "batch", **counts, "api_calls": report.api_calls, "seconds": round(report.seconds, 3)})
        for r in results:
            if r.kind == "failed":
                log.warning("change %d failed permanently: %s%s (slotforce replay %d once fixed)", r.item_id,
                            f"{r.code}: " if r.code else "", r.error, r.item_id,
                            extra={"event": "failed", "item_id": r.item_id, "code": r.code, "error": r.error})

    def release(self, lease: Lease) -> None:
        """Give the lease's items back to the queue at once (they were not sent, or not recorded).

        Not an attempt: the batch is counted like an expired lease, so the items go out again in
        smaller batches and only one that keeps interrupting the worker alone ends failed.
        """
        try:
            self.outbox.release(lease.id, interrupted=True)
        except Exception:  # the lease will expire on its own; never mask the original error
            log.exception("could not release lease %s; its items return when it expires", lease.id)

    def _changes(self, lease: Lease) -> tuple[list[tuple[int, BookingChange]], list[ItemResult]]:
        good: list[tuple[int, BookingChange]] = []
        bad: list[ItemResult] = []
        for item in lease.items:
            try:
                change = BookingChange.model_validate(item.change)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "change"
                bad.append(ItemResult.failed(item.id, f"stored change is not a valid booking change: {where}: "
                                                      f"{first['msg']}", "INVALID_CHANGE"))
                continue
            if not change.event_type_slug and item.event_type:
                # no-show/completed webhooks carry no event type; the outbox inherited the create's
                change = change.model_copy(update={"event_type_slug": item.event_type})
            good.append((item.id, change))
        return good, bad

    def _sync(self, lease: Lease, report: BatchReport) -> list[ItemResult]:
        items, results = self._changes(lease)
        if not items:
            return results
        return results + self._send(items)

    def _send(self, items: list[tuple[int, BookingChange]]) -> list[ItemResult]:
        """Sync `items` as one batch. A batch that fails as a whole for a reason of its own (not an
        outage, not the API budget) is split in halves, down to the change that causes it, so that
        change fails alone with its own reason and the rest go on in the same run."""
        try:
            outcomes = self.engine.sync([c for _, c in items])
        except SalesforceCallError as err:
            if self._lease_lost is not None:
                return []  # not sent; the caller abandons the batch
            self.last_error = self.lane.last_error = str(err)
            code = err.errors[0].code if err.errors else f"HTTP_{err.status}"
            if code == BUDGET_SPENT:
                retry_at = self._wait_for_budget(str(err))
                return [ItemResult.wait(i, str(err), code, retry_at=retry_at) for i, _ in items]
            if err.transient:  # expired session or outage: reconnect on the next batch (the org rests)
                self._org_failed(self.lane, str(err))
            elif len(items) > 1:
                return self._split(items, f"{code}: {err}")
            return [ItemResult.transient_or_failed(i, str(err), code, transient=err.transient) for i, _ in items]
        except Exception as err:  # a bug, or one change the engine cannot handle: never lose the items
            if self._lease_lost is not None:
                return []
            if len(items) > 1:
                return self._split(items, f"{type(err).__name__}: {err}")
            if isinstance(err, SoqlValueError):  # a value no query can carry: retrying cannot help
                return [ItemResult.failed(i, f"this change cannot be sent: {err}", "INVALID_VALUE") for i, _ in items]
            log.exception("sync of change %d failed", items[0][0])
            self.last_error = self.lane.last_error = f"{type(err).__name__}: {err}"
            self.lane.engine = None
            return [ItemResult.retry(i, self.last_error, "WORKER_ERROR") for i, _ in items]
        by_key = {o.action_key: o for o in outcomes}
        budget_retry_at = None
        if any(o.error_code == BUDGET_SPENT for o in outcomes):
            budget_retry_at = self._wait_for_budget(next(o.error for o in outcomes if o.error_code == BUDGET_SPENT) or "")
        if budget_retry_at is None:
            self.last_error = self.lane.last_error = None
            self.lane.failures = 0  # Salesforce answered: the org is up
        results = []
        for item_id, change in items:
            o = by_key.get(change.action_key)
            if o is None:
                results.append(ItemResult.retry(item_id, "the engine returned no outcome for this change", "NO_OUTCOME"))
            else:
                results.append(item_result(item_id, o, budget_retry_at))
        return results

    def _split(self, items: list[tuple[int, BookingChange]], why: str) -> list[ItemResult]:
        half = len(items) // 2
        log.warning("a batch of %d failed as a whole (%s); sending it in halves to find the change that "
                    "causes it", len(items), why, extra={"event": "batch_split", "changes": len(items)})
        return self._send(items[:half]) + self._send(items[half:])

    def _wait_for_budget(self, error: str) -> datetime:
        """The org's daily API budget is spent: lease nothing of it until the next probe time."""
        lane = self.lane
        lane.budget_wait_until = until = datetime.now(timezone.utc) + self.budget_probe
        self.last_error = lane.last_error = (f"waiting for the Salesforce API budget (next try at "
                                             f"{until:%H:%M:%S} UTC): {error}")
        log.warning("%s%s", f"org {lane.org}: " if len(self.lanes) > 1 else "", self.last_error)
        # the rest of the org's queue would be refused too: it waits with the batch, and says so
        self.outbox.hold_queue(until, error, BUDGET_SPENT, org=lane.org)
        return until

    # -- loops ------------------------------------------------------------------------------------

    def drain(self, stop: threading.Event | None = None, max_batches: int | None = None) -> BatchReport:
        """Run passes until nothing is ready (items waiting for a retry time are left waiting)."""
        total = BatchReport()
        while not (stop and stop.is_set()):
            report = self.run_once()
            if not report.leased:
                break
            total.add(report)
            if max_batches is not None and total.batches >= max_batches:
                break
        return total

    def run(self, stop: threading.Event, interval: float = FLUSH_INTERVAL) -> None:
        """Serve until `stop` is set; the batch in hand is always finished before returning.
        Between batches the worker waits up to `interval`, or until the outbox stores a change (adaptive
        flushing: `Outbox.wait_for_work`, woken by an enqueue in any process on the store)."""
        failures = 0
        while not stop.is_set():
            try:
                report = self.run_once()
                failures = 0
            except Exception as err:  # e.g. the org is unreachable: back off, keep the items queued
                failures += 1
                wait = min(60.0, interval * 2 ** failures)
                self.last_error = f"{type(err).__name__}: {err}"
                log.error("worker pass failed (%s); trying again in %.0f s", self.last_error, wait)
                stop.wait(wait)
                continue
            # a full batch: more is probably waiting; with many orgs, another org's may be
            more = report.leased >= self.batch_size or (len(self.lanes) > 1 and report.leased > 0)
            if not more and not stop.is_set():
                self.outbox.wait_for_work(interval)  # a delivery (in any process on the store) wakes it at once
