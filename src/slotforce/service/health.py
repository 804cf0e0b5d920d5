"""What `/healthz` answers: the causes that make this service unhealthy, each saying what to do.

Unhealthy (503) when the outbox cannot write, the worker thread is stopped, a source configured in
slotforce.yml has no secret (every delivery of it is refused), or Salesforce has failed every call
for longer than `service.salesforce_failing_seconds`. Healthy (200) otherwise: a queue with failed
items is the status page's business, not a reason for an orchestrator to restart the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

log = logging.getLogger("slotforce.service")


class SalesforceReachability:
    """Since when every Salesforce call has failed (None while the last one was answered).

    Every client the service makes reports each call here (`CallGuard.on_result`): a call fails when
    no answer came (connection refused, timeout), the answer is a 5xx, or the session is refused
    (401). Any other answer, an error of ours or the API budget included, means Salesforce is there.
    The start and end of an outage are logged once each, not per call.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failing_since: datetime | None = None
        self.last_error: str | None = None

    def record(self, ok: bool, detail: str = "") -> None:
        now = datetime.now(timezone.utc)
        with self._lock:
            began = self.failing_since
            if ok:
                self.failing_since = None
            else:
                self.last_error = detail
                if began is None:
                    self.failing_since = now
        if ok and began is not None:
            log.info("salesforce outage ended after %.0f s", (now - began).total_seconds(),
                     extra={"event": "outage_end", "outage_seconds": round((now - began).total_seconds(), 1)})
        elif not ok and began is None:
            log.warning("salesforce outage started: %s", detail, extra={"event": "outage_start", "error": detail})

    def failing_for(self, now: datetime | None = None) -> timedelta:
        since = self.failing_since
        return timedelta(0) if since is None else (now or datetime.now(timezone.utc)) - since


def missing_secrets(configured: Mapping[str, object], env_names: Mapping[str, str],
                    secrets: Mapping[str, str | None]) -> dict[str, str]:
    """Sources listed in slotforce.yml's `sources:` whose secret is not set: {source: env var name}."""
    return {s: env_names[s] for s in configured if s in env_names and not secrets.get(s)}


def health_causes(*, write_problem: object | None, worker_alive: bool, missing: Mapping[str, str],
                  salesforce: SalesforceReachability, failing_limit: timedelta) -> list[str]:
    """Each reason the service is unhealthy, in words an operator acts on; empty when healthy."""
    causes = []
    if write_problem is not None:
        causes.append(f"outbox_unwritable: {write_problem}")
    if not worker_alive:
        causes.append("worker_stopped: the sync worker thread is not running; restart slotforce serve "
                      "(its last error is on /status)")
    for source, env in missing.items():
        causes.append(f"secret_missing: sources.{source} has no secret: set the environment variable {env} "
                      f"(every {source} delivery is refused with 401 until then)")
    failing = salesforce.failing_for()
    if salesforce.failing_since is not None and failing > failing_limit:
        causes.append(f"salesforce_failing: every Salesforce call has failed for {failing.total_seconds():.0f} s "
                      f"(since {salesforce.failing_since:%Y-%m-%d %H:%M:%S} UTC; more than "
                      f"service.salesforce_failing_seconds = {failing_limit.total_seconds():g}): "
                      f"{salesforce.last_error}")
    return causes
