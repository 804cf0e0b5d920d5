"""Webhooks posted at once share a commit: each 202 comes after its own delivery is stored, a refused
delivery among them answers alone, and a commit the storage refuses answers 503 to each of its group."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.sources import sign_api
from slotforce.testing import API_SECRET, fill_disk, free_disk, wait_for

BOOKING = json.loads((Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_text())


def body(n: int, *, long: bool = False) -> bytes:
    # a long description needs new pages in the outbox, whatever room its pages have left
    return json.dumps({**BOOKING, "booking_uid": f"grouped-{n}",
                       **({"description": "Agenda. " * 1500} if long else {})}).encode()


def signed(raw: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", **sign_api(API_SECRET, raw)}


@pytest.fixture
def service(config_file):
    service = Service(load_service_config(config_file), flush_interval=0.05)
    yield service
    service.stop()


def hold_first_commit(service: Service) -> tuple[threading.Event, threading.Event]:
    """Hold the intake's next group commit until the returned `release` is set (so others queue up)."""
    entered, release = threading.Event(), threading.Event()
    real = service.intake.enqueue_many

    def enqueue_many(deliveries, **kw):
        if not entered.is_set():
            entered.set()
            assert release.wait(10)
        return real(deliveries, **kw)

    service.intake.enqueue_many = enqueue_many  # type: ignore[method-assign]
    return entered, release


def test_posts_arriving_during_a_commit_are_stored_together_and_a_refused_one_answers_alone(service):
    entered, release = hold_first_commit(service)
    with TestClient(build_app(service, manage_lifecycle=False)) as client, ThreadPoolExecutor(8) as pool:
        first = pool.submit(client.post, "/webhooks/api", content=body(0), headers=signed(body(0)))
        assert entered.wait(10)
        rest = [pool.submit(client.post, "/webhooks/api", content=body(n), headers=signed(body(n))) for n in (1, 2, 3)]
        forged = client.post("/webhooks/api", content=body(4), headers=signed(body(99)))
        assert forged.status_code == 401  # answered while the commit is held: refusals never wait for it
        wait_for(lambda: service.commits.waiting == 3)
        assert not first.done()  # no 202 before its commit
        release.set()
        answers = [f.result(timeout=10) for f in [first, *rest]]
    assert [a.status_code for a in answers] == [202] * 4
    assert service.commits.deliveries == 4 and service.commits.groups == 2
    stored = {service.intake.get(i).booking_uid for a in answers for i in a.json()["items"]}
    assert stored == {"grouped-0", "grouped-1", "grouped-2", "grouped-3"}
    assert service.intake.counts()["deliveries"] == 4


def test_a_group_the_storage_refuses_answers_503_to_each_of_its_deliveries_and_stores_none(service):
    fill_disk(service.intake._db)
    entered, release = hold_first_commit(service)
    with TestClient(build_app(service, manage_lifecycle=False)) as client, ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client.post, "/webhooks/api", content=body(0, long=True), headers=signed(body(0, long=True)))]
        assert entered.wait(10)
        futures += [pool.submit(client.post, "/webhooks/api", content=body(n, long=True), headers=signed(body(n, long=True)))
                    for n in (1, 2, 3)]
        wait_for(lambda: service.commits.waiting == 3)
        release.set()
        answers = [f.result(timeout=10) for f in futures]
        assert [a.status_code for a in answers] == [503] * 4
        assert {a.json()["cause"] for a in answers} == {"disk_full"}
        assert all(a.headers["Retry-After"] == "30" for a in answers)
        assert service.intake.counts()["deliveries"] == 0

        free_disk(service.intake._db)
        retried = [pool.submit(client.post, "/webhooks/api", content=body(n, long=True), headers=signed(body(n, long=True)))
                   for n in range(4)]
        assert [f.result(timeout=10).status_code for f in retried] == [202] * 4
    assert service.intake.counts()["deliveries"] == 4
