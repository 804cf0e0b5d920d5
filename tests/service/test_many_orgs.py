"""One deployment, several orgs, in-process: webhooks per org with each org's secrets, status and bookings
per org, /healthz naming the org, a config reload adding and removing orgs, and the worker's fair
leasing and outage isolation across orgs."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import yaml
from simple_salesforce import Salesforce
from starlette.testclient import TestClient

from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.service.worker import Worker
from slotforce.sources import receive, sign_api
from slotforce.store import OutboxTiming, open_store
from slotforce.sync import parse_settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks"
BOOKING = (FIXTURES / "api" / "booking_created.json").read_bytes()
SECRETS = {"ACME_API_SECRET": "acme-secret", "GLOBEX_API_SECRET": "globex-secret"}


def signed(secret: str, body: bytes = BOOKING) -> dict[str, str]:
    return {"Content-Type": "application/json", **sign_api(secret, body)}


def org_block(state_dir, env: str) -> dict:
    return {"salesforce": {"local": str(state_dir)}, "sources": {"api": {"secret_env": env}}}


def write(path: Path, orgs: dict) -> Path:
    path.write_text(yaml.safe_dump({"store": "sqlite:///outbox.db", "orgs": orgs}, sort_keys=False))
    return path


@pytest.fixture
def config_path(tmp_path, org, monkeypatch):
    for env, value in SECRETS.items():
        monkeypatch.setenv(env, value)
    return write(tmp_path / "slotforce.yml", {"acme": org_block(org.state_dir, "ACME_API_SECRET"),
                                              "globex": org_block(org.state_dir, "GLOBEX_API_SECRET")})


@pytest.fixture
def service(config_path):
    return Service(load_service_config(config_path), worker=False)


@pytest.fixture
def client(service):
    with TestClient(build_app(service, manage_lifecycle=False)) as c:
        yield c


def test_each_org_takes_its_own_webhooks_with_its_own_secret(client, service):
    acme = client.post("/webhooks/acme/api", content=BOOKING, headers=signed("acme-secret"))
    assert acme.status_code == 202, acme.text
    assert client.post("/webhooks/globex/api", content=BOOKING, headers=signed("acme-secret")).status_code == 401
    globex = client.post("/webhooks/globex/api", content=BOOKING, headers=signed("globex-secret"))
    assert globex.status_code == 202 and globex.json()["items"] != acme.json()["items"]  # two bookings
    assert [i.org for i in service.intake.items(limit=5)] == ["globex", "acme"]

    unknown = client.post("/webhooks/initech/api", content=BOOKING, headers=signed("acme-secret"))
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "org 'initech' is not configured in this deployment (not under orgs: in "
                                       "slotforce.yml)", "org": "initech"}
    bare = client.post("/webhooks/api", content=BOOKING, headers=signed("acme-secret"))
    assert bare.status_code == 404 and "/webhooks/{org}/{source}" in bare.json()["error"]
    wrong_source = client.post("/webhooks/acme/zoom", content=BOOKING, headers=signed("acme-secret"))
    assert wrong_source.status_code == 404 and "unknown webhook source 'zoom'" in wrong_source.json()["error"]
    assert service.intake.counts()["deliveries"] == 2


def test_each_delivery_line_names_its_org(client, caplog):
    with caplog.at_level(logging.INFO, logger="slotforce.service"):
        client.post("/webhooks/acme/api", content=BOOKING, headers=signed("acme-secret"))
        client.post("/webhooks/globex/api", content=BOOKING, headers=signed("acme-secret"))  # globex's secret differs
    lines = [r for r in caplog.records if getattr(r, "event", None) == "delivery"]
    assert [(r.org, r.status) for r in lines] == [("acme", 202), ("globex", 401)]
    assert lines[0].getMessage().startswith("delivery api of org acme: 202 accepted")


def test_metrics_are_labelled_by_org(client):
    client.post("/webhooks/acme/api", content=BOOKING, headers=signed("acme-secret"))
    client.post("/webhooks/globex/api", content=BOOKING, headers=signed("acme-secret"))
    text = client.get("/metrics").text
    assert 'slotforce_webhooks_total{org="acme",reason="",result="accepted",source="api"} 1.0' in text
    assert 'slotforce_webhooks_total{org="globex",reason="bad_signature",result="rejected",source="api"} 1.0' in text
    assert 'slotforce_outbox_items{org="acme",state="pending"} 1.0' in text
    assert 'slotforce_outbox_items{org="globex",state="pending"} 0.0' in text


def test_status_and_bookings_are_per_org(client, service):
    client.post("/webhooks/acme/api", content=BOOKING, headers=signed("acme-secret"))
    uid = service.intake.items(limit=1)[0].booking_uid
    index = client.get("/status.json").json()["orgs"]
    assert [(o["org"], o["depth"]) for o in index] == [("acme", 1), ("globex", 0)]
    assert client.get("/status.json?org=acme").json()["counts"]["pending"] == 1
    assert client.get("/status.json?org=globex").json()["counts"]["pending"] == 0
    assert client.get("/status.json?org=initech").status_code == 404
    page = client.get("/status?org=acme")
    assert page.status_code == 200 and "org acme" in page.text
    listing = client.get("/status")
    assert listing.status_code == 200 and 'href="?org=acme' in listing.text and 'href="?org=globex' in listing.text

    assert client.get(f"/bookings/{uid}?org=acme").json()["org"] == "acme"
    assert client.get(f"/bookings/{uid}?org=globex").status_code == 404  # the same uid is not globex's
    ambiguous = client.get(f"/bookings/{uid}")
    assert ambiguous.status_code == 400 and ambiguous.json()["orgs"] == ["acme", "globex"]


def test_healthz_names_the_org_whose_secret_is_missing(config_path, monkeypatch):
    monkeypatch.delenv("GLOBEX_API_SECRET")
    service = Service(load_service_config(config_path), worker=False)
    with TestClient(build_app(service, manage_lifecycle=False)) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["causes"] == [
        "secret_missing: orgs.globex.sources.api has no secret: set the environment variable GLOBEX_API_SECRET "
        "(every api delivery is refused with 401 until then)"]


def test_a_reload_serves_new_orgs_stops_removed_ones_and_refuses_a_bad_file(client, service, config_path, org,
                                                                            monkeypatch, caplog):
    monkeypatch.setenv("INITECH_API_SECRET", "initech-secret")
    write(config_path, {"globex": org_block(org.state_dir, "GLOBEX_API_SECRET"),
                        "initech": org_block(org.state_dir, "INITECH_API_SECRET")})
    globex_before = service.orgs["globex"]
    assert service.reload()
    assert service.orgs["globex"] is globex_before  # unchanged: keeps its state
    assert client.post("/webhooks/initech/api", content=BOOKING, headers=signed("initech-secret")).status_code == 202
    assert client.post("/webhooks/acme/api", content=BOOKING, headers=signed("acme-secret")).status_code == 404
    service.worker._take_pending_orgs()  # (what the worker does at the start of its next pass)
    assert set(service.worker.lanes) == {"globex", "initech"}

    config_path.write_text(config_path.read_text() + "  Bad Name: {}\n")
    assert not service.reload()
    assert "config reload refused" in caplog.text and "orgs.Bad Name" in caplog.text
    assert client.post("/webhooks/initech/api", content=BOOKING, headers=signed("initech-secret")).status_code == 202


# -- the worker across orgs ----------------------------------------------------------------------

def created(uid: str) -> bytes:
    doc = json.loads(BOOKING)
    doc["booking_uid"] = uid
    return json.dumps(doc).encode()


def queue(outbox, org: str, uids: list[str]) -> None:
    for uid in uids:
        receive(outbox, "api", created(uid), {}, secrets=None, verify=False, org=org)


def test_a_backlog_in_one_org_does_not_starve_another(org, tmp_path):
    settings = parse_settings({"salesforce": {"local": str(org.state_dir)}})
    with open_store(f"sqlite:///{tmp_path}/outbox.db") as outbox:
        queue(outbox, "big", [f"big-{n}" for n in range(12)])
        queue(outbox, "small", ["small-1"])
        worker = Worker(outbox, orgs={"big": (settings, org.client), "small": (settings, org.client)},
                        batch_size=4, name="fair")
        first, second = worker.run_once(), worker.run_once()
        assert first.leased == 4 and second.leased == 1  # big's batch, then small's, not big's next three
        assert outbox.counts(org="small")["done"] == 1 and outbox.counts(org="big")["done"] == 4
        worker.drain()
        assert outbox.counts(org="big")["done"] == 12


def unreachable() -> Salesforce:
    """A client of an org whose Salesforce refuses connections."""
    return Salesforce(instance_url="https://127.0.0.1:9", session_id="x", version="62.0")


def test_an_org_whose_salesforce_is_down_rests_while_the_others_are_served(org, tmp_path):
    settings = parse_settings({"salesforce": {"local": str(org.state_dir)}})
    quick_retries = OutboxTiming(backoff_base_seconds=0.01, backoff_cap_seconds=0.02).store_options()
    with open_store(f"sqlite:///{tmp_path}/outbox.db", **quick_retries) as outbox:
        queue(outbox, "down", ["down-1", "down-2", "down-3"])
        queue(outbox, "up", [f"up-{n}" for n in range(9)])
        worker = Worker(outbox, orgs={"down": (settings, unreachable), "up": (settings, org.client)},
                        batch_size=3, name="isolated")
        failed = worker.run_once()  # "down" comes first in turn: its batch fails with no answer
        assert failed.retried == 3 and worker.lanes["down"].down_until > time.monotonic()
        assert "ConnectionError" in worker.lanes["down"].last_error
        worker.lanes["down"].down_until += 60  # (however slow this machine is, it rests while "up" is served)
        served = [worker.run_once() for _ in range(3)]
        assert [r.processed for r in served] == [3, 3, 3]  # every pass went to "up", at full batches
        assert outbox.counts(org="up")["done"] == 9
        assert outbox.counts(org="down")["done"] == 0 and outbox.counts(org="down")["failed"] == 0
        worker.lanes["down"].down_until = 0  # its rest is over (and its changes' own short backoff)
        time.sleep(0.05)
        probe = worker.run_once()
        assert (probe.leased, probe.retried) == (1, 1)  # probed with one change, not a batch
        assert worker.lanes["down"].failures == 2


def test_check_config_checks_every_org_and_names_it_in_each_finding(config_path, org):
    from click.testing import CliRunner

    from slotforce.cli import main

    doc = yaml.safe_load(config_path.read_text())
    doc["orgs"]["globex"]["event_types"] = {
        "default": {"write_to_event": [{"field": "No_Such_Field__c", "type": "text", "value": "x"}]}}
    config_path.write_text(yaml.safe_dump(doc))
    offline = CliRunner().invoke(main, ["check-config", "--offline", "--config", str(config_path)])
    assert offline.exit_code == 0 and "org acme: valid" in offline.output and "org globex: valid" in offline.output
    online = CliRunner().invoke(main, ["check-config", "--config", str(config_path)])
    assert online.exit_code == 1
    assert "org acme: fits the org at" in online.output
    assert "org globex: 1 problem(s)" in online.output
    assert "orgs.globex.event_types.default.write_to_event[0].field: Event has no field No_Such_Field__c" in online.output
