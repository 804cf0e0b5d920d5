"""Intake and workers as separate processes on one PostgreSQL outbox, as on separate hosts.

`slotforce serve --no-worker` takes the webhooks and sends nothing; two `slotforce worker`
processes drain the outbox; one is SIGKILLed mid-stream and the other is stopped with SIGTERM
once everything is sent (exit 0). Every booking reaches Salesforce once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import pytest

from reliability_kit import COMPRESSED_OUTBOX, SLOTFORCE, ServeProcess, body, count, created, doubles
from slotforce.sources import sign_api
from slotforce.store import open_store
from slotforce.testing import API_SECRET, API_SECRET_ENV, write_config

BOOKINGS = 300


def start_worker(config, n: int) -> subprocess.Popen:
    log = (config.parent / f"worker-{n}.log").open("wb")
    return subprocess.Popen([*SLOTFORCE, "worker", "--config", str(config), "--log-level", "warning"],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, API_SECRET_ENV: API_SECRET})


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout} s")
        time.sleep(0.05)


@pytest.mark.timeout(150)
def test_intake_and_two_workers_apart_one_killed_send_every_booking_once(org, tmp_path, postgres_url):
    config = write_config(tmp_path, org, outbox=COMPRESSED_OUTBOX, store=postgres_url)
    intake = ServeProcess(config, {API_SECRET_ENV: API_SECRET}, args=("--no-worker",)).start()
    workers: list[subprocess.Popen] = []
    try:
        with httpx.Client(base_url=intake.url, timeout=10) as http:
            for n in range(BOOKINGS):
                raw = body(created(n))
                answer = http.post("/webhooks/api", content=raw,
                                   headers={"Content-Type": "application/json", **sign_api(API_SECRET, raw)})
                assert answer.status_code == 202, answer.text
            assert http.get("/healthz").status_code == 200  # no worker here is not a fault
        with open_store(postgres_url) as outbox:
            time.sleep(0.5)
            assert outbox.counts()["pending"] == BOOKINGS  # the intake sends nothing
            org.faults.add(latency_ms=300, path="/composite$")  # batches take a while: one is in flight
            workers = [start_worker(config, 1), start_worker(config, 2)]
            wait_for(lambda: outbox.counts()["leased"] > 0 and outbox.counts()["done"] > 0, 60, "batches in flight")
            workers[0].kill()  # SIGKILL, wherever it is; its lease expires and the other takes over
            workers[0].wait(10)
            wait_for(lambda: outbox.counts()["done"] == BOOKINGS, 90, "every booking sent")
            counts = outbox.counts()
        workers[1].send_signal(signal.SIGTERM)
        assert workers[1].wait(30) == 0
        assert counts["failed"] == counts["parked"] == 0, counts
        sf = org.client()
        assert count(sf, "Booking_Action__c") == count(sf, "Event") == count(sf, "Contact") == BOOKINGS
        assert doubles(sf, "Event", "Booking_Uid__c") == {} and doubles(sf, "Contact", "Email") == {}
    finally:
        org.faults.clear()
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(10)
        intake.kill()
