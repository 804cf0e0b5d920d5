"""The outbox cannot write: webhooks are answered 503 with Retry-After and why, and nothing is acknowledged
that is not stored; `serve` refuses to start on a read-only outbox."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.sources import sign_api
from slotforce.testing import API_SECRET, API_SECRET_ENV, fill_disk, free_disk, wait_for

BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_bytes()
# A long description: this delivery needs new pages in the outbox, whatever room its pages have left.
LONG_BOOKING = BOOKING.replace(b'"Booked from the pricing page."', b'"' + b"Agenda. " * 1500 + b'"')


def signed(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", **sign_api(API_SECRET, body)}


@pytest.fixture
def service(config_file):
    return Service(load_service_config(config_file), flush_interval=0.05)


def test_a_full_disk_is_503_with_retry_after_and_the_retry_lands_in_salesforce(service, org):
    fill_disk(service.intake._db)
    with TestClient(build_app(service)) as client:
        refused = client.post("/webhooks/api", content=LONG_BOOKING, headers=signed(LONG_BOOKING))
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "30"
        assert refused.json()["cause"] == "disk_full" and "free space on its volume" in refused.json()["error"]
        assert service.intake.counts()["deliveries"] == 0

        free_disk(service.intake._db)  # the operator freed space; the sender retries
        assert client.post("/webhooks/api", content=LONG_BOOKING, headers=signed(LONG_BOOKING)).status_code == 202
        sf = org.client()
        wait_for(lambda: sf.query("SELECT Id FROM Booking_Action__c WHERE Booking_Uid__c = "
                                  "'acme-bk-20261205-0001'")["totalSize"] == 1)


def test_an_outbox_turned_read_only_is_503_naming_it(service):
    service.intake._db.execute("PRAGMA query_only = ON")
    with TestClient(build_app(service)) as client:
        refused = client.post("/webhooks/api", content=BOOKING, headers=signed(BOOKING))
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
    assert refused.json()["cause"] == "read_only" and "writable by the user running slotforce" in refused.json()["error"]


@contextlib.contextmanager
def read_only(path: Path):
    """The file read-only even for root (the immutable attribute), or skip where the filesystem has none."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(0o755)
            path.chmod(0o644)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a file read-only for root here (chattr +i unsupported)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_serve_refuses_to_start_on_a_read_only_outbox_and_says_what_to_do(config_file):
    outbox = config_file.parent / "outbox.db"
    Service(load_service_config(config_file)).stop()  # creates the outbox file, schema and all
    with read_only(outbox):
        done = subprocess.run([sys.executable, "-c", "from slotforce.cli import main; main()", "serve",
                               "--config", str(config_file), "--port", "0"],
                              capture_output=True, text=True, timeout=60, env={**os.environ, API_SECRET_ENV: API_SECRET})
    assert done.returncode == 1, done.stderr
    assert "not starting: the outbox" in done.stderr and "is read-only" in done.stderr
    assert "writable by the user running slotforce" in done.stderr
