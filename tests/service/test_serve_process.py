"""`slotforce serve` as a real process: the status page in headless Chromium, and SIGTERM."""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from slotforce.testing import API_SECRET, API_SECRET_ENV, free_port, wait_for
from slotforce.sources import sign_api
from datetime import datetime, timedelta, timezone

from slotforce.store import Delivery, ItemResult, NewChange, open_store

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


def dump_dom(url: str, profile: Path) -> str:
    """The page as headless Chromium rendered it (--dump-dom: the DOM after parsing, not the raw HTML)."""
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shutil.rmtree(profile, ignore_errors=True)
    return dom.stdout


def seed_landed(config_file: Path, minutes_ago: list[int]) -> list[datetime]:
    """One change accepted and landed per minute in `minutes_ago`; returns those minutes (UTC)."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    with open_store("sqlite:///outbox.db", base_dir=config_file.parent) as outbox:
        for n in minutes_ago:
            at = now - timedelta(minutes=n)
            outbox.enqueue(Delivery("api", f"seed {n}".encode()), [NewChange(
                f"api:seed-{n}:Created:0", f"seed-{n}", "Created", {}, establishes=True, event_type="seeded")], now=at)
            lease = outbox.lease("seed", now=at)
            outbox.finish(lease.id, [ItemResult.done(lease.items[0].id, {"status": "processed"})],
                          now=at + timedelta(seconds=5))
    return [now - timedelta(minutes=n) for n in minutes_ago]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium "
                                                          "(make test installs it)")
def test_status_page_in_chromium_shows_queue_depth_and_a_recent_action(served, config_file, tmp_path):
    assert served.post_booking().status_code == 202
    with open_store("sqlite:///outbox.db", base_dir=config_file.parent) as outbox:
        wait_for(lambda: outbox.counts()["done"] == 1)
    html = dump_dom(served.url + "/status", tmp_path / "chromium-profile")
    assert '<strong id="queue-depth">0</strong>' in html
    assert 'data-booking="acme-bk-20261205-0001"' in html  # the recent action row
    assert re.search(r"Booking Action <a [^>]*>a0\w+</a>: processed", html)  # its Salesforce outcome
    assert "booking acme-bk-20261205-0001" in html  # its routing trace


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing: apt-get install -y chromium")
def test_status_page_in_chromium_charts_bookings_per_minute_and_links_ids_into_the_org(config_file, org, tmp_path):
    seeded = seed_landed(config_file, [95, 40, 12])  # before the service starts: its worker leaves done alone
    served = Served(config_file)
    try:
        assert served.post_booking().status_code == 202
        with open_store("sqlite:///outbox.db", base_dir=config_file.parent) as outbox:
            wait_for(lambda: outbox.counts()["done"] == 4)
        html = dump_dom(served.url + "/status?hours=3", tmp_path / "chromium-profile")
    finally:
        served.stop()

    chart = re.search(r'<svg [^>]*id="bookings-chart".*?</svg>', html, re.S)
    assert chart, "no chart on the page"
    assert "<title" in chart[0] and "<desc" in chart[0] and 'role="img"' in chart[0]
    polylines = re.findall(r'<polyline [^>]*points="([^"]+)"', chart[0])
    assert len(polylines) == 3 and all(len(p.split()) == 180 for p in polylines)  # a vertex per minute, per series
    landed = re.search(r'data-series="landed">(.*?)</g>', chart[0], re.S)[1]
    for at in seeded:
        assert f'data-minute="{at:%Y-%m-%dT%H:%M}" data-value="1"' in landed, f"no point at {at:%H:%M}"
    assert re.search(r'<tr data-event-type="seeded"><td>seeded</td><td class="num">3</td><td class="num">3</td>', html)
    assert re.search(r"API requests: <strong>\d+</strong> of the org's daily limit", html)

    sf = org.client()
    row = sf.query("SELECT Id, Event_Id__c FROM Booking_Action__c WHERE Booking_Uid__c = 'acme-bk-20261205-0001'")["records"][0]
    links = re.findall(r'<a class="sf" href="([^"]+)"', html)
    instance = org.instance_url.rstrip("/")
    assert f"{instance}/{row['Id']}" in links and f"{instance}/{row['Event_Id__c']}" in links
    assert all(link.startswith(instance + "/") for link in links)
    # Follow the Booking Action's link as a browser would. Salesforce answers the short link with a
    # redirect into Lightning; the local org serves the API only, so there it is a 404 for the path,
    # and the link's form is checked instead: the org's own host and an id that is a record there.
    answer = httpx.get(f"{instance}/{row['Id']}", verify=ssl.create_default_context(cafile=org.ca_bundle),
                       follow_redirects=True, timeout=10)
    if answer.status_code == 404:
        assert sf.restful(f"sobjects/Booking_Action__c/{row['Id']}")["Id"] == row["Id"]
    else:
        assert answer.status_code < 400, answer.text[:500]


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
