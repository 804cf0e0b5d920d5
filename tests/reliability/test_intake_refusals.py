"""Bad signatures, malformed and oversized bodies: refused with 401/400/413, and nothing stored.

Against a real `slotforce serve` process (uvicorn, the real HTTP stack): every refusal is checked
in the outbox afterwards (no delivery row, no change, no repeat counted) and in Salesforce (no
Booking Action). A valid delivery at the end shows the same service does accept and store.
The last test sends the same webhooks many times at once, as a sender retrying in parallel would.
"""

from __future__ import annotations

import hmac
import json
import time
from pathlib import Path

import httpx
import pytest

from slotforce.testing import write_config
from reliability_kit import COMPRESSED_OUTBOX, ServeProcess, body, count, created
from slotforce.sources import sign_api, sign_calcom, sign_calendly
from slotforce.store import open_store

SECRETS = {"RELIABILITY_API_SECRET": "api-secret-1", "RELIABILITY_CALCOM_SECRET": "calcom-secret-1",
           "RELIABILITY_CALENDLY_KEY": "calendly-key-1"}
SMALL_LIMIT = 4096  # sources.calcom.max_body_bytes: a tighter limit than the 1 MiB default
CALCOM_BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "calcom"
                  / "booking_created_new_lead.json").read_bytes()
CALENDLY_BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "calendly"
                    / "invitee_created_new_lead.json").read_bytes()


@pytest.fixture
def served(org, tmp_path):
    config = write_config(tmp_path, org, sources={
        "api": {"secret_env": "RELIABILITY_API_SECRET"},
        "calcom": {"secret_env": "RELIABILITY_CALCOM_SECRET", "max_body_bytes": SMALL_LIMIT},
        "calendly": {"signing_key_env": "RELIABILITY_CALENDLY_KEY"},
    }, outbox=COMPRESSED_OUTBOX)
    serve = ServeProcess(config, SECRETS).start()
    yield serve
    serve.kill()


def chunks(data: bytes, size: int = 64 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def refusals(api_body: bytes) -> list[tuple[str, str, bytes | object, dict[str, str], int]]:
    """(what, source, body, headers, expected status)."""
    api_secret, calcom_secret, calendly_key = SECRETS.values()
    json_headers = {"Content-Type": "application/json"}

    def api(secret: str, raw: bytes) -> dict[str, str]:
        return {**json_headers, **sign_api(secret, raw)}

    def calcom(secret: str, raw: bytes) -> dict[str, str]:
        return {**json_headers, **sign_calcom(secret, raw)}

    not_json = b'{"action": "Created", "booking_uid": '
    no_uid = body({k: v for k, v in created(2).items() if k != "booking_uid"})
    naive_time = body({**created(3), "start": "2026-12-05T10:00:00"})
    too_many = body([created(n) for n in range(201)])
    big = body({**created(4), "description": "x" * (1024 * 1024)})
    stale = int(time.time()) - 3600
    return [
        ("api: no signature", "api", api_body, json_headers, 401),
        ("api: signed with another secret", "api", api_body, api("not-the-secret", api_body), 401),
        ("api: signature of another body", "api", api_body, api(api_secret, api_body + b" "), 401),
        ("api: garbage signature", "api", api_body, {**json_headers, "X-Slotforce-Signature": "t=1,v1=zz"}, 401),
        ("api: stale timestamp", "api", api_body, {**json_headers, **sign_api(api_secret, api_body, timestamp=stale)}, 401),
        ("api: the retired body-only header", "api", api_body,
         {**json_headers, "X-Slotforce-Signature-256": "sha256=" + hmac.new(api_secret.encode(), api_body, "sha256").hexdigest()},
         401),
        ("calcom: calendly-style header", "calcom", CALCOM_BOOKING,
         {**json_headers, **sign_calendly(calcom_secret, CALCOM_BOOKING)}, 401),
        ("calcom: wrong secret", "calcom", CALCOM_BOOKING, calcom("nope", CALCOM_BOOKING), 401),
        ("calendly: stale timestamp", "calendly", CALENDLY_BOOKING,
         {**json_headers, **sign_calendly(calendly_key, CALENDLY_BOOKING, timestamp=stale)}, 401),
        ("calendly: wrong key", "calendly", CALENDLY_BOOKING,
         {**json_headers, **sign_calendly("nope", CALENDLY_BOOKING)}, 401),
        ("api: not JSON", "api", not_json, api(api_secret, not_json), 400),
        ("api: booking_uid missing", "api", no_uid, api(api_secret, no_uid), 400),
        ("api: time without a zone", "api", naive_time, api(api_secret, naive_time), 400),
        ("api: 201 changes in one delivery", "api", too_many, api(api_secret, too_many), 400),
        ("calcom: signed, but not JSON", "calcom", not_json, calcom(calcom_secret, not_json), 400),
        ("api: over 1 MiB, signed", "api", big, api(api_secret, big), 413),
        ("api: over 1 MiB, chunked (no Content-Length)", "api", chunks(big), api(api_secret, big), 413),
        ("calcom: over its own 4 KiB limit", "calcom", CALCOM_BOOKING + b" " * SMALL_LIMIT,
         calcom(calcom_secret, CALCOM_BOOKING + b" " * SMALL_LIMIT), 413),
    ]


@pytest.mark.timeout(90)
def test_refused_deliveries_store_nothing(served, org, tmp_path):
    api_body = body(created(1, uid="refusal-ok"))
    cases = refusals(api_body)
    got = {}
    with httpx.Client(base_url=served.url, timeout=30) as http:
        for what, source, payload, headers, _ in cases:
            answer = http.post(f"/webhooks/{source}", content=payload, headers=headers)
            got[what] = answer.status_code
            if answer.status_code in (400, 401, 413):
                assert answer.json().get("error"), (what, answer.text)  # the refusal says why
    assert got == {what: status for what, _, _, _, status in cases}

    with open_store("sqlite:///outbox.db", base_dir=tmp_path) as outbox:
        counts = outbox.counts()
    assert counts["deliveries"] == 0 and counts["repeated_deliveries"] == 0, counts
    assert sum(counts[s] for s in ("pending", "retry_scheduled", "leased", "done", "failed", "parked")) == 0

    # the same service accepts a good delivery; a forged copy of it afterwards is still refused
    with httpx.Client(base_url=served.url, timeout=30) as http:
        secret = SECRETS["RELIABILITY_API_SECRET"]
        ok = http.post("/webhooks/api", content=api_body,
                       headers={"Content-Type": "application/json", **sign_api(secret, api_body)})
        assert ok.status_code == 202, ok.text
        forged = http.post("/webhooks/api", content=api_body,
                           headers={"Content-Type": "application/json", **sign_api("not-the-secret", api_body)})
        assert forged.status_code == 401
    with open_store("sqlite:///outbox.db", base_dir=tmp_path) as outbox:
        counts = outbox.counts()
        assert counts["deliveries"] == 1 and counts["repeated_deliveries"] == 0, counts
        deadline = time.monotonic() + 30
        while outbox.counts()["done"] < 1:
            assert time.monotonic() < deadline, outbox.counts()
            time.sleep(0.1)
    sf = org.client()
    assert count(sf, "Booking_Action__c") == 1
    assert json.loads(api_body)["booking_uid"] == sf.query("SELECT Booking_Uid__c FROM Booking_Action__c")[
        "records"][0]["Booking_Uid__c"]


@pytest.mark.timeout(90)
def test_the_same_webhooks_delivered_concurrently_are_stored_once(served, org, tmp_path):
    """Senders retry fast and in parallel: 3 webhooks x 12 concurrent copies -> 3 changes, 33 repeats."""
    from concurrent.futures import ThreadPoolExecutor

    secret = SECRETS["RELIABILITY_API_SECRET"]
    bodies = [body(created(n, uid=f"concurrent-{n}")) for n in range(3)]
    copies = [b for b in bodies for _ in range(12)]

    def post(raw: bytes) -> int:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            return http.post("/webhooks/api", content=raw,
                             headers={"Content-Type": "application/json", **sign_api(secret, raw)}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(post, copies))
    assert statuses == [202] * len(copies)
    with open_store("sqlite:///outbox.db", base_dir=tmp_path) as outbox:
        counts = outbox.counts()
        assert counts["deliveries"] == 3 and counts["repeated_deliveries"] == 33, counts
        deadline = time.monotonic() + 30
        while outbox.counts()["done"] < 3:
            assert time.monotonic() < deadline, outbox.counts()
            time.sleep(0.1)
    sf = org.client()
    assert count(sf, "Booking_Action__c") == count(sf, "Event") == 3
