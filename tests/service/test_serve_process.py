"""`slotforce serve` as a real process: the status page in headless Chromium, and SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from slotforce.testing import API_SECRET, API_SECRET_ENV, free_port, wait_for
from slotforce.sources import sign_api
from slotforce.store import open_store

BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_bytes()
CHROMIUM = "/usr/bin/chromium"



class Served:
    def __init__(self, config: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / "serve.log"
        env = {**os.environ, API_SECRET_ENV: API_SECRET}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from slotforce.cli import main; main()", "serve", "--config", str(config),
             "--port", str(self.port), "--log-level", "warning"],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"slotforce serve did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def post_booking(self, body: bytes = BOOKING) -> httpx.Response:
        return httpx.post(self.url + "/webhooks/api", content=body,
                          headers={"Content-Type": "application/json", **sign_api(API_SECRET, body)})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def served(config_file):
    s = Served(config_file)
    yield s
    s.stop()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium "
                                                          "(make test installs it)")
def test_status_page_in_chromium_shows_queue_depth_and_a_recent_action(served, config_file, tmp_path):
    assert served.post_booking().status_code == 202
    with open_store("sqlite:///outbox.db", base_dir=config_file.parent) as outbox:
        wait_for(lambda: outbox.counts()["done"] == 1)
    profile = tmp_path / "chromium-profile"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", served.url + "/status"],
        capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert '<strong id="queue-depth">0</strong>' in html
    assert 'data-booking="acme-bk-20261205-0001"' in html  # the recent action row
    assert "Booking Action a0" in html and "processed" in html  # its Salesforce outcome
    assert "booking acme-bk-20261205-0001" in html  # its routing trace
    shutil.rmtree(profile, ignore_errors=True)


def test_sigterm_finishes_the_batch_in_flight_and_exits_0(served, config_file, org):
    # every Composite call takes a second, so the worker is mid-batch when SIGTERM arrives
    org.faults.add(latency_ms=1000, path="composite")
    assert served.post_booking().status_code == 202
    with open_store("sqlite:///outbox.db", base_dir=config_file.parent) as outbox:
        wait_for(lambda: outbox.counts()["leased"] == 1)
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=60) == 0, served.log.read_text()
        counts = outbox.counts()
    assert counts["leased"] == 0
    assert counts["done"] + counts["pending"] == 1  # finished, or handed back; never lost
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.url + "/healthz", timeout=2)
