"""Outage isolation across orgs (issue 13.4): the p99 booking-to-Event latency of two healthy orgs
while a third org's Salesforce is down, next to the same load with all three healthy.

One `slotforce serve` (intake + worker, SQLite outbox) serves three local orgs with the package
deployed. Each run posts the same steady load to all three orgs (RATE bookings/s each, SECONDS
long); in the second run the third org answers every API call 503, so its bookings pile up and its
lane probes and rests while the worker keeps serving the other two. Latency is measured from just
before the webhook POST to the Flow's insert of the Event (an after-save hook in this process).
Target: the healthy orgs' p99 with one org down within 20% of the all-healthy p99.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bench.traffic import api_booking, free_port

NAMES = ("acme", "globex", "initech")  # initech is the one that goes down
RATE, SECONDS = 10, 10  # bookings per second per org
TARGET_RATIO = 1.20


def _secret(name: str) -> str:
    return f"bench-{name}-secret"


def _booking(uid: str, n: int) -> bytes:
    return api_booking(uid, f"{uid}@bench-co{n % 40}.example.com")




def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Seen:
    """After-save hook: when each booking uid's Event first appears in one org."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    def __call__(self, ctx, sobject, event, new_records, old_records) -> None:
        if sobject.name != "Event" or event == "delete":
            return
        now = time.monotonic()
        for rec in new_records:
            uid = rec.get("Booking_Uid__c")
            if uid and uid not in self.at:
                self.at[uid] = now


def _serve(work: Path, orgs: dict) -> tuple[subprocess.Popen, str]:
    config = work / "slotforce.yml"
    config.write_text(yaml.safe_dump({
        "store": "sqlite:///outbox.db",
        "orgs": {name: {"salesforce": {"local": str(o.state_dir)},
                        "sources": {"api": {"secret_env": f"BENCH_{name.upper()}_SECRET"}}} for name, o in orgs.items()},
    }, sort_keys=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **{f"BENCH_{n.upper()}_SECRET": _secret(n) for n in orgs}}
    proc = subprocess.Popen([sys.executable, "-c", "from slotforce.cli import main; main()", "serve", "--config",
                             str(config), "--port", str(port), "--log-level", "error"], env=env)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("slotforce serve did not start")
        time.sleep(0.1)


def _run(tag: str, orgs: dict, seen: dict[str, Seen], down: str | None, seconds: int = SECONDS,
         idle: str | None = None) -> list[float]:
    """One run: RATE bookings/s to every org (but `idle`) for `seconds`; the healthy orgs' latencies in ms."""
    from slotforce.sources.signatures import sign_api

    work = Path(tempfile.mkdtemp(prefix=f"orgs-bench-{tag}-"))
    if down:
        orgs[down].faults.add(error="503", path="^/services/")
    proc, url = _serve(work, orgs)
    sent: dict[str, tuple[str, float]] = {}
    try:
        with httpx.Client() as client:
            start = time.monotonic()
            for i in range(RATE * seconds):
                for j, name in enumerate(orgs):
                    if name == idle:
                        continue
                    due = start + (i * len(orgs) + j) / (RATE * len(orgs))
                    if (delay := due - time.monotonic()) > 0:
                        time.sleep(delay)
                    uid = f"{tag}-{name}-{i:05d}"
                    body = _booking(uid, i)
                    sent[uid] = (name, time.monotonic())
                    answer = client.post(f"{url}/webhooks/{name}/api", content=body,
                                         headers={"Content-Type": "application/json", **sign_api(_secret(name), body)})
                    assert answer.status_code == 202, answer.text
        healthy = [u for u, (name, _) in sent.items() if name != "initech"]
        deadline = time.monotonic() + 120
        while any(u not in seen[sent[u][0]].at for u in healthy) and time.monotonic() < deadline:
            time.sleep(0.05)
        if down:
            orgs[down].faults.clear()
            wait_until = time.monotonic() + 120
            others = [u for u, (name, _) in sent.items() if name == down]
            while any(u not in seen[down].at for u in others) and time.monotonic() < wait_until:
                time.sleep(0.1)
            back = sum(u in seen[down].at for u in others)
            print(f"  {down}'s {back}/{len(others)} bookings landed after its Salesforce came back")
        return [(seen[sent[u][0]].at[u] - sent[u][1]) * 1000 for u in healthy if u in seen[sent[u][0]].at]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    from slotforce.localorg import LocalOrg
    from slotforce.package.mdapi import deploy

    orgs = {name: LocalOrg().start() for name in NAMES}
    try:
        seen = {}
        for name, o in orgs.items():
            deploy(o.client())
            seen[name] = Seen()
            o.org.triggers.append(seen[name])
        expected = 2 * RATE * SECONDS
        _run("warmup", orgs, seen, down=None, seconds=2)  # first Flows, first describes: not measured
        healthy = _run("healthy", orgs, seen, down=None)
        outage = _run("outage", orgs, seen, down="initech")
        alone = _run("alone", orgs, seen, down=None, idle="initech")
        for label, lat in (("all three orgs healthy", healthy), ("initech down (503)", outage),
                           ("initech idle (no bookings)", alone)):
            print(f"{label}: acme + globex booking-to-Event p50 {statistics.median(lat):.0f} ms, "
                  f"p99 {_pct(lat, 99):.0f} ms ({len(lat)}/{expected} landed; {RATE}/s to each org)")
        ratio = _pct(outage, 99) / _pct(healthy, 99)
        print(f"healthy orgs' p99 with one org down: {ratio:.2f}x the all-healthy p99 "
              f"(target <= {TARGET_RATIO:.2f}x)")
        print(f"  and {_pct(outage, 99) / _pct(alone, 99):.2f}x their p99 with the third org idle (what the down "
              f"org's probes and rests cost the others)")
    finally:
        for o in orgs.values():
            o.stop()


if __name__ == "__main__":
    main()
