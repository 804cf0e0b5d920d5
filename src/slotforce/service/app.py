"""The HTTP service: webhook intake, round-robin owner lookup, status page, health and metrics.

Routes (handlers only translate HTTP; the work is in sources.intake, the Worker, the engine):

    POST /webhooks/{org}/{source}   many orgs (slotforce.yml `orgs:`): the org's delivery; 404 for an
                              org not configured. /webhooks/{source} is the single-org file's
                              (404 saying to name the org in a many-org deployment)
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
    ?org=NAME                 on /status, /status.json, /bookings/{uid}, /owner: which org (default: the
                              only one; /status and /status.json without it list the orgs)
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
from collections.abc import Callable
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
from slotforce.service.connect import ConnectError
from slotforce.service.health import SalesforceReachability, health_causes
from slotforce.service.metrics import CONTENT_TYPE_LATEST, ServiceMetrics
from slotforce.service.org_watch import OrgWatch
from slotforce.service.served_org import LinkSchedule, ServedOrg
from slotforce.service.record_links import TRACE_ID_KEYS, record_url
from slotforce.service.views import booking_json, orgs_json, status_json
from slotforce.service.worker import FLUSH_INTERVAL, Worker
from slotforce.sources import DEFAULT_MAX_BODY_BYTES, SOURCES, Prepared, WebhookRejected, prepare
from slotforce.store import DEFAULT_ORG, GroupCommit, Outbox, Receipt, StoreError
from slotforce.sync import SalesforceCallError, Settings, SettingsError

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


class Service:
    """The HTTP intake (webhooks, owner lookup, status) and/or the worker (sync, link sync), as roles,
    for every org of slotforce.yml (`orgs`: name -> ServedOrg).

    `slotforce serve` runs both; `serve --no-worker` only the intake (`worker=False`), `slotforce
    worker` only the worker, so intake and workers scale separately on a shared outbox. `reload()`
    reads slotforce.yml again (SIGHUP): orgs added are served, orgs removed stop taking webhooks.
    """

    def __init__(self, config: ServiceConfig, *, flush_interval: float = FLUSH_INTERVAL,
                 environ: dict[str, str] | None = None, worker: bool = True) -> None:
        self.config = config
        self.runs_worker = worker
        self.flush_interval = flush_interval
        self.environ = environ
        self.token = BearerToken(config.service.api_token_env, environ)
        self.intake: Outbox = config.open_outbox()
        # Concurrent deliveries share one commit (one fsync); each is answered after its own commit.
        self.commits = GroupCommit(self.intake)
        self.metrics = ServiceMetrics(self.intake.counts, orgs=lambda: list(self.orgs))
        self.metrics.watch_commits(self.commits)
        self.orgs: dict[str, ServedOrg] = {}
        self._serve(config)
        # (an intake-only service keeps an idle Worker for the status page's fields, on the intake's outbox)
        self.worker = Worker(config.open_outbox() if worker else self.intake, orgs=self._worker_orgs(),
                             timing=config.outbox, metrics=self.metrics)
        self.started_at = datetime.now(timezone.utc)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._reload_lock = threading.Lock()

    def _serve(self, config: ServiceConfig) -> None:
        """Serve `config`'s orgs: an org whose part of the file is unchanged keeps its state (health,
        API use, owner engine, link runs); new or changed ones start afresh."""
        served = {}
        for name, org in config.orgs.items():
            old = self.orgs.get(name)
            served[name] = old if old is not None and old.org == org else ServedOrg(
                config, org, self.intake, self.metrics, self.environ, links=self.runs_worker)
        self.config, self.orgs = config, served  # one swap: a request sees the old orgs or the new

    def _worker_orgs(self) -> dict[str, tuple[Settings, Callable[[], Salesforce]]]:
        return {name: (org.settings, org.connect) for name, org in self.orgs.items()}

    def reload(self) -> bool:
        """Read slotforce.yml again and serve what it says now (SIGHUP). An invalid file is refused with
        a logged error and the running config kept. `store`, `outbox` and `service` take effect at the
        next start only (the outbox stays open; a changed one is logged)."""
        from slotforce.service.config import load_service_config

        with self._reload_lock:
            try:
                new = load_service_config(self.config.path)
            except SettingsError as err:
                log.error("config reload refused, still serving the config read before: %s", err,
                          extra={"event": "reload_refused"})
                return False
            for key in ("store", "outbox", "service"):
                if getattr(new, key) != getattr(self.config, key):
                    log.warning("config reload: %s changed; it takes effect when the process is restarted", key)
            before = set(self.orgs)
            self._serve(new)
            self.worker.serve_orgs(self._worker_orgs())
            added, removed = sorted(set(self.orgs) - before), sorted(before - set(self.orgs))
            log.info("config reloaded: serving %d org(s) (%s)%s%s", len(self.orgs), ", ".join(self.orgs),
                     f"; added {', '.join(added)}" if added else "", f"; removed {', '.join(removed)}" if removed else "",
                     extra={"event": "reloaded", "orgs": list(self.orgs), "added": added, "removed": removed})
            return True

    # -- one org ------------------------------------------------------------------------------

    def served(self, org: str | None = None) -> ServedOrg:
        """The org `org` (None: the only one); KeyError saying which orgs there are."""
        orgs = self.orgs  # (one read: a reload swaps the whole map)
        if org is None and len(orgs) == 1:
            return next(iter(orgs.values()))
        if org not in orgs:
            raise KeyError(f"org {org!r} is not served here (orgs: {', '.join(orgs)})")
        return orgs[org]

    @property
    def settings(self) -> Settings:
        return self.served().settings

    @property
    def salesforce(self) -> SalesforceReachability:
        return self.served().salesforce

    @property
    def org(self) -> OrgWatch:
        return self.served().watch

    @property
    def secrets(self) -> dict[str, str | None]:
        return self.served().secrets

    @property
    def links(self) -> LinkSchedule | None:
        return self.served().links

    def _connect(self) -> Salesforce:
        return self.served().connect()

    @property
    def missing_secrets(self) -> dict[str, str]:
        """Sources in slotforce.yml without a secret: {source: the env var to set} (of the only org)."""
        return self.served().missing_secrets

    def health_causes(self) -> list[str]:
        many = self.config.many_orgs
        causes = health_causes(write_problem=self.intake.write_problem(),
                               worker_alive=self.worker_alive or not self.runs_worker, missing={},
                               salesforce=SalesforceReachability(), failing_limit=timedelta(0))
        limit = timedelta(seconds=self.config.service.salesforce_failing_seconds)
        for name, served in self.orgs.items():
            org_causes = health_causes(write_problem=None, worker_alive=True, missing=served.missing_secrets,
                                       salesforce=served.salesforce, failing_limit=limit)
            causes += [_of_org(c, served.org.key_path) if many else c for c in org_causes]
        return causes

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        for served in self.orgs.values():
            for source, env in served.missing_secrets.items():
                log.error("%ssources.%s has no secret: set the environment variable %s; every %s delivery is "
                          "refused with 401 until then", served.org.key_path, source, env, source)
        if self.token.configured and self.token.token is None:
            log.error("service.api_token_env names %s, which is not set: /status, /metrics, /owner and /bookings "
                      "answer 401 to everyone until it is", self.token.env_name)
        self._stop.clear()
        targets = [("worker", lambda: self.worker.run(self._stop, self.flush_interval))] if self.runs_worker else []
        if self.runs_worker:
            targets.append(("links", lambda: self._run_links(self._stop)))
        for name, target in targets:
            t = threading.Thread(target=target, name=f"slotforce-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def _run_links(self, stop: threading.Event) -> None:
        """Every worker host runs this loop; the outbox lets one of them have each org's run of a period."""
        while not stop.is_set():
            schedules = [served.links for served in self.orgs.values() if served.links is not None]
            for schedule in schedules:
                if stop.is_set():
                    break
                try:
                    schedule.run_if_due()
                except Exception:  # the outbox could not answer: the next look asks again
                    log.exception("could not claim the link sync of org %s", schedule.served.name)
            every = min((s.every.total_seconds() for s in schedules if s.every), default=LINK_CLAIM_SECONDS)
            stop.wait(min(every, LINK_CLAIM_SECONDS))

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

    def prepare(self, source: str, body: bytes, headers: Any, org: str | None = None) -> Prepared:
        """Check and read a delivery of `org`'s (raises WebhookRejected; KeyError for an org not
        served); nothing is stored yet."""
        served = self.served(org)
        return prepare(source, body, headers, secrets=served.secrets, org=served.name,
                       **served.parse_options[source])

    def receive(self, source: str, body: bytes, headers: Any, org: str | None = None) -> Receipt:
        """Check and store one delivery, in a group commit with any that arrive meanwhile (blocking)."""
        prepared = self.prepare(source, body, headers, org)
        return self.commits.enqueue(prepared.delivery, prepared.entries)

    def body_limit(self, source: str, org: str | None = None) -> int:
        return self.served(org).parse_options[source].get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)

    def owner(self, email: str, event_type: str | None, hosts: list[str], org: str | None = None):
        return self.served(org).owner(email, event_type, hosts)

    def status_context(self, hours: int = DEFAULT_HOURS, org: str | None = None) -> dict[str, Any]:
        served = self.served(org)
        name = served.name
        now = datetime.now(timezone.utc)
        counts = self.intake.counts(org=name)
        recent = self.intake.items(limit=25, org=name)
        traced: list[tuple[str, list]] = []
        for item in recent:
            if len(traced) >= 5:
                break
            if item.booking_uid not in (u for u, _ in traced):
                entries = self.intake.traces(item.booking_uid, org=name)
                if entries:
                    traced.append((item.booking_uid, entries[-3:]))
        lane = self.worker.lanes.get(name)
        return {
            "org": name, "orgs": list(self.orgs) if self.config.many_orgs else [],
            "counts": counts,
            "depth": counts.get("pending", 0) + counts.get("retry_scheduled", 0) + counts.get("leased", 0),
            "recent": recent,
            "errors": self.intake.last_sync_errors(org=name),
            "budget_wait": self.intake.budget_wait(org=name),
            "traces": traced,
            "worker": {"alive": self.worker_alive, "separate": not self.runs_worker,
                       "last_batch_at": lane.last_batch_at if lane else None,
                       "last_error": lane.last_error if lane else None},
            "links": served.links,
            "activity": read_activity(self.intake, now, hours, org=name),
            "api_requests": served.watch.api_requests,
            "instance_url": served.watch.instance_url,
            "now": now,
            "started_at": self.started_at,
        }

    def orgs_summary(self) -> list[dict[str, Any]]:
        """One line per org for the status index of a many-org deployment."""
        lines = []
        for name, served in self.orgs.items():
            counts = self.intake.counts(org=name)
            lane = self.worker.lanes.get(name)
            lines.append({"org": name, "counts": counts,
                          "depth": counts["pending"] + counts["retry_scheduled"] + counts["leased"],
                          "failed": counts["failed"] + counts["parked"],
                          "salesforce_failing_since": served.salesforce.failing_since,
                          "last_error": lane.last_error if lane else None,
                          "instance_url": served.watch.instance_url})
        return lines


def _of_org(cause: str, key_path: str) -> str:
    """A cause of one org's, naming it: `secret_missing: orgs.acme.sources.api ...`, `salesforce_failing: org acme: ...`."""
    kind, _, text = cause.partition(": ")
    if text.startswith("sources."):
        return f"{kind}: {key_path}{text}"
    return f"{kind}: org {key_path.removeprefix('orgs.').rstrip('.')}: {text}"


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

    def answered(source: str, status: int, reason: str, *, org: str, delivery_id: int | None = None,
                 booking_uids: list[str] | None = None) -> None:
        """One info line per delivery: what a sender's retries and an operator's questions are about."""
        if not log.isEnabledFor(logging.INFO):  # (skip building the line's fields at every request)
            return
        whose = "" if org == DEFAULT_ORG else f" of org {org}"
        log.info("delivery %s%s: %d %s%s", source, whose, status, reason,
                 f" (delivery {delivery_id})" if delivery_id else "",
                 extra={"event": "delivery", "org": org, "source": source, "status": status, "reason": reason,
                        "delivery_id": delivery_id, "booking_uids": booking_uids or []})

    def webhook_org(request: Request) -> str | Response:
        """Whose delivery it is: /webhooks/{org}/{source}, or /webhooks/{source} of a single-org file."""
        org = request.path_params.get("org")
        if org is None:
            if service.config.many_orgs:
                return JSONResponse({"error": "this deployment serves several orgs: POST to /webhooks/{org}/{source}, "
                                              "{org} being the org's name under orgs: in slotforce.yml"},
                                    status_code=404)
            return DEFAULT_ORG
        if org not in service.orgs:
            return unknown_org(org)
        return org

    def unknown_org(org: str) -> Response:
        service.metrics.webhook(source="unknown", result="rejected", reason="unknown_org", org=org)
        log.info("delivery for org %r: 404 unknown_org", org, extra={"event": "delivery", "org": org, "status": 404,
                                                                      "reason": "unknown_org"})
        return JSONResponse({"error": f"org {org!r} is not configured in this deployment (not under orgs: in "
                                      "slotforce.yml)", "org": org}, status_code=404)

    async def webhook(request: Request) -> Response:
        source = request.path_params["source"]
        org = webhook_org(request)
        if isinstance(org, Response):
            return org
        if source not in SOURCES:
            service.metrics.webhook(source="unknown", result="rejected", reason="unknown_source", org=org)
            answered(source, 404, "unknown_source", org=org)
            return JSONResponse({"error": f"unknown webhook source {source!r}: POST to /webhooks/"
                                          f"{{{'|'.join(SOURCES)}}}"}, status_code=404)
        try:
            limit = service.body_limit(source, org)
        except KeyError:  # removed by a reload meanwhile
            return unknown_org(org)
        body = await _read_body(request, limit)
        if body is None:
            service.metrics.webhook(source, "rejected", "too_large", org=org)
            answered(source, 413, "too_large", org=org)
            return JSONResponse({"error": f"{source} webhook: body is over the {limit}-byte limit"}, status_code=413)
        try:
            headers = dict(request.headers)
            if len(body) <= INLINE_PARSE_BYTES:
                prepared = service.prepare(source, body, headers, org)
            else:
                prepared = await run_in_threadpool(service.prepare, source, body, headers, org)
            receipt = await asyncio.wrap_future(service.commits.submit(prepared.delivery, prepared.entries))
        except KeyError:  # removed by a reload meanwhile
            return unknown_org(org)
        except WebhookRejected as exc:
            reason = REJECTION_REASONS.get(exc.status, str(exc.status))
            service.metrics.webhook(source, "rejected", reason, org=org)
            answered(source, exc.status, f"{reason}: {exc.reason}", org=org)
            return JSONResponse({"error": exc.reason}, status_code=exc.status)
        except StoreError as exc:  # not stored, so not acknowledged: the sender must try again
            log.error("outbox refused a %s delivery: %s", source, exc)
            service.metrics.webhook(source, "rejected", "store_unavailable", org=org)
            answered(source, 503, f"store_unavailable: {getattr(exc, 'cause', 'store_error')}", org=org)
            return JSONResponse({"error": f"could not store the delivery, send it again later: {exc}",
                                 "cause": getattr(exc, "cause", "store_error")}, status_code=503,
                                headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)})
        result = "repeated" if receipt.repeated_delivery else "accepted"
        service.metrics.webhook(source, result, org=org)
        answered(source, 202, result if not receipt.note else f"{result}: {receipt.note}", org=org,
                 delivery_id=receipt.delivery_id, booking_uids=prepared.booking_uids)
        return JSONResponse({"status": "accepted", "delivery_id": receipt.delivery_id,
                             "items": list(receipt.item_ids), "already_queued": list(receipt.duplicate_item_ids),
                             "note": receipt.note}, status_code=202)

    def org_asked(request: Request, *, index: bool = False) -> str | None | Response:
        """`?org=NAME` (default: the only org). Without it in a many-org deployment: None when the route
        has an index of the orgs (`index`), else 400 naming them; an org not configured: 404."""
        org = request.query_params.get("org") or None
        if org is None:
            if len(service.orgs) == 1:
                return next(iter(service.orgs))
            if index:
                return None
            return JSONResponse({"error": f"this deployment serves {len(service.orgs)} orgs: add ?org=NAME",
                                 "orgs": list(service.orgs)}, status_code=400)
        if org not in service.orgs:
            return JSONResponse({"error": f"org {org!r} is not configured in this deployment",
                                 "orgs": list(service.orgs)}, status_code=404)
        return org

    async def owner(request: Request) -> Response:
        org = org_asked(request)
        if isinstance(org, Response):
            return org
        email = (request.query_params.get("email") or "").strip()
        if not email or "@" not in email:
            return JSONResponse({"error": "pass the booker's address: /owner?email=ana@example.com&event_type=SLUG"},
                                status_code=400)
        event_type = request.query_params.get("event_type") or None
        hosts = [h.strip() for v in request.query_params.getlist("hosts") for h in v.split(",") if h.strip()]
        try:
            found, trace = await run_in_threadpool(service.owner, email, event_type, hosts, org)
        except (SalesforceCallError, ConnectError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=503 if getattr(exc, "transient", True) else 502)
        steps = trace.as_json()
        if found is None:
            why = trace[-1].step if len(trace) else "owner_not_found"
            return JSONResponse({"owner": None, "reason": why, "trace": steps}, status_code=404)
        return JSONResponse({"owner": found.email, "record_id": found.record_id, "record_type": found.record_type,
                             "reason": found.reason, "trace": steps})

    def status_asked(request: Request) -> tuple[int, str | None] | Response:
        """`?hours=` and `?org=` of a status route (org None: the index of a many-org deployment)."""
        try:
            hours = parse_hours(request.query_params.get("hours"))
        except BadHours as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        org = org_asked(request, index=True)
        return org if isinstance(org, Response) else (hours, org)

    async def status(request: Request) -> Response:
        asked = status_asked(request)
        if isinstance(asked, Response):
            return asked
        hours, org = asked
        if org is None:  # many orgs: one line each, linking to its page
            lines = await run_in_threadpool(service.orgs_summary)
            return HTMLResponse(_templates.get_template("orgs.html").render(orgs=lines, hours=hours,
                                                                           now=datetime.now(timezone.utc)))
        context = await run_in_threadpool(service.status_context, hours, org)
        return HTMLResponse(_templates.get_template("status.html").render(
            **context, chart=bookings_chart(context["activity"])))

    async def status_as_json(request: Request) -> Response:
        asked = status_asked(request)
        if isinstance(asked, Response):
            return asked
        hours, org = asked
        if org is None:
            return JSONResponse(orgs_json(await run_in_threadpool(service.orgs_summary)))
        return JSONResponse(status_json(await run_in_threadpool(service.status_context, hours, org)))

    async def booking(request: Request) -> Response:
        uid = request.path_params["uid"]
        org = org_asked(request)
        if isinstance(org, Response):
            return org
        items = await run_in_threadpool(lambda: service.intake.items(booking_uid=uid, limit=1000, org=org))
        if not items:
            return JSONResponse({"error": f"no booking change with uid {uid!r} is in the outbox of org {org!r} "
                                          "(changes done longer ago than the outbox keeps them are pruned)"},
                                status_code=404)
        return JSONResponse({"org": org, **booking_json(uid, items)})

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
        failing = {name: o.salesforce.failing_since for name, o in service.orgs.items() if o.salesforce.failing_since}
        body = {
            "status": "unhealthy" if causes else "ok", "causes": causes,
            "worker": "running" if service.worker_alive or not manage_lifecycle else "stopped",
            "pending": counts.get("pending", 0), "failed": counts.get("failed", 0),
            "last_worker_error": service.worker.last_error,
            "salesforce_failing_since": min(failing.values()).isoformat() if failing else None,
        }
        if service.config.many_orgs:  # whose Salesforce fails, by org
            body["salesforce_failing"] = {name: since.isoformat() for name, since in failing.items()}
        return (503 if causes else 200), body

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
        Route("/webhooks/{org}/{source}", webhook, methods=["POST"]),
        Route("/owner", guarded(owner), methods=["GET"]),
        Route("/status", guarded(status), methods=["GET"]),
        Route("/status.json", guarded(status_as_json), methods=["GET"]),
        Route("/bookings/{uid}", guarded(booking), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", guarded(metrics), methods=["GET"]),
    ], lifespan=lifespan)
