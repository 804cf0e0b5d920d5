"""The disk fills up while deliveries arrive: every 202 is in the outbox and reaches Salesforce once,
every refusal is a 503 with Retry-After and left nothing behind; the refused ones, sent again after
space is freed, land too (0 lost, 0 doubled)."""

from __future__ import annotations

from starlette.testclient import TestClient

from reliability_kit import body, count, created, doubles
from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.sources import sign_api
from slotforce.testing import API_SECRET, fill_disk, free_disk, wait_for

BOOKINGS = 40


def test_nothing_acknowledged_is_lost_and_nothing_refused_is_stored_when_the_disk_fills(config_file, org):
    service = Service(load_service_config(config_file), flush_interval=0.05)
    db = service.intake._db
    answers: dict[int, int] = {}
    with TestClient(build_app(service)) as client:
        def post(n: int) -> int:
            raw = body(created(n, prefix="full"))
            answer = client.post("/webhooks/api", content=raw,
                                 headers={"Content-Type": "application/json", **sign_api(API_SECRET, raw)})
            assert answer.status_code in (202, 503), answer.text
            if answer.status_code == 503:
                assert answer.headers["Retry-After"] and answer.json()["cause"] == "disk_full"
            return answer.status_code

        for n in range(BOOKINGS):
            if n == 10:  # a few more pages, then the disk is full
                fill_disk(db, spare_pages=6)
            answers[n] = post(n)
        accepted = [n for n, status in answers.items() if status == 202]
        refused = [n for n, status in answers.items() if status == 503]
        assert len(accepted) >= 10 and refused, answers
        stored = {i.booking_uid for i in service.intake.items(limit=1000)}
        assert stored == {created(n, prefix="full")["booking_uid"] for n in accepted}
        assert service.intake.counts()["deliveries"] == len(accepted)

        free_disk(db)
        assert all(post(n) == 202 for n in refused)
        sf = org.client()
        wait_for(lambda: count(sf, "Booking_Action__c") == BOOKINGS, timeout=60)
        wait_for(lambda: service.intake.counts().get("done", 0) == BOOKINGS, timeout=60)
    assert doubles(sf, "Booking_Action__c", "Action_Key__c") == {}
