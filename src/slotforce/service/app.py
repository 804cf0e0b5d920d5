"""The HTTP service: webhook intake, round-robin owner lookup, status page, health and metrics.

Routes (handlers only translate HTTP; the work is in sources.intake, the Worker, the engine):

    POST /webhooks/{source}   202 once the delivery is durably in the outbox; 401 bad/stale
                              signature, 400 malformed (the body names the problem), 413 too large,
                              503 + Retry-After when the outbox cannot store it (disk full, read-only)
    GET  /owner?email=&event_type=[&hosts=a@x,b@y]   round-robin owner: 200 JSON, 404 when none
    GET  /status[?hours=3]    HTML: bookings per minute (accepted / landed / failed, an SVG chart),
                              API requests used of the org's daily limit, counts per event type, the
                              oldest pending change, queue depth, recent actions and their Salesforce
                              outcome (ids link into the org), last sync errors, routing traces;
                              /status.json the same as JSON; 400 for hours outside 1-24
    GET  /bookings/{uid}      JSON: the booking's changes, their state and Salesforce ids; 404 unknown
    GET  /healthz             200, or 503 with {"causes": [...]}: outbox cannot write, worker stopped,
                              a configured source without its secret, Salesforce failing too long
    GET  /metrics             Prometheus text

With `service.api_token_env` set, /status, /status.json, /metrics, /owner and /bookings/{uid} need
`Authorization: Bearer <token>` (service/access.py).

`Service` holds one process's state: two outbox connections (requests, worker thread), the
worker, the hourly link sync and the metrics. Starlette's lifespan starts and stops it, so
uvicorn's SIGTERM handling gives a graceful stop: no new connections, the batch in hand finished
(or handed back), then exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2
from simple_salesforce import Salesforce
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from slotforce.service.access import BearerToken
from slotforce.service.activity import (
    DEFAULT_HOURS, MAX_HOURS, BadHours, age_text, bookings_chart, parse_hours, read_activity,
)
from slotforce.service.config import ServiceConfig
from slotforce.service.connect import ConnectError, call_guard, connect
from slotforce.service.health import SalesforceReachability, health_causes, missing_secrets
from slotforce.service.link_source import configured_links
from slotforce.service.metrics import CONTENT_TYPE_LATEST, ServiceMetrics
from slotforce.service.org_watch import OrgWatch
from slotforce.service.record_links import TRACE_ID_KEYS, record_url
from slotforce.service.views import booking_json, status_json
from slotforce.service.worker import FLUSH_INTERVAL, Worker
from slotforce.sources import (
    DEFAULT_MAX_BODY_BYTES, SOURCES, LinkApiError, Prepared, WebhookRejected, options_for, prepare,
    secret_env_names, secrets_from_env,
)
from slotforce.store import GroupCommit, Outbox, Receipt, StoreError
from slotforce.sync import LinkSyncError, LinksFileError, SalesforceCallError, SyncEngine, sync_links

log = logging.getLogger("slotforce.service")

REJECTION_REASONS = {400: "malformed", 401: "bad_signature", 413: "too_large"}
STOP_GRACE_SECONDS = 60.0  # how long shutdown waits for the batch in hand (a lease lasts 2 minutes)
# Retry-After of a 503 for a delivery the outbox could not store: long enough for an operator's fix or
# a lock to clear, short enough that senders with few retries (Cal.com) still get through.
STORE_RETRY_AFTER_SECONDS = 30
# How often a worker host asks whether this period's link sync is still unclaimed (when another host
# that had it stopped, the next host takes the following period's run within this).
LINK_CLAIM_SECONDS = 60.0
# Bodies up to this size are parsed on the event loop (a booking of a few kB takes ~50 us, less than
# the hop to a thread); larger ones in a thread, so one big delivery never stalls the others.
INLINE_PARSE_BYTES = 64 * 1024

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=jinja2.select_autoescape(["html"]),
)
_templates.filters["record_url"] = record_url
_templates.filters["age"] = age_text
_templates.globals.update(TRACE_ID_KEYS=TRACE_ID_KEYS, HOUR_CHOICES=sorted({1, DEFAULT_HOURS, 6, 12, MAX_HOURS}))


class LinkSchedule:
    """Runs `links sync` of the configured source (file or API) every `every_minutes` (first run at start)."""

    def __init__(self, service: "Service") -> None:
        self.service = service
        self.last_run_at: datetime | None = None
        self.last_result: str | None = None

    def run_once(self) -> None:
        try:
            pulled = configured_links(self.service.config)
            # a client of its own, made per run: hourly runs get a fresh session and never share one
            result = sync_links(self.service._connect(), pulled.links)
            self.service.metrics.calls("links", result.api_calls)
            self.last_result = (f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
                                + (f", {len(result.failed)} failed" if result.failed else "")
                                + (f", {len(pulled.skipped)} skipped" if pulled.skipped else ""))
            if result.failed:
                self.service.intake.record_sync_error("links", "; ".join(str(f) for f in result.failed[:5]),
                                                      code="LINK_SYNC_FAILED")
        except (LinksFileError, LinkApiError, LinkSyncError, ConnectError) as err:
            self.last_result = f"failed: {err}"
            self.service.intake.record_sync_error("links", str(err), code="LINK_SYNC_FAILED")
        except Exception as err:
            log.exception("link sync failed")
            self.last_result = f"failed: {type(err).__name__}: {err}"
        self.last_run_at = datetime.now(timezone.utc)

    def run(self, stop: threading.Event) -> None:
        every = self.service.config.links.every_minutes * 60 if self.service.config.links else None
        while every and not stop.is_set():
            # Every worker host runs this loop; the outbox lets one of them have each period's run.
            if self.service.intake.claim_job("links", timedelta(seconds=every)):
                self.run_once()
            stop.wait(min(every, LINK_CLAIM_SECONDS))


class Service:
    """The HTTP intake (webhooks, owner lookup, status) and/or the worker (sync, link sync), as roles.

    `slotforce serve` runs both; `serve --no-worker` only the intake (`worker=False`), `slotforce
    worker` only the worker, so intake and workers scale separately on a shared outbox.
    """

    def __init__(self, config: ServiceConfig, *, flush_interval: float = FLUSH_INTERVAL,
                 environ: dict[str, str] | None = None, worker: bool = True) -> None:
        self.config = config
        self.runs_worker = worker
        self.settings = config.settings
        self.flush_interval = flush_interval
        self.secrets = secrets_from_env(config.sources, environ)
        self.secret_envs = secret_env_names(config.sources)
        self.salesforce = SalesforceReachability()
        self.org = OrgWatch()  # instance URL and API use, from the answers every client gets
        self.token = BearerToken(config.service.api_token_env, environ)
        self.intake: Outbox = config.open_outbox()
        # Read once: a request should not re-read slotforce.yml's sources block.
        self._parse_options = {source: options_for(source, config.sources) for source in SOURCES}
        # Concurrent deliveries share one commit (one fsync); each is answered after its own commit.
        self.commits = GroupCommit(self.intake)
        self.metrics = ServiceMetrics(self.intake.counts)
        self.metrics.watch_commits(self.commits)
        # (an intake-only service keeps an idle Worker for the status page's fields, on the intake's outbox)
        self.worker = Worker(config.open_outbox() if worker else self.intake, self.settings, self._connect,
                             timing=config.outbox,
                             metrics=self.metrics)
        self.links = LinkSchedule(self) if config.links and worker else None
        self.started_at = datetime.now(timezone.utc)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._owner_lock = threading.Lock()  # owner lookups share one client and its describes
        self._owner_engine: SyncEngine | None = None

    def _connect(self) -> Salesforce:
        """A client whose every call tells `self.salesforce` whether Salesforce answered."""
        try:
            sf = connect(self.settings.salesforce, self.config.base_dir)
        except ConnectError as err:
            self.salesforce.record(False, str(err))
            raise
        call_guard(sf).on_result = self.salesforce.record
        self.org.watch(sf)
        return sf

    @property
    def missing_secrets(self) -> dict[str, str]:
        """Sources in slotforce.yml without a secret: {source: the env var to set}."""
        return missing_secrets(self.config.sources, self.secret_envs, self.secrets)

    def health_causes(self) -> list[str]:
        return health_causes(write_problem=self.intake.write_problem(),
                             worker_alive=self.worker_alive or not self.runs_worker,
                             missing=self.missing_secrets, salesforce=self.salesforce,
                             failing_limit=timedelta(seconds=self.config.service.salesforce_failing_seconds))

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        for source, env in self.missing_secrets.items():
            log.error("sources.%s has no secret: set the environment variable %s; every %s delivery is refused "
                      "with 401 until then", source, env, source)
        if self.token.configured and self.token.token is None:
            log.error("service.api_token_env names %s, which is not set: /status, /metrics, /owner and /bookings "
                      "answer 401 to everyone until it is", self.token.env_name)
        self._stop.clear()
        targets = [("worker", lambda: self.worker.run(self._stop, self.flush_interval))] if self.runs_worker else []
        if self.links:
            targets.append(("links", lambda: self.links.run(self._stop)))
        for name, target in targets:
            t = threading.Thread(target=target, name=f"slotforce-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop taking batches; wait for the batch in hand to be finished; close the stores."""
        self._stop.set()
        deadline = time.monotonic() + grace
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:  # its lease expires and the items are handed out again; nothing is lost
            log.warning("still busy after %.0f s, leaving: %s", grace, ", ".join(alive))
        self._threads = []
        self.commits.close()
        if not alive:
            self.worker.outbox.close()
            self.intake.close()

    @property
    def worker_alive(self) -> bool:
        return any(t.name == "slotforce-worker" and t.is_alive() for t in self._threads)

    # -- the work behind the routes -------------------------------------------------------------

    def prepare(self, source: str, body: bytes, headers: Any) -> Prepared:
        """Check and read a delivery (raises WebhookRejected); nothing is stored yet."""
        return prepare(source, body, headers, secrets=self.secrets, **self._parse_options[source])

    def receive(self, source: str, body: bytes, headers: Any) -> Receipt:
        """Check and store one delivery, in a group commit with any that arrive meanwhile (blocking)."""
        prepared = self.prepare(source, body, headers)
        return self.commits.enqueue(prepared.delivery, prepared.entries)

    def body_limit(self, source: str) -> int:
        return self._parse_options[source].get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)

    def owner(self, email: str, event_type: str | None, hosts: list[str]):
        with self._owner_lock:
            if self._owner_engine is None:
                self._owner_engine = SyncEngine(self.settings, self._connect())
            engine = self._owner_engine
            calls = engine.gateway.calls
            try:
                return engine.owner_for(email, event_type, hosts)
            except SalesforceCallError as err:
                if err.transient:
                    self._owner_engine = None  # reconnect next time (expired session, outage)
                raise
            finally:
                self.metrics.calls("owner", engine.gateway.calls - calls)

    def status_context(self, hours: int = DEFAULT_HOURS) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        counts = self.intake.counts()
        recent = self.intake.items(limit=25)
        traced: list[tuple[str, list]] = []
        for item in recent:
            if len(traced) >= 5:
                break
            if item.booking_uid not in (u for u, _ in traced):
                entries = self.intake.traces(item.booking_uid)
                if entries:
                    traced.append((item.booking_uid, entries[-3:]))
        return {
            "counts": counts,
            "depth": counts.get("pending", 0) + counts.get("retry_scheduled", 0) + counts.get("leased", 0),
            "recent": recent,
            "errors": self.intake.last_sync_errors(),
            "budget_wait": self.intake.budget_wait(),
            "traces": traced,
            "worker": {"alive": self.worker_alive, "separate": not self.runs_worker,
                       "last_batch_at": self.worker.last_batch_at,
                       "last_error": self.worker.last_error},
            "links": self.links,
            "activity": read_activity(self.intake, now, hours),
            "api_requests": self.org.api_requests,
            "instance_url": self.org.instance_url,
            "now": now,
            "started_at": self.started_at,
        }


# -- routes ------------------------------------------------------------------------------------


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is over `limit` (the rest is never buffered)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(service: Service, *, manage_lifecycle: bool = True) -> Starlette:
    """The ASGI app; with `manage_lifecycle` the app's lifespan starts and stops `service`."""

    def answered(source: str, status: int, reason: str, *, delivery_id: int | None = None,
                 booking_uids: list[str] | None = None) -> None:
        """One info line per delivery: what a sender's retries and an operator's questions are about."""
        if not log.isEnabledFor(logging.INFO):  # (skip building the line's fields at every request)
            return
        log.info("delivery %s: %d %s%s", source, status, reason, f" (delivery {delivery_id})" if delivery_id else "",
                 extra={"event": "delivery", "source": source, "status": status, "reason": reason,
                        "delivery_id": delivery_id, "booking_uids": booking_uids or []})

    async def webhook(request: Request) -> Response:
        source = request.path_params["source"]
        if source not in SOURCES:
            service.metrics.webhook(source="unknown", result="rejected", reason="unknown_source")
            answered(source, 404, "unknown_source")
            return JSONResponse({"error": f"unknown webhook source {source!r}: POST to /webhooks/"
                                          f"{{{'|'.join(SOURCES)}}}"}, status_code=404)
        limit = service.body_limit(source)
        body = await _read_body(request, limit)
        if body is None:
            service.metrics.webhook(source, "rejected", "too_large")
            answered(source, 413, "too_large")
            return JSONResponse({"error": f"{source} webhook: body is over the {limit}-byte limit"}, status_code=413)
        try:
            headers = dict(request.headers)
            if len(body) <= INLINE_PARSE_BYTES:
                prepared = service.prepare(source, body, headers)
            else:
                prepared = await run_in_threadpool(service.prepare, source, body, headers)
            receipt = await asyncio.wrap_future(service.commits.submit(prepared.delivery, prepared.entries))
        except WebhookRejected as exc:
            reason = REJECTION_REASONS.get(exc.status, str(exc.status))
            service.metrics.webhook(source, "rejected", reason)
            answered(source, exc.status, f"{reason}: {exc.reason}")
            return JSONResponse({"error": exc.reason}, status_code=exc.status)
        except StoreError as exc:  # not stored, so not acknowledged: the sender must try again
            log.error("outbox refused a %s delivery: %s", source, exc)
            service.metrics.webhook(source, "rejected", "store_unavailable")
            answered(source, 503, f"store_unavailable: {getattr(exc, 'cause', 'store_error')}")
            return JSONResponse({"error": f"could not store the delivery, send it again later: {exc}",
                                 "cause": getattr(exc, "cause", "store_error")}, status_code=503,
                                headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)})
        result = "repeated" if receipt.repeated_delivery else "accepted"
        service.metrics.webhook(source, result)
        answered(source, 202, result if not receipt.note else f"{result}: {receipt.note}",
                 delivery_id=receipt.delivery_id, booking_uids=prepared.booking_uids)
        return JSONResponse({"status": "accepted", "delivery_id": receipt.delivery_id,
                             "items": list(receipt.item_ids), "already_queued": list(receipt.duplicate_item_ids),
                             "note": receipt.note}, status_code=202)

    async def owner(request: Request) -> Response:
        email = (request.query_params.get("email") or "").strip()
        if not email or "@" not in email:
            return JSONResponse({"error": "pass the booker's address: /owner?email=ana@example.com&event_type=SLUG"},
                                status_code=400)
        event_type = request.query_params.get("event_type") or None
        hosts = [h.strip() for v in request.query_params.getlist("hosts") for h in v.split(",") if h.strip()]
        try:
            found, trace = await run_in_threadpool(service.owner, email, event_type, hosts)
        except (SalesforceCallError, ConnectError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=503 if getattr(exc, "transient", True) else 502)
        steps = trace.as_json()
        if found is None:
            why = trace[-1].step if len(trace) else "owner_not_found"
            return JSONResponse({"owner": None, "reason": why, "trace": steps}, status_code=404)
        return JSONResponse({"owner": found.email, "record_id": found.record_id, "record_type": found.record_type,
                             "reason": found.reason, "trace": steps})

    def status_hours(request: Request) -> int | Response:
        try:
            return parse_hours(request.query_params.get("hours"))
        except BadHours as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def status(request: Request) -> Response:
        hours = status_hours(request)
        if isinstance(hours, Response):
            return hours
        context = await run_in_threadpool(service.status_context, hours)
        return HTMLResponse(_templates.get_template("status.html").render(
            **context, chart=bookings_chart(context["activity"])))

    async def status_as_json(request: Request) -> Response:
        hours = status_hours(request)
        if isinstance(hours, Response):
            return hours
        return JSONResponse(status_json(await run_in_threadpool(service.status_context, hours)))

    async def booking(request: Request) -> Response:
        uid = request.path_params["uid"]
        items = await run_in_threadpool(lambda: service.intake.items(booking_uid=uid, limit=1000))
        if not items:
            return JSONResponse({"error": f"no booking change with uid {uid!r} is in the outbox (changes done "
                                          "longer ago than the outbox keeps them are pruned)"}, status_code=404)
        return JSONResponse(booking_json(uid, items))

    def guarded(handler):
        """`handler` behind the Bearer token of service.api_token_env (when one is configured)."""
        async def checked(request: Request) -> Response:
            return service.token.refusal(request) or await handler(request)
        return checked

    def health() -> tuple[int, dict[str, Any]]:
        try:
            counts = service.intake.counts()
            causes = service.health_causes()
        except Exception as exc:  # the outbox cannot even be read
            return 503, {"status": "unhealthy", "causes": [f"outbox_unreadable: {exc}"]}
        if not manage_lifecycle:  # a test drives the worker itself: no thread to be alive
            causes = [c for c in causes if not c.startswith("worker_stopped:")]
        return (503 if causes else 200), {
            "status": "unhealthy" if causes else "ok", "causes": causes,
            "worker": "running" if service.worker_alive or not manage_lifecycle else "stopped",
            "pending": counts.get("pending", 0), "failed": counts.get("failed", 0),
            "last_worker_error": service.worker.last_error,
            "salesforce_failing_since": service.salesforce.failing_since.isoformat()
            if service.salesforce.failing_since else None,
        }

    async def healthz(request: Request) -> Response:
        status, body = await run_in_threadpool(health)
        return JSONResponse(body, status_code=status)

    async def metrics(request: Request) -> Response:
        return Response(await run_in_threadpool(service.metrics.exposition), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if manage_lifecycle:
            service.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await run_in_threadpool(service.stop)

    return Starlette(routes=[
        Route("/webhooks/{source}", webhook, methods=["POST"]),
        Route("/owner", guarded(owner), methods=["GET"]),
        Route("/status", guarded(status), methods=["GET"]),
        Route("/status.json", guarded(status_as_json), methods=["GET"]),
        Route("/bookings/{uid}", guarded(booking), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", guarded(metrics), methods=["GET"]),
    ], lifespan=lifespan)
