"""The worker and `slotforce sync` against the local org: outcomes, retries, failures, releases."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.service.config import load_service_config
from slotforce.service.connect import connect
from slotforce.service.worker import Worker
from slotforce.sources import receive
from slotforce.store import open_store

WEBHOOKS = Path(__file__).parents[1] / "fixtures" / "webhooks"


def ingest(outbox, source: str, name: str) -> None:
    receive(outbox, source, (WEBHOOKS / source / name).read_bytes(), {}, secrets=None, verify=False)


@pytest.fixture
def config(config_file):
    return load_service_config(config_file)


@pytest.fixture
def outbox(config):
    with open_store(config.settings.store, base_dir=config.base_dir) as ob:
        yield ob


def worker_for(config, outbox, **kw) -> Worker:
    return Worker(outbox, config.settings, lambda: connect(config.settings.salesforce, config.base_dir), **kw)


def test_created_rescheduled_canceled_reach_salesforce_in_order(config, outbox, org):
    ingest(outbox, "calcom", "booking_cancelled.json")  # arrives first, waits for its booking
    ingest(outbox, "calcom", "booking_rescheduled.json")
    ingest(outbox, "calcom", "booking_created_new_lead.json")
    before = org.stats()["api_calls"]["total"]
    report = worker_for(config, outbox).drain()
    assert (report.leased, report.processed, report.failed, report.retried) == (3, 3, 0, 0), report
    rows = org.client().query("SELECT Action__c, Status__c FROM Booking_Action__c ORDER BY Name")["records"]
    assert [(r["Action__c"], r["Status__c"]) for r in rows] == [
        ("Created", "Processed"), ("Rescheduled", "Processed"), ("Canceled", "Processed")]
    assert report.api_calls == org.stats()["api_calls"]["total"] - before - 1  # the query above is one call


def test_transient_salesforce_failure_is_retried_later_not_failed(config, outbox, org):
    ingest(outbox, "api", "booking_created.json")
    org.faults.add(error="UNABLE_TO_LOCK_ROW", path="composite", count=10)
    report = worker_for(config, outbox).run_once()
    assert (report.retried, report.failed, report.processed) == (1, 0, 0)
    item = outbox.items()[0]
    assert item.state.value == "pending" and item.last_error_code == "UNABLE_TO_LOCK_ROW"
    assert outbox.counts()["retry_scheduled"] == 1


def test_permanent_failure_is_kept_with_its_reason(config, outbox, org):
    # a cancel for a booking Salesforce never saw: the Flow marks the Booking Action Failed
    doc = json.loads((WEBHOOKS / "api" / "booking_created.json").read_text())
    doc.update(action="Canceled", booking_uid="never-created-1")
    receive(outbox, "api", json.dumps(doc).encode(), {}, secrets=None, verify=False)
    # the outbox holds a cancel until its create is done and parks it after the wait; replay sends it anyway
    assert not outbox.lease("probe", now=datetime.now(timezone.utc) + timedelta(hours=1)).items
    item = outbox.items()[0]
    assert item.state.value == "parked"
    outbox.replay(item.id)

    report = worker_for(config, outbox).drain()
    assert (report.failed, report.processed) == (1, 0)
    failed = outbox.get(item.id)
    assert failed.state.value == "failed"
    assert failed.last_error_code == "FLOW_FAILED" and failed.last_error
    assert any(e.event_type == "discovery-call" for e in outbox.last_sync_errors())


def test_an_interrupted_batch_is_handed_back_at_once(config, outbox):
    ingest(outbox, "api", "booking_created.json")

    def interrupted(lease, report):
        raise KeyboardInterrupt

    worker = worker_for(config, outbox)
    worker._sync = interrupted  # stopped in the middle of talking to Salesforce
    with pytest.raises(KeyboardInterrupt):
        worker.run_once()
    counts = outbox.counts()
    assert counts["leased"] == 0 and counts["pending"] == 1  # due now, not after the 2-minute lease


def test_an_unreachable_org_leaves_the_items_untouched(config, outbox, tmp_path):
    from slotforce.service.connect import ConnectError

    ingest(outbox, "api", "booking_created.json")
    worker = Worker(outbox, config.settings, lambda: connect(config.settings.salesforce.model_copy(
        update={"local": str(tmp_path / "no-org")}), config.base_dir))
    with pytest.raises(ConnectError, match="slotforce org serve"):
        worker.run_once()
    assert outbox.items()[0].attempts == 0 and outbox.counts()["pending"] == 1


def test_sync_command_drains_and_prints_a_summary(config_file, org):
    runner = CliRunner()
    runner.invoke(main, ["ingest", "--source", "api", str(WEBHOOKS / "api" / "booking_created.json"),
                         "--config", str(config_file)], catch_exceptions=False)
    result = runner.invoke(main, ["sync", "--config", str(config_file)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "processed" in result.output and "Salesforce API calls" in result.output
    assert re.search(r"processed\s*│\s*1\s*│", result.output), result.output
    assert org.client().query("SELECT COUNT() FROM Booking_Action__c")["totalSize"] == 1
    again = runner.invoke(main, ["sync", "--config", str(config_file)])
    assert "0 batch(es)" in again.output


# -- leases, timeouts and the API budget ---------------------------------------------------------------

def test_a_worker_that_lost_its_lease_mid_batch_writes_nothing_more(config, outbox, org):
    """Another worker takes the batch over between this worker's fetch and its writes (this one was
    paused longer than its lease): the lease check before the write call stops it, nothing is sent."""
    ingest(outbox, "api", "booking_created.json")
    worker = worker_for(config, outbox, lease_for=timedelta(seconds=1))
    engine = worker.engine
    engine.describes()  # warm: the batch is then a fetch and a write call
    fetch = engine.fetch

    def fetch_then_lose_the_lease(*args, **kwargs):
        answer = fetch(*args, **kwargs)
        time.sleep(1.1)  # a real pause (a stalled host, a long GC): the worker's own clock sees it too
        with open_store(config.settings.store, base_dir=config.base_dir) as other:
            assert len(other.lease("other").items) == 1
        return answer

    engine.fetch = fetch_then_lose_the_lease
    before = org.stats()["api_calls"]["total"]
    report = worker.run_once()
    assert (report.abandoned, report.processed, report.retried, report.failed) == (1, 0, 0, 0), report
    assert org.stats()["api_calls"]["total"] - before == 1  # the fetch; the write call was never made
    assert org.client().query("SELECT COUNT() FROM Booking_Action__c")["totalSize"] == 0
    (item,) = outbox.items()
    # the other worker's, untouched (the expired lease gave its attempt back: only the new lease counts)
    assert item.state.value == "leased" and item.attempts == 1


def test_a_batch_whose_calls_end_well_inside_its_lease_spends_no_commit_on_renewing_it(config, outbox, org):
    """A renewal is a durable commit (an fsync on SQLite): made only when a call could outlive the lease."""
    ingest(outbox, "api", "booking_created.json")
    worker = worker_for(config, outbox)  # a lease of 2 minutes, calls time out after 90 s
    renewals = []
    real = outbox.renew
    outbox.renew = lambda *args, **kwargs: renewals.append(args) or real(*args, **kwargs)
    report = worker.run_once()
    assert report.processed == 1 and report.api_calls >= 2, report
    assert renewals == []


def test_every_salesforce_call_of_the_worker_has_a_timeout_shorter_than_its_lease(config, outbox, org):
    from slotforce.service.connect import call_guard

    worker = worker_for(config, outbox, lease_for=timedelta(seconds=1))
    assert call_guard(worker.engine.gateway.sf).timeout == 0.75
    ingest(outbox, "api", "booking_created.json")
    org.faults.add(latency_ms=1000, count=1, path=r"/composite$")  # the fetch hangs past the timeout
    report = worker.run_once()
    assert report.retried == 1 and "CONNECTION_ERROR" in report.errors[0] and "timed out" in report.errors[0]
    time.sleep(0.5)  # the org's side of the abandoned call ends (quietly) before the org is stopped
    with pytest.raises(ValueError, match="shorter than the lease"):
        worker_for(config, outbox, lease_for=timedelta(seconds=2), call_timeout=timedelta(seconds=2))


def test_sync_says_when_the_queue_waits_for_the_budget_and_what_another_worker_holds(config_file, org):
    from slotforce.store import BUDGET_SPENT

    with open_store("sqlite:///outbox.db", base_dir=config_file.parent) as outbox:
        ingest(outbox, "calcom", "booking_created_new_lead.json")
        ingest(outbox, "api", "booking_created.json")
        outbox.lease("host-b:4242", limit=1, lease_for=timedelta(minutes=2))
    daily = org.stats()["api_usage"]["max"]
    org.set_api_budget(used=daily)
    try:
        result = CliRunner().invoke(main, ["sync", "--config", str(config_file)])
    finally:
        org.set_api_budget(used=0)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the table's lines wrap at 120 columns
    assert re.search(r"waiting for the API budget │ 1 ", text), text
    assert "Waiting for the Salesforce API budget: 1 change(s)" in text
    assert re.search(r"1 change\(s\) are leased by host-b:4242 until \d\d:\d\d:\d\d UTC \(1[12]\d s\)", text), text
    status = CliRunner().invoke(main, ["status", "--config", str(config_file), "--json"])
    doc = json.loads(status.output)
    assert doc["counts"]["waiting_for_budget"] == 1 and doc["waiting_for_budget"]["items"] == 1
    with open_store("sqlite:///outbox.db", base_dir=config_file.parent) as outbox:
        (waiting,) = outbox.items(states=["pending"])
        assert (waiting.attempts, waiting.last_error_code) == (0, BUDGET_SPENT)


def test_dropped_fields_become_the_event_types_last_sync_error(outbox):
    from slotforce.service.worker import OutboxErrorSink
    from slotforce.sync import DroppedFieldsReport

    sink = OutboxErrorSink(outbox)
    sink.fields_dropped(DroppedFieldsReport("demo", "bk-1", ("Meeting_Status__c",), "FIELDS_DROPPED", "first"))
    sink.fields_dropped(DroppedFieldsReport("demo", "bk-2", ("Notes__c",), "FIELDS_DROPPED", "second"))
    [last] = [e for e in outbox.last_sync_errors() if e.event_type == "demo"]
    assert (last.code, last.message) == ("FIELDS_DROPPED", "second")
    assert last.details == {"dropped_fields": ["Notes__c"], "booking_uid": "bk-2"}


def test_a_fresh_sync_reuses_the_describes_kept_in_the_outbox(config_file, org):
    """Cron-style `slotforce sync`: every run is a new process; after the first, one isolated booking
    costs the fetch and the write (2 calls), not a describe besides (issue 14.9)."""
    runner = CliRunner()
    calls = []
    for n in range(3):
        doc = json.loads((WEBHOOKS / "api" / "booking_created.json").read_text())
        doc.update(booking_uid=f"cron-{n}", attendee={**doc["attendee"], "email": f"cron{n}@tailspin-toys.com"})
        path = config_file.parent / f"cron-{n}.json"
        path.write_text(json.dumps(doc))
        assert runner.invoke(main, ["ingest", "--source", "api", "--config", str(config_file), str(path)]).exit_code == 0
        before = org.stats()["api_calls"]["total"]
        result = runner.invoke(main, ["sync", "--config", str(config_file)])
        assert result.exit_code == 0, result.output
        calls.append(org.stats()["api_calls"]["total"] - before)
    assert calls[0] == 3 and calls[1:] == [2, 2]  # describe once, then kept


def test_the_describe_cache_survives_a_round_trip_and_forgets_when_told():
    from slotforce.sync import DescribeCache
    from slotforce.sync.describe import FieldInfo, SObjectInfo

    cache = DescribeCache()
    cache.put(SObjectInfo.simple("Lead", FieldInfo("Meeting_Status__c", "picklist", picklist=("Scheduled", "No Show"))))
    cache.put_absent("Opportunity__x")
    again = DescribeCache.from_json(cache.as_json())
    assert again.get("Lead").get("meeting_status__c").picklist == ("Scheduled", "No Show")
    assert again.is_absent("Opportunity__x") and again.missing(["Lead", "Opportunity__x", "Event"]) == ["Event"]
    assert DescribeCache.from_json("{not json").missing(["Lead"]) == ["Lead"]  # a damaged copy: describe again
    again.clear()
    assert again.changed and again.missing(["Lead"]) == ["Lead"]
