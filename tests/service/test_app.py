"""The HTTP service in-process (Starlette's TestClient runs its lifespan, so the worker runs too)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from slotforce.testing import API_SECRET, wait_for
from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.sources import sign_api

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks"
BOOKING = (FIXTURES / "api" / "booking_created.json").read_bytes()


def signed(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", **sign_api(API_SECRET, body)}


@pytest.fixture
def service(config_file):
    return Service(load_service_config(config_file), flush_interval=0.05)


@pytest.fixture
def client(service):
    with TestClient(build_app(service)) as c:
        yield c


def test_webhook_is_acknowledged_then_the_worker_puts_the_booking_action_in_salesforce(client, service, org):
    answer = client.post("/webhooks/api", content=BOOKING, headers=signed(BOOKING))
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted" and len(answer.json()["items"]) == 1

    sf = org.client()
    rows = wait_for(lambda: sf.query("SELECT Action_Key__c, Status__c, Event_Id__c FROM Booking_Action__c "
                                     "WHERE Booking_Uid__c = 'acme-bk-20261205-0001'")["records"])
    assert rows[0]["Action_Key__c"] == "api:acme-bk-20261205-0001:Created:0"
    item = wait_for(lambda: [i for i in service.intake.items() if i.state.value == "done"])[0]
    assert item.outcome["status"] == "processed" and item.outcome["event_id"] == rows[0]["Event_Id__c"]

    again = client.post("/webhooks/api", content=BOOKING, headers=signed(BOOKING))
    assert again.status_code == 202 and again.json()["already_queued"] == answer.json()["items"]


def test_bad_signature_is_401_and_nothing_is_stored(client, service):
    headers = signed(BOOKING)
    tampered = BOOKING.replace(b"Ana Silva", b"Eve Silva")
    answer = client.post("/webhooks/api", content=tampered, headers=headers)
    assert answer.status_code == 401
    assert "does not match the body" in answer.json()["error"]
    assert client.post("/webhooks/api", content=BOOKING, headers={"Content-Type": "application/json"}).status_code == 401
    assert service.intake.counts()["deliveries"] == 0


def test_stale_calendly_signature_is_401(client, service, monkeypatch):
    service.secrets["calendly"] = "calendly-key"
    from slotforce.sources import sign_calendly

    body = (FIXTURES / "calendly" / "invitee_created_new_lead.json").read_bytes()
    stale = sign_calendly("calendly-key", body, timestamp=int(time.time()) - 3600)
    answer = client.post("/webhooks/calendly", content=body, headers={"Content-Type": "application/json", **stale})
    assert answer.status_code == 401 and "replay window" in answer.json()["error"]
    fresh = sign_calendly("calendly-key", body)
    assert client.post("/webhooks/calendly", content=body, headers={"Content-Type": "application/json", **fresh}).status_code == 202


def test_malformed_body_is_400_and_names_the_problem(client):
    not_json = b"{not json"
    answer = client.post("/webhooks/api", content=not_json, headers=signed(not_json))
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]

    doc = json.loads(BOOKING)
    del doc["booking_uid"]
    body = json.dumps(doc).encode()
    answer = client.post("/webhooks/api", content=body, headers=signed(body))
    assert answer.status_code == 400
    assert "booking_uid" in answer.json()["error"]


def test_oversized_body_is_413(client, service):
    big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    answer = client.post("/webhooks/api", content=big, headers=signed(big))
    assert answer.status_code == 413 and "limit" in answer.json()["error"]
    assert service.intake.counts()["deliveries"] == 0


def test_unknown_source_is_404(client):
    assert client.post("/webhooks/zoom", content=b"{}").status_code == 404


def test_healthz_and_metrics(client):
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["worker"] == "running"

    client.post("/webhooks/api", content=BOOKING, headers=signed(BOOKING))
    client.post("/webhooks/api", content=b"x", headers={"Content-Type": "application/json"})
    wait_for(lambda: 'slotforce_sync_outcomes_total{org="default",outcome="processed"} 1.0' in client.get("/metrics").text)
    text = client.get("/metrics").text
    assert 'slotforce_webhooks_total{org="default",reason="",result="accepted",source="api"} 1.0' in text
    assert 'slotforce_webhooks_total{org="default",reason="bad_signature",result="rejected",source="api"} 1.0' in text
    assert 'slotforce_outbox_items{org="default",state="done"} 1.0' in text
    assert 'slotforce_salesforce_api_calls_total{org="default",purpose="sync"}' in text


def test_owner_lookup_answers_the_contact_owner_or_404(tmp_path, org, monkeypatch):
    from slotforce.testing import write_config

    monkeypatch.setenv("SLOTFORCE_TEST_API_SECRET", API_SECRET)
    config = write_config(tmp_path, org, event_types={
        "default": {},
        "demo": {"round_robin": {"book_with_owner": True, "check_record_on": "contact"}}})
    sf = org.client()
    admin = sf.query(f"SELECT Email FROM User WHERE Id = '{org.user_id}'")["records"][0]["Email"]
    contact = sf.Contact.create({"LastName": "Silva", "Email": "ana.silva@tailspin-toys.com", "OwnerId": org.user_id})["id"]

    with TestClient(build_app(Service(load_service_config(config)), manage_lifecycle=False)) as client:
        found = client.get("/owner", params={"email": "Ana.Silva@tailspin-toys.com", "event_type": "demo"})
        assert found.status_code == 200, found.text
        assert found.json()["owner"] == admin.lower() or found.json()["owner"] == admin
        assert (found.json()["record_id"], found.json()["reason"]) == (contact, "contact_owner")

        not_a_host = client.get("/owner", params={"email": "ana.silva@tailspin-toys.com", "event_type": "demo",
                                                  "hosts": "someone@acme-demo.com"})
        assert not_a_host.status_code == 404 and not_a_host.json()["reason"] == "owner_not_a_host"
        nobody = client.get("/owner", params={"email": "nobody@nowhere-inc.com", "event_type": "demo"})
        assert nobody.status_code == 404 and nobody.json()["owner"] is None
        off = client.get("/owner", params={"email": "ana.silva@tailspin-toys.com"})
        assert off.status_code == 404 and off.json()["reason"] == "owner_lookup_skipped"
        assert client.get("/owner").status_code == 400


def test_links_file_is_synced_at_start_when_configured(tmp_path, org, monkeypatch):
    from slotforce.testing import write_config

    monkeypatch.setenv("SLOTFORCE_TEST_API_SECRET", API_SECRET)
    (tmp_path / "links.yml").write_text(yaml.safe_dump([
        {"key": "k1", "url": "https://cal.example.com/a", "kind": "Event_Type", "owner_email": "a@acme-demo.com"}]))
    config = write_config(tmp_path, org, links={"file": "links.yml", "every_minutes": 60})
    service = Service(load_service_config(config), flush_interval=0.05)
    with TestClient(build_app(service)) as client:
        wait_for(lambda: service.links.last_run_at is not None)
        assert service.links.last_result.startswith("1 created")
        assert "Link sync: last run" in client.get("/status").text


def test_status_page_shows_a_retry_with_its_salesforce_error(client, service, org):
    org.faults.add(error="UNABLE_TO_LOCK_ROW", path="composite", count=50)
    assert client.post("/webhooks/api", content=BOOKING, headers=signed(BOOKING)).status_code == 202
    wait_for(lambda: service.intake.counts()["retry_scheduled"] == 1)
    page = client.get("/status").text
    assert '<strong id="queue-depth">1</strong>' in page
    assert "UNABLE_TO_LOCK_ROW" in page and "next try" in page
    assert 'slotforce_sync_outcomes_total{org="default",outcome="retried"} 1.0' in client.get("/metrics").text


def test_status_page_and_metrics_say_the_queue_waits_for_the_api_budget(client, service, org):
    org.set_api_budget(used=org.stats()["api_usage"]["max"])
    try:
        assert client.post("/webhooks/api", content=BOOKING, headers=signed(BOOKING)).status_code == 202
        wait_for(lambda: service.intake.counts()["waiting_for_budget"] == 1)
        page = client.get("/status").text
        assert '<p id="budget-wait"' in page and "Waiting for the Salesforce API budget: 1 change(s)" in page
        assert '<tr data-state="waiting_for_budget"><td>of those, waiting for the API budget</td><td class="num">1' in page
        metrics = client.get("/metrics").text
        assert 'slotforce_outbox_waiting_for_api_budget{org="default"} 1.0' in metrics
        assert 'slotforce_sync_outcomes_total{org="default",outcome="waiting"} 1.0' in metrics
        assert service.intake.items()[0].attempts == 0
    finally:
        org.set_api_budget(used=0)
