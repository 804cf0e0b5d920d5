"""Prometheus metrics of one service process (`GET /metrics`).

Each service gets its own registry (not prometheus-client's global one), so several services in
one test process never share counters. Outbox depth is read from the outbox when scraped, so it
is right even when another process (a second worker, `slotforce ingest`) changes the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from slotforce.store import DEFAULT_ORG

__all__ = ["CONTENT_TYPE_LATEST", "ServiceMetrics"]


class _OutboxDepth:
    """A custom collector: one gauge sample per org and outbox state, read at scrape time."""

    def __init__(self, counts: Callable[..., dict[str, int]], orgs: Callable[[], Iterable[str]]) -> None:
        self._counts = counts  # counts(org=NAME), as Outbox.counts
        self._orgs = orgs

    def collect(self):
        gauge = GaugeMetricFamily("slotforce_outbox_items", "Booking changes in the outbox by org and state.",
                                  labels=["org", "state"])
        budget = GaugeMetricFamily("slotforce_outbox_waiting_for_api_budget",
                                   "Booking changes waiting because Salesforce's daily API budget is spent.",
                                   labels=["org"])
        for org in self._orgs():
            try:
                counts = self._counts(org=org)
            except Exception:  # a scrape must not fail because the store is busy; the gauge is just absent
                continue
            for state, n in counts.items():
                # waiting_for_budget is a part of retry_scheduled: its own gauge, so the states still sum up
                if state not in ("deliveries", "repeated_deliveries", "waiting_for_budget"):
                    gauge.add_metric([org, state], n)
            budget.add_metric([org], counts.get("waiting_for_budget", 0))
        yield gauge
        yield budget


class _GroupCommits:
    """The intake's group commits (store.GroupCommit): deliveries / commits is what grouping saves."""

    def __init__(self, commits: Any) -> None:
        self._commits = commits

    def collect(self):
        commits = CounterMetricFamily("slotforce_intake_commits", "Outbox transactions that stored webhook deliveries.")
        commits.add_metric([], self._commits.groups)
        yield commits
        stored = CounterMetricFamily("slotforce_intake_committed_deliveries",
                                     "Webhook deliveries in those transactions (several share one when they arrive together).")
        stored.add_metric([], self._commits.deliveries)
        yield stored


class ServiceMetrics:
    def __init__(self, outbox_counts: Callable[..., dict[str, int]] | None = None,
                 orgs: Callable[[], Iterable[str]] = lambda: [DEFAULT_ORG]) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter("slotforce_webhooks", "Webhook deliveries by org, source and result.",
                                ["org", "source", "result", "reason"], registry=self.registry)
        self.sync_outcomes = Counter("slotforce_sync_outcomes", "Booking changes the worker finished, by org and outcome.",
                                     ["org", "outcome"], registry=self.registry)
        self.api_calls = Counter("slotforce_salesforce_api_calls", "Salesforce API calls made (one Composite = one).",
                                 ["org", "purpose"], registry=self.registry)
        self.batch_seconds = Histogram("slotforce_sync_batch_seconds", "Time to sync one leased batch.",
                                       registry=self.registry, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        if outbox_counts is not None:
            self.registry.register(_OutboxDepth(outbox_counts, orgs))

    def watch_commits(self, commits: Any) -> None:
        """Expose the intake's group commits (read at scrape time)."""
        self.registry.register(_GroupCommits(commits))

    def webhook(self, source: str, result: str, reason: str = "", *, org: str = DEFAULT_ORG) -> None:
        """result: accepted | repeated | rejected; reason for rejections: bad_signature, malformed, too_large."""
        self.webhooks.labels(org=org, source=source, result=result, reason=reason).inc()

    def batch_done(self, report: Any, org: str = DEFAULT_ORG) -> None:
        for outcome in ("processed", "skipped", "retried", "waiting", "abandoned", "failed"):
            n = getattr(report, outcome)
            if n:
                self.sync_outcomes.labels(org=org, outcome=outcome).inc(n)
        if report.api_calls:
            self.api_calls.labels(org=org, purpose="sync").inc(report.api_calls)
        self.batch_seconds.observe(report.seconds)

    def calls(self, purpose: str, n: int, *, org: str = DEFAULT_ORG) -> None:
        if n:
            self.api_calls.labels(org=org, purpose=purpose).inc(n)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
