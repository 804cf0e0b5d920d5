"""`slotforce serve --log-format json|text`: a line per delivery, per batch, per outage and per permanent
failure, with their fields; no email addresses unless `--log-pii`."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from slotforce.service.logs import JsonFormatter, Redact, TextFormatter
from slotforce.service.worker import BatchReport, Worker
from slotforce.sources import sign_api
from slotforce.store import ItemResult
from slotforce.testing import API_SECRET, API_SECRET_ENV, free_port, wait_for

BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_bytes()
UID = "acme-bk-20261205-0001"



def test_serve_json_logs_a_line_per_delivery_and_per_batch_without_emails(config_file):
    port, log = free_port(), config_file.parent / "serve.log"
    proc = subprocess.Popen([sys.executable, "-c", "from slotforce.cli import main; main()", "serve", "--config",
                             str(config_file), "--port", str(port), "--log-format", "json"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env={**os.environ, API_SECRET_ENV: API_SECRET})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(url), timeout=30)
        signed = {"Content-Type": "application/json", **sign_api(API_SECRET, BOOKING)}
        assert httpx.post(url + "/webhooks/api", content=BOOKING, headers=signed).status_code == 202
        assert httpx.post(url + "/webhooks/api", content=BOOKING, headers={}).status_code == 401
        lines = wait_for(lambda: (found := _lines(log)) and any(x.get("event") == "batch" for x in found) and found)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    deliveries = [x for x in lines if x.get("event") == "delivery"]
    assert deliveries[0]["source"] == "api" and deliveries[0]["status"] == 202
    assert deliveries[0]["booking_uids"] == [UID] and deliveries[0]["delivery_id"] == 1
    assert deliveries[1]["status"] == 401 and deliveries[1]["reason"].startswith("bad_signature")
    batch = next(x for x in lines if x.get("event") == "batch")
    assert batch["processed"] == 1 and batch["api_calls"] >= 1 and batch["seconds"] > 0 and batch["level"] == "info"
    assert all(set(x) >= {"time", "level", "logger", "message"} for x in lines)
    assert "@" not in log.read_text()  # the booking's attendee and host emails stay out


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def record(msg: str, **extra) -> logging.LogRecord:
    r = logging.LogRecord("slotforce.worker", logging.WARNING, __file__, 1, msg, (), None)
    r.__dict__.update(extra)
    return r


def test_emails_are_redacted_unless_pii_is_asked_for():
    r = record("DUPLICATE_VALUE: ana.silva@tailspin-toys.com exists", event="failed", error="x <ana@x.io>")
    Redact().filter(r)
    assert r.getMessage() == "DUPLICATE_VALUE: <email> exists" and r.error == "x <<email>>"
    kept = record("ana@x.io")
    assert json.loads(JsonFormatter().format(kept))["message"] == "ana@x.io"  # --log-pii: no filter


def test_text_format_appends_the_fields():
    line = TextFormatter().format(record("batch of 2", event="batch", processed=2, seconds=0.5))
    assert line.endswith("slotforce.worker: batch of 2 [processed=2 seconds=0.5]")


def test_a_permanent_failure_is_a_warning_with_its_code(caplog):
    with caplog.at_level(logging.INFO, logger="slotforce.worker"):
        Worker._log(BatchReport(batches=1, leased=1, failed=1, seconds=0.1),
                    [ItemResult.failed(7, "no Event found", "FLOW_FAILED")])
    failed = [r for r in caplog.records if getattr(r, "event", None) == "failed"]
    assert failed[0].levelname == "WARNING" and failed[0].item_id == 7 and failed[0].code == "FLOW_FAILED"
    assert "slotforce replay 7" in failed[0].getMessage()
    assert any(getattr(r, "event", None) == "batch" and r.failed == 1 for r in caplog.records)


def test_outage_start_and_end_are_logged_once_each(caplog):
    from slotforce.service.health import SalesforceReachability

    reach = SalesforceReachability()
    with caplog.at_level(logging.INFO, logger="slotforce.service"):
        for _ in range(3):
            reach.record(False, "POST /composite: HTTP 503")
        time.sleep(0.01)
        reach.record(True)
        reach.record(True)
    events = [r.event for r in caplog.records if hasattr(r, "event")]
    assert events == ["outage_start", "outage_end"]
