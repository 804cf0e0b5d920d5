"""Three orgs through one deployment (issue 13.4): each booking lands once, in its own org and no other.

- `slotforce serve --no-worker` takes every org's webhooks (POST /webhooks/{org}/api, each signed with
  its org's secret) and two `slotforce worker` processes drain one PostgreSQL outbox; one worker is
  SIGKILLed mid-run. Some booking uids are posted to all three orgs: the same uid in two orgs is two
  bookings, so each org ends with its own Event and Booking Action of it.
- One org's Salesforce is down (every call answers 503): the other two orgs' bookings land while it
  is, and the down org's land once it is back; /healthz names the org that fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import pytest
import yaml

from reliability_kit import COMPRESSED_OUTBOX, SLOTFORCE, ServeProcess, body, count, created, doubles, query_all
from slotforce.localorg import LocalOrg
from slotforce.package import deploy
from slotforce.sources import sign_api
from slotforce.store import open_store
from slotforce.testing import assign_integration

NAMES = ("acme", "globex", "initech")
PER_ORG = 60  # bookings of each org's own
SHARED = 10  # uids posted to every org


def secret_env(name: str) -> str:
    return f"SLOTFORCE_TEST_{name.upper()}_SECRET"


def secret(name: str) -> str:
    return f"{name}-webhook-secret"


ENV = {secret_env(n): secret(n) for n in NAMES}


@pytest.fixture(scope="module")
def spare_orgs():
    """Two more local orgs with the package deployed (the third is the session's `org`)."""
    orgs = [LocalOrg().start() for _ in range(2)]
    try:
        for o in orgs:
            client = o.client()
            deploy(client)
            assign_integration(client, o.user_id)
            client.session.close()
        yield orgs
    finally:
        for o in orgs:
            o.stop()


@pytest.fixture
def three_orgs(org, spare_orgs):
    for o in spare_orgs:
        o.reset()
    return dict(zip(NAMES, [org, *spare_orgs]))


def write_config(folder, orgs: dict, store: str, **extra):
    doc = {"store": store, "outbox": COMPRESSED_OUTBOX, **extra,
           "orgs": {name: {"salesforce": {"local": str(o.state_dir)},
                           "sources": {"api": {"secret_env": secret_env(name)}}} for name, o in orgs.items()}}
    path = folder / "slotforce.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def uids_of(name: str) -> list[str]:
    return [f"{name}-{n:04d}" for n in range(PER_ORG)] + [f"shared-{n:04d}" for n in range(SHARED)]


def post_all(http: httpx.Client, name: str, offset: int) -> None:
    for n, uid in enumerate(uids_of(name)):
        raw = body(created(offset + n, uid=uid))
        answer = http.post(f"/webhooks/{name}/api", content=raw,
                           headers={"Content-Type": "application/json", **sign_api(secret(name), raw)})
        assert answer.status_code == 202, answer.text


def start_worker(config, n: int) -> subprocess.Popen:
    log = (config.parent / f"worker-{n}.log").open("wb")
    return subprocess.Popen([*SLOTFORCE, "worker", "--config", str(config), "--log-level", "warning"],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **ENV})


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout} s")
        time.sleep(0.05)
    return value


def assert_each_booking_once_in_its_own_org(orgs: dict) -> None:
    for name, o in orgs.items():
        sf = o.client()
        mine = set(uids_of(name))
        events = {r["Booking_Uid__c"] for r in query_all(sf, "SELECT Booking_Uid__c FROM Event")}
        actions = {r["Booking_Uid__c"] for r in query_all(sf, "SELECT Booking_Uid__c FROM Booking_Action__c")}
        assert events == actions == mine, f"org {name}: not exactly its own bookings"  # none of another org's
        assert count(sf, "Event") == count(sf, "Booking_Action__c") == len(mine)
        assert doubles(sf, "Event", "Booking_Uid__c") == {} and doubles(sf, "Booking_Action__c", "Action_Key__c") == {}
        sf.session.close()


@pytest.mark.timeout(240)
def test_three_orgs_one_intake_two_workers_one_killed_every_booking_once_in_its_own_org(three_orgs, tmp_path,
                                                                                      postgres_url):
    config = write_config(tmp_path, three_orgs, postgres_url)
    intake = ServeProcess(config, ENV, args=("--no-worker",)).start()
    workers: list[subprocess.Popen] = []
    total = len(NAMES) * (PER_ORG + SHARED)
    try:
        with httpx.Client(base_url=intake.url, timeout=10) as http:
            for i, name in enumerate(NAMES):
                post_all(http, name, offset=i * 1000)
            assert http.post("/webhooks/api", content=b"{}").status_code == 404  # name the org
            assert http.post("/webhooks/umbrella/api", content=b"{}").status_code == 404
        with open_store(postgres_url) as outbox:
            assert outbox.counts()["pending"] == total
            for o in three_orgs.values():  # batches take a while: some are in flight when the kill comes
                o.faults.add(latency_ms=200, path="/composite$")
            workers = [start_worker(config, 1), start_worker(config, 2)]
            wait_for(lambda: outbox.counts()["leased"] > 0 and outbox.counts()["done"] > 0, 60, "batches in flight")
            workers[0].kill()  # SIGKILL: its lease expires and the other worker takes its items over
            workers[0].wait(10)
            wait_for(lambda: outbox.counts()["done"] == total, 150, "every booking sent")
            counts = {name: outbox.counts(org=name) for name in NAMES}
        workers[1].send_signal(signal.SIGTERM)
        assert workers[1].wait(30) == 0
        assert all(c["done"] == PER_ORG + SHARED and c["failed"] == c["parked"] == 0 for c in counts.values()), counts
        assert_each_booking_once_in_its_own_org(three_orgs)
    finally:
        for o in three_orgs.values():
            o.faults.clear()
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(10)
        intake.kill()


@pytest.mark.timeout(180)
def test_one_orgs_salesforce_down_the_others_land_promptly_and_its_own_once_it_is_back(three_orgs, tmp_path):
    config = write_config(tmp_path, three_orgs, "sqlite:///outbox.db", service={"salesforce_failing_seconds": 1})
    down = three_orgs["initech"]
    down.faults.add(error="503", path="^/services/")  # every API call of that org: 503 Service Unavailable
    serve = ServeProcess(config, ENV).start()
    try:
        with httpx.Client(base_url=serve.url, timeout=10) as http, \
                open_store(f"sqlite:///{tmp_path}/outbox.db") as outbox:
            began = time.monotonic()
            for i, name in enumerate(NAMES):
                post_all(http, name, offset=i * 1000)
            healthy = ("acme", "globex")
            wait_for(lambda: all(outbox.counts(org=n)["done"] == PER_ORG + SHARED for n in healthy), 60,
                     "the healthy orgs' bookings land while one org is down")
            landed_in = time.monotonic() - began
            assert outbox.counts(org="initech")["done"] == 0 and outbox.counts(org="initech")["failed"] == 0
            health = wait_for(lambda: (h := http.get("/healthz")).status_code == 503 and h.json(), 30, "unhealthy")
            assert any(c.startswith("salesforce_failing: org initech:") for c in health["causes"]), health
            assert list(health["salesforce_failing"]) == ["initech"]
            down.faults.clear()  # Salesforce is back
            wait_for(lambda: outbox.counts(org="initech")["done"] == PER_ORG + SHARED, 60,
                     "the down org's bookings land once it is back")
            assert all(outbox.counts(org=n)["failed"] == 0 for n in NAMES)
            wait_for(lambda: http.get("/healthz").status_code == 200, 30, "healthy again")
        print(f"healthy orgs' {2 * (PER_ORG + SHARED)} bookings landed in {landed_in:.1f} s with one org down")
        assert_each_booking_once_in_its_own_org(three_orgs)
    finally:
        down.faults.clear()
        serve.kill()


@pytest.mark.timeout(60)
def test_sighup_adds_an_org_without_a_restart_and_a_bad_file_keeps_the_old_config(org, tmp_path):
    config = write_config(tmp_path, {"acme": org}, "sqlite:///outbox.db")
    serve = ServeProcess(config, ENV, args=("--no-worker",)).start()
    raw = body(created(1, uid="hup-1"))

    def post(name: str) -> int:
        return httpx.post(f"{serve.url}/webhooks/{name}/api", content=raw, timeout=10,
                          headers={"Content-Type": "application/json", **sign_api(secret(name), raw)}).status_code

    try:
        assert post("acme") == 202 and post("globex") == 404
        write_config(tmp_path, {"acme": org, "globex": org}, "sqlite:///outbox.db")
        serve.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: post("globex") == 202, 10, "globex served after SIGHUP")
        config.write_text(config.read_text().replace("orgs:", "orgs:\n  Not A Slug: {}"))
        serve.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "config reload refused" in serve.log.read_text(), 10, "the bad file refused")
        assert post("globex") == 202 and serve.proc.poll() is None  # still serving what it read before
    finally:
        serve.kill()


@pytest.mark.timeout(90)
def test_sighup_makes_a_running_worker_serve_an_org_added_to_the_file(org, tmp_path):
    from slotforce.sources import receive

    config = write_config(tmp_path, {"acme": org}, "sqlite:///outbox.db")
    worker = start_worker(config, 1)
    try:
        with open_store(f"sqlite:///{tmp_path}/outbox.db") as outbox:
            receive(outbox, "api", body(created(1, uid="late-org-1")), {}, secrets=None, verify=False, org="globex")
            time.sleep(1.5)  # the worker does not serve globex: its change stays queued
            assert outbox.counts(org="globex")["pending"] == 1
            write_config(tmp_path, {"acme": org, "globex": org}, "sqlite:///outbox.db")
            worker.send_signal(signal.SIGHUP)
            wait_for(lambda: outbox.counts(org="globex")["done"] == 1, 30, "globex's change sent after SIGHUP")
        assert worker.poll() is None
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
