"""`/healthz` tells the truth: 503 with a list of causes an operator acts on, 200 only when all is well."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.sources import sign_api
from slotforce.testing import API_SECRET, API_SECRET_ENV, fill_disk, wait_for, write_config

BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_bytes()
FAST_RETRIES = {"backoff_base_seconds": 0.05, "backoff_cap_seconds": 0.2, "max_attempts": 100}


def serve(config: Path):
    return TestClient(build_app(Service(load_service_config(config), flush_interval=0.05)))


def causes(client) -> list[str]:
    answer = client.get("/healthz")
    assert answer.status_code == (503 if answer.json()["causes"] else 200), answer.json()
    return answer.json()["causes"]


def test_healthy_is_200_with_no_causes(config_file):
    with serve(config_file) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok" and answer.json()["causes"] == []


def test_a_configured_source_without_its_secret_is_named_with_its_variable_and_logged(tmp_path, org, monkeypatch,
                                                                                      caplog):
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    monkeypatch.delenv("HEALTH_CALCOM_SECRET", raising=False)
    config = write_config(tmp_path, org, sources={"api": {"secret_env": API_SECRET_ENV},
                                                  "calcom": {"secret_env": "HEALTH_CALCOM_SECRET"}})
    with caplog.at_level(logging.ERROR, logger="slotforce.service"), serve(config) as client:
        found = causes(client)
    assert len(found) == 1 and found[0].startswith("secret_missing: sources.calcom")
    assert "set the environment variable HEALTH_CALCOM_SECRET" in found[0]
    assert any("HEALTH_CALCOM_SECRET" in r.getMessage() for r in caplog.records)  # said at start too


@pytest.mark.parametrize("break_it, cause", [
    (fill_disk, "free space on its volume"),
    (lambda db: db.execute("PRAGMA query_only = ON"), "is read-only"),
])
def test_an_outbox_that_cannot_write_is_503(config_file, break_it, cause):
    service = Service(load_service_config(config_file), flush_interval=0.05)
    break_it(service.intake._db)
    with TestClient(build_app(service)) as client:
        found = causes(client)
    assert len(found) == 1 and found[0].startswith("outbox_unwritable:") and cause in found[0]


def test_a_stopped_worker_is_503(config_file):
    service = Service(load_service_config(config_file), flush_interval=0.05)
    with TestClient(build_app(service)) as client:
        assert causes(client) == []
        service._stop.set()  # what a crashed worker thread looks like from outside
        wait_for(lambda: not service.worker_alive)
        found = causes(client)
    assert len(found) == 1 and found[0].startswith("worker_stopped:")


def test_salesforce_failing_every_call_for_longer_than_configured_is_503_until_a_call_works(tmp_path, org,
                                                                                          monkeypatch):
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    config = write_config(tmp_path, org, service={"salesforce_failing_seconds": 0.5}, outbox=FAST_RETRIES)
    org.faults.add(error="503", path="^/services/data/")
    with serve(config) as client:
        assert client.post("/webhooks/api", content=BOOKING,
                           headers={"Content-Type": "application/json", **sign_api(API_SECRET, BOOKING)}).status_code == 202
        found = wait_for(lambda: causes(client))
        assert found[0].startswith("salesforce_failing: every Salesforce call has failed for")
        assert "service.salesforce_failing_seconds = 0.5" in found[0] and "HTTP 503" in found[0]
        org.faults.clear()
        wait_for(lambda: causes(client) == [])
