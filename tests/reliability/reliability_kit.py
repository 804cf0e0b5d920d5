"""What the reliability tests share: bookings in our own JSON form, a compressed outbox clock, a
worker loop with a deadline, and the Salesforce-side counts that say "nothing lost, nothing doubled".

Counts are asked of the org the way an admin would check: SOQL over the REST API (unmodified
simple-salesforce), `GROUP BY ... HAVING COUNT(Id) > 1` for doubles.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from slotforce.service.worker import BatchReport, Worker
from slotforce.store import Outbox, open_store
from slotforce.store.sqlite import SqliteOutbox
from slotforce.store.timing import OutboxTiming
from slotforce.sync.settings import Settings, parse_settings

# Production backs off 2 s doubling to 15 min; the tests keep the shape (doubling, jitter, 12
# attempts, then failed) and shrink the clock so a retry is due within a fraction of a second.
# The same keys go into slotforce.yml's `outbox:` block for tests that run the CLI as a process.
COMPRESSED_OUTBOX = {"lease_seconds": 3, "backoff_base_seconds": 0.02, "backoff_cap_seconds": 0.2,
                     "max_attempts": 12, "budget_probe_seconds": 0.2}
COMPRESSED = OutboxTiming(**COMPRESSED_OUTBOX)
COMPRESSED_BACKOFF = COMPRESSED.backoff

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
HOST = {"email": "alex.rivera@acme-demo.com", "name": "Alex Rivera"}


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def attendee_email(n: int) -> str:
    return f"person{n:05d}@company{n % 37:02d}.example"


def created(n: int, *, uid: str | None = None, prefix: str = "rel") -> dict[str, Any]:
    """Booking number `n`: a 30-minute call with its own attendee (a new Contact)."""
    start = T0 + timedelta(minutes=30 * n)
    return {"source": "api", "action": "Created", "booking_uid": uid or f"{prefix}-{n:05d}",
            "event_type_slug": "discovery-call", "event_type_name": "Discovery Call", "title": f"Discovery call {n}",
            "start": iso(start), "end": iso(start + timedelta(minutes=30)), "organizer": HOST,
            "attendee": {"email": attendee_email(n), "first_name": "Pat", "last_name": f"Number{n}"},
            "booking_created_at": iso(T0 - timedelta(days=1)), "occurred_at": iso(T0 - timedelta(days=1, seconds=-n))}


def rescheduled(n: int, new_uid: str, previous_uid: str, *, days_later: int = 1) -> dict[str, Any]:
    start = T0 + timedelta(days=days_later, minutes=30 * n)
    return {"source": "api", "action": "Rescheduled", "booking_uid": new_uid, "previous_booking_uid": previous_uid,
            "event_type_slug": "discovery-call", "title": f"Discovery call {n}", "start": iso(start),
            "end": iso(start + timedelta(minutes=45)), "organizer": HOST, "attendee": {"email": attendee_email(n)},
            "occurred_at": iso(T0 - timedelta(hours=12, seconds=-n))}


def canceled(n: int, uid: str) -> dict[str, Any]:
    return {"source": "api", "action": "Canceled", "booking_uid": uid, "event_type_slug": "discovery-call",
            "attendee": {"email": attendee_email(n)}, "cancel_reason": "Something came up",
            "occurred_at": iso(T0 - timedelta(hours=6, seconds=-n))}


def no_show(n: int, uid: str) -> dict[str, Any]:
    return {"source": "api", "action": "No_Show", "booking_uid": uid,
            "attendee": {"email": attendee_email(n), "no_show": True},
            "occurred_at": iso(T0 + timedelta(days=2, seconds=n))}


def body(changes: dict | list) -> bytes:
    return json.dumps(changes, separators=(",", ":")).encode()


def open_outbox(where: str | Path) -> Outbox:
    """The outbox at a file path or a `store:` URL (sqlite:///, postgresql://), on the compressed clock."""
    if isinstance(where, str) and "://" in where:
        return open_store(where, **COMPRESSED.store_options())
    return SqliteOutbox(where, **COMPRESSED.store_options())


def settings_for(org, **extra: Any) -> Settings:
    return parse_settings({"salesforce": {"local": str(org.state_dir)}, **extra})


def unfinished(outbox) -> int:
    c = outbox.counts()
    return c["pending"] + c["retry_scheduled"] + c["leased"]


def drain_until_settled(worker: Worker, outbox, *, deadline_s: float, idle_sleep: float = 0.02) -> BatchReport:
    """Run worker passes until nothing is pending, scheduled or leased; fail loudly at the deadline."""
    total = BatchReport()
    deadline = time.monotonic() + deadline_s
    while unfinished(outbox):
        if time.monotonic() > deadline:
            raise AssertionError(f"the outbox did not settle within {deadline_s} s: {outbox.counts()}; "
                                 f"last error: {worker.last_error}")
        report = worker.run_once()
        total.add(report)
        if not report.leased:
            time.sleep(idle_sleep)  # what is left waits for its (compressed) retry time
    return total


# -- stories and faults shared by several tests ---------------------------------------------------------

MIXED_FAULTS = ("UNABLE_TO_LOCK_ROW", "503", "drop")


def add_mixed_faults(org, share: float, seed: int) -> None:
    """Rules are tried in order and each draws on its own, so rule i fires with share/k / (1 - (i)*share/k)
    to give every kind an equal part of `share` overall."""
    k = len(MIXED_FAULTS)
    for i, error in enumerate(MIXED_FAULTS):
        org.faults.add(error=error, rate=(share / k) / (1 - i * share / k), path=r"^/services/data/", seed=seed + i)


def story_of(n: int) -> list[dict]:
    """Booking n's webhooks in the order they happened; n % 4 picks one of four lives."""
    uid, moved = f"mix-{n:05d}", f"mix-{n:05d}-b"
    life = n % 4
    if life == 0:
        return [created(n, uid=uid)]
    if life == 1:
        return [created(n, uid=uid), canceled(n, uid)]
    if life == 2:
        return [created(n, uid=uid), rescheduled(n, moved, uid)]
    return [created(n, uid=uid), rescheduled(n, moved, uid), no_show(n, moved)]


def expected_events(bookings: int) -> dict[str, tuple]:
    """(StartDateTime minute, Meeting_Status__c, No_Show__c) per Event uid, as one in-order delivery leaves it."""
    out = {}
    for n in range(bookings):
        life, last = n % 4, story_of(n)[-1]
        if life == 1:
            continue  # canceled: the Event is deleted (on_cancel.mode defaults to delete)
        status = {0: "Scheduled", 2: "Rescheduled", 3: "No Show"}[life]
        start = story_of(n)[0]["start"] if life == 0 else story_of(n)[1]["start"]
        out[last["booking_uid"]] = (start[:16], status, life == 3)
    return out


# -- the Salesforce side -----------------------------------------------------------------------------

def query_all(sf, soql: str) -> list[dict[str, Any]]:
    return sf.query_all(soql)["records"]


def count(sf, sobject: str, where: str = "") -> int:
    return sf.query(f"SELECT COUNT() FROM {sobject}" + (f" WHERE {where}" if where else ""))["totalSize"]


def doubles(sf, sobject: str, field: str) -> dict[str, int]:
    """Values of `field` held by more than one `sobject` record."""
    rows = query_all(sf, f"SELECT {field} value, COUNT(Id) n FROM {sobject} WHERE {field} != null "
                         f"GROUP BY {field} HAVING COUNT(Id) > 1")
    return {r["value"]: r["n"] for r in rows}


def events_by_uid(sf) -> dict[str, dict[str, Any]]:
    rows = query_all(sf, "SELECT Booking_Uid__c, Subject, StartDateTime, EndDateTime, WhoId, Meeting_Status__c, "
                         "Canceled__c, No_Show__c FROM Event")
    return {r["Booking_Uid__c"]: {k: v for k, v in r.items() if k not in ("attributes", "WhoId")} for r in rows}


# -- `slotforce serve` as a real process ----------------------------------------------------------------

# The `slotforce` command of this environment, as a user runs it (the clock comes from slotforce.yml).
SLOTFORCE = [str(Path(sys.executable).with_name("slotforce"))]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """`slotforce serve` on a free port; `start()` waits for /healthz. Write `outbox=COMPRESSED_OUTBOX`
    into its slotforce.yml for a test clock."""

    def __init__(self, config: Path, env: dict[str, str], args: tuple[str, ...] = ()):
        self.config, self.env, self.args = config, env, args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.starts = 0
        self.proc = None

    @property
    def log(self) -> Path:
        return self.config.parent / f"serve-{self.starts}.log"

    def start(self) -> "ServeProcess":
        import os
        import subprocess

        import httpx

        self.starts += 1
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(
            [*SLOTFORCE, "serve", "--config", str(self.config), "--port", str(self.port),
             "--log-level", "warning", *self.args], stdout=self.log.open("wb"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"slotforce serve did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


# -- `slotforce worker` processes (PostgreSQL: as on several hosts) -------------------------------------

class WorkerProcesses:
    """`n` x `slotforce worker` on one slotforce.yml, as a deployment runs them on several hosts:
    `start()` waits until each says it runs, `settle(outbox)` until nothing is left to send,
    `kill(i)` is a SIGKILL, `stop()` a SIGTERM to the rest (each must exit 0)."""

    def __init__(self, config: Path, n: int):
        self.config, self.n = config, n
        self.procs: list = []
        self.killed: set[int] = set()

    def log(self, i: int) -> Path:
        return self.config.parent / f"worker-{i}.log"

    def start(self) -> "WorkerProcesses":
        import os
        import subprocess

        for i in range(self.n):
            self.procs.append(subprocess.Popen([*SLOTFORCE, "worker", "--config", str(self.config), "--log-level",
                                                "warning"], stdout=subprocess.DEVNULL,
                                               stderr=self.log(i).open("wb"), env=dict(os.environ)))
        deadline = time.monotonic() + 60
        for i, proc in enumerate(self.procs):
            while "running" not in self.log(i).read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"slotforce worker {i} did not start:\n{self.log(i).read_text()}")
                time.sleep(0.05)
        return self

    def settle(self, outbox, *, deadline_s: float) -> None:
        """Until nothing is pending, scheduled or leased (a killed worker's lease runs out first)."""
        deadline = time.monotonic() + deadline_s
        while unfinished(outbox):
            alive = [i for i, p in enumerate(self.procs) if i not in self.killed]
            assert all(self.procs[i].poll() is None for i in alive), [self.log(i).read_text() for i in alive]
            if time.monotonic() > deadline:
                raise AssertionError(f"the outbox did not settle within {deadline_s} s: {outbox.counts()}")
            time.sleep(0.05)

    def kill(self, i: int) -> None:
        self.procs[i].kill()
        self.procs[i].wait(timeout=10)
        self.killed.add(i)

    def stop(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for i, proc in enumerate(self.procs):
            status = proc.wait(timeout=60)
            assert i in self.killed or status == 0, f"worker {i} exited {status}:\n{self.log(i).read_text()}"
        self.procs = []
