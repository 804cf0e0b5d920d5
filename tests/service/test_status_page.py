"""The status page and /status.json over a seeded outbox: bookings per minute, event types, the oldest
pending change, API use and links into the org; and the same from a real booking through the worker."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slotforce.service.activity import BadHours, age_text, parse_hours
from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.service.org_watch import limit_info
from slotforce.service.record_links import outcome_urls, record_url
from slotforce.sources import sign_api
from slotforce.store import Delivery, ItemResult, NewChange
from slotforce.testing import API_SECRET, wait_for

BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_bytes()
UID = "acme-bk-20261205-0001"
HOSTILE_UID = '<script>alert("uid")</script>'
HOSTILE_ERROR = "<img src=x onerror=alert(1)> is not a Company"
BOOKING_ACTION = "a0A000000000001AAA"
INSTANCE = "https://org.example.my.salesforce.com"


def created(uid: str, event_type: str | None) -> NewChange:
    return NewChange(f"api:{uid}:Created:0", uid, "Created", {"booking_uid": uid}, establishes=True,
                     event_type=event_type)


def minute(at: datetime) -> str:
    return at.replace(second=0, microsecond=0).isoformat()


@pytest.fixture
def seeded(config_file):
    """A service (worker not running) whose outbox holds: 3 changes accepted 10 minutes ago, of them one
    landed, one skipped and one failed 8 minutes ago; one pending since 20 minutes ago; one done 5 hours ago."""
    service = Service(load_service_config(config_file))
    outbox, now = service.intake, datetime.now(timezone.utc)
    old = now - timedelta(hours=5)
    outbox.enqueue(Delivery("api", b"old"), [created("old", "demo")], now=old)
    lease = outbox.lease("test", now=old)
    outbox.finish(lease.id, [ItemResult.done(lease.items[0].id, {"status": "processed"})], now=old + timedelta(minutes=1))
    ten = now - timedelta(minutes=10)
    outbox.enqueue(Delivery("api", b"three"), [created("a", "demo"), created("b", "demo"), created("c", None)], now=ten)
    lease = outbox.lease("test", now=ten)
    a, b, c = (i.id for i in lease.items)
    eight = now - timedelta(minutes=8)
    outbox.finish(lease.id, [
        ItemResult.done(a, {"status": "processed", "booking_action_id": BOOKING_ACTION, "event_id": "javascript:x"}),
        ItemResult.done(b, {"status": "skipped", "reason": "sync is off"}),
        ItemResult.failed(c, HOSTILE_ERROR, "REQUIRED_FIELD_MISSING", details={"booking_action_id": BOOKING_ACTION}),
    ], now=eight)
    twenty = now - timedelta(minutes=20)
    outbox.enqueue(Delivery("api", b"pending"), [created(HOSTILE_UID, "intro <b>")], now=twenty)
    service.org.instance_url = INSTANCE
    yield service, {"now": now, "ten": ten, "eight": eight, "twenty": twenty}
    service.intake.close()
    service.worker.outbox.close()


def test_status_context_counts_bookings_per_minute_per_event_type_and_the_oldest_pending(seeded):
    service, at = seeded
    activity = service.status_context()["activity"]
    assert activity.hours == 3 and len(activity.minutes) == 180
    busy = {m.at.isoformat(): (m.accepted, m.landed, m.failed) for m in activity.minutes if m.accepted or m.landed or m.failed}
    assert busy == {minute(at["twenty"]): (1, 0, 0), minute(at["ten"]): (3, 0, 0), minute(at["eight"]): (0, 1, 1)}
    by_type = {t.event_type: (t.accepted, t.landed, t.failed, t.pending) for t in activity.event_types}
    assert by_type == {"demo": (2, 1, 0, 0), "default": (1, 0, 1, 0), "intro <b>": (1, 0, 0, 1)}
    assert abs(activity.oldest_pending_at - at["twenty"]) < timedelta(seconds=1)
    assert timedelta(minutes=20) <= activity.oldest_pending_age(datetime.now(timezone.utc)) < timedelta(minutes=21)
    wider = service.status_context(hours=6)["activity"]
    assert len(wider.minutes) == 360 and wider.totals().landed == 2  # the one 5 hours ago as well


def test_status_json_has_the_minutes_event_types_oldest_pending_and_record_urls(seeded):
    service, at = seeded
    with TestClient(build_app(service, manage_lifecycle=False)) as client:
        body = client.get("/status.json").json()
        assert client.get("/status.json?hours=24").json()["activity"]["hours"] == 24
        refused = [client.get(f"/status.json?hours={h}") for h in ("0", "25", "1.5", "x")]
    activity = body["activity"]
    assert activity["hours"] == 3 and len(activity["minutes"]) == 180
    seen = {m["at"]: m for m in activity["minutes"]}
    assert seen[minute(at["eight"])] == {"at": minute(at["eight"]), "accepted": 0, "landed": 1, "failed": 1}
    assert seen[minute(at["ten"])]["accepted"] == 3
    assert [t["event_type"] for t in activity["event_types"]] == ["demo", "intro <b>", "default"]
    assert 20 * 60 <= activity["oldest_pending_seconds"] < 21 * 60
    assert body["instance_url"] == INSTANCE and body["api_requests"] is None  # no Salesforce call made yet
    landed = next(r for r in body["recent"] if r["booking_uid"] == "a")
    assert landed["record_urls"] == {"booking_action_id": f"{INSTANCE}/{BOOKING_ACTION}"}  # "javascript:x" is no id
    assert all(r.status_code == 400 and "1 to 24" in r.json()["error"] for r in refused)


def test_the_page_draws_the_chart_links_ids_into_the_org_and_escapes_what_came_from_outside(seeded):
    service, at = seeded
    with TestClient(build_app(service, manage_lifecycle=False)) as client:
        page = client.get("/status")
        bad = client.get("/status?hours=99")
    html = page.text
    assert page.status_code == 200 and bad.status_code == 400
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="bookings-chart"' in html
    assert f'data-minute="{at["eight"]:%Y-%m-%dT%H:%M}" data-value="1"' in html
    assert html.count(f'href="{INSTANCE}/{BOOKING_ACTION}"') == 2  # the landed change, the failed one's error
    assert "javascript:x" in html and 'href="javascript' not in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html and "intro &lt;b&gt;" in html
    assert re.search(r'id="oldest-pending">Oldest pending change: <strong>20 min( \d+ s)?</strong>', html)
    assert "API requests used: not known yet" in html


def test_api_use_and_instance_url_come_from_the_answers_the_worker_gets(config_file, org):
    with TestClient(build_app(Service(load_service_config(config_file), flush_interval=0.05))) as client:
        client.post("/webhooks/api", content=BOOKING,
                    headers={"Content-Type": "application/json", **sign_api(API_SECRET, BOOKING)})
        body = wait_for(lambda: (b := client.get("/status.json").json())["counts"]["done"] == 1 and b)
        html = client.get("/status").text
    usage = org.stats()["api_usage"]
    assert body["api_requests"]["max"] == usage["max"] and 0 < body["api_requests"]["used"] <= usage["used"]
    assert body["instance_url"] == org.instance_url.rstrip("/")
    row = org.client().query(f"SELECT Id, Event_Id__c FROM Booking_Action__c WHERE Booking_Uid__c = '{UID}'")["records"][0]
    assert body["recent"][0]["record_urls"]["booking_action_id"] == f"{body['instance_url']}/{row['Id']}"
    assert f'<a class="sf" href="{body["instance_url"]}/{row["Event_Id__c"]}"' in html
    assert "of the org&#39;s daily limit" in html or "of the org's daily limit" in html


def test_limit_info_record_urls_hours_and_ages():
    seen = limit_info("api-usage=25/15000; per-app-api-usage=17/250(appName=x)", datetime.now(timezone.utc))
    assert (seen.used, seen.max, seen.remaining) == (25, 15000, 14975) and limit_info("nothing", seen.seen_at) is None
    assert record_url("001000000000001", INSTANCE + "/") == f"{INSTANCE}/001000000000001"
    assert [record_url(v, INSTANCE) for v in ("00Q1", "a" * 19, "../../x", None, 5)] == [None] * 5
    assert record_url(BOOKING_ACTION, None) is None
    assert outcome_urls({"who_id": "00Q000000000001AAA", "status": "processed"}, INSTANCE) == {
        "who_id": f"{INSTANCE}/00Q000000000001AAA"}
    assert parse_hours(None) == 3 and parse_hours("12") == 12
    with pytest.raises(BadHours):
        parse_hours("-1")
    assert [age_text(timedelta(seconds=s)) for s in (5, 192, 7500, 3 * 86400 + 3600)] == [
        "5 s", "3 min 12 s", "2 h 5 min", "3 d 1 h"]


def test_the_page_stays_fast_with_10000_changes_in_the_outbox(config_file):
    """About 20-30 ms per page here (one grouped query for the minutes); the bound only catches a
    query per minute or per item creeping in."""
    service = Service(load_service_config(config_file))
    now = datetime.now(timezone.utc)
    for d in range(100):
        at = now - timedelta(minutes=d * 1.7 + 1)
        service.intake.enqueue(Delivery("api", f"d{d}".encode()),
                               [created(f"u{d}-{i}", ("demo", "intro", None)[i % 3]) for i in range(100)], now=at)
    for _ in range(40):
        lease = service.intake.lease("test", limit=200, now=now)
        service.intake.finish(lease.id, [ItemResult.done(i.id, {"status": "processed", "booking_action_id": BOOKING_ACTION})
                                         for i in lease.items], now=now - timedelta(minutes=1))
    assert service.intake.counts()["done"] == 8000 and service.intake.counts()["pending"] == 2000
    with TestClient(build_app(service, manage_lifecycle=False)) as client:
        client.get("/status")
        started = time.perf_counter()
        pages = [client.get("/status") for _ in range(5)]
        seconds = (time.perf_counter() - started) / 5
    assert all(p.status_code == 200 for p in pages) and 'id="bookings-chart"' in pages[0].text
    assert seconds < 1.0, f"/status took {seconds:.2f} s with 10,000 changes"
    service.intake.close()
    service.worker.outbox.close()
