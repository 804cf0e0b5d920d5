"""Signature checks: good, bad, stale, missing header, no secret, and constant-time comparison."""

from __future__ import annotations

import hmac
from datetime import timedelta

import pytest

from slotforce.sources import WebhookRejected, options_for, parse
from slotforce.sources import signatures
from slotforce.sources.signatures import (
    sign_api,
    sign_calcom,
    sign_calendly,
    verify_api,
    verify_calcom,
    verify_calendly,
)

BODY = b'{"triggerEvent":"BOOKING_CREATED"}'
NOW = 1_800_000_000


def test_calcom_signature_is_hex_hmac_of_raw_body():
    verify_calcom(BODY, sign_calcom("s3cret", BODY), "s3cret")
    # Header names are case-insensitive, and Cal.com's hex is lowercase without a prefix.
    expected = hmac.new(b"s3cret", BODY, "sha256").hexdigest()
    verify_calcom(BODY, {"x-cal-signature-256": expected}, "s3cret")


@pytest.mark.parametrize(
    "headers, secret, match",
    [
        ({}, "s3cret", "header is missing"),
        ({"X-Cal-Signature-256": "no-secret-provided"}, "s3cret", "unsigned"),
        ({"X-Cal-Signature-256": "00" * 32}, "s3cret", "does not match"),
        (sign_calcom("other", BODY), "s3cret", "does not match"),
        (sign_calcom("s3cret", BODY), None, "no secret is configured"),
    ],
)
def test_calcom_rejections_are_401_with_a_reason(headers, secret, match):
    with pytest.raises(WebhookRejected, match=match) as info:
        verify_calcom(BODY, headers, secret)
    assert info.value.status == 401
    assert "s3cret" not in info.value.reason


def test_calcom_altered_body_is_rejected():
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_calcom(BODY + b" ", sign_calcom("s3cret", BODY), "s3cret")


def test_calendly_signature_signs_timestamp_dot_body():
    headers = sign_calendly("key", BODY, timestamp=NOW)
    t, v1 = headers["Calendly-Webhook-Signature"].split(",")
    assert t == f"t={NOW}"
    assert v1 == "v1=" + hmac.new(b"key", f"{NOW}.".encode() + BODY, "sha256").hexdigest()
    verify_calendly(BODY, headers, "key", now=NOW + 179)


@pytest.mark.parametrize(
    "headers, now, match",
    [
        ({}, NOW, "header is missing"),
        ({"Calendly-Webhook-Signature": "v1=abc"}, NOW, "must look like"),
        ({"Calendly-Webhook-Signature": "t=soon,v1=abc"}, NOW, "non-numeric"),
        (sign_calendly("wrong", BODY, timestamp=NOW), NOW, "does not match"),
        (sign_calendly("key", BODY, timestamp=NOW), NOW + 181, "outside the 180 s replay window"),
        (sign_calendly("key", BODY, timestamp=NOW + 600), NOW, "outside the 180 s replay window"),
    ],
)
def test_calendly_rejections(headers, now, match):
    with pytest.raises(WebhookRejected, match=match) as info:
        verify_calendly(BODY, headers, "key", now=now)
    assert info.value.status == 401


def test_calendly_replay_window_is_configurable():
    headers = sign_calendly("key", BODY, timestamp=NOW)
    verify_calendly(BODY, headers, "key", now=NOW + 500, replay_window=timedelta(minutes=10))
    with pytest.raises(WebhookRejected, match="outside the 60 s"):
        verify_calendly(BODY, headers, "key", now=NOW + 61, replay_window=timedelta(minutes=1))


def test_calendly_stale_signature_through_parse(body):
    raw = body("calendly/invitee_created_new_lead.json")
    headers = sign_calendly("key", raw, timestamp=NOW)
    assert parse("calendly", raw, headers, secrets={"calendly": "key"}, now=NOW + 60)
    with pytest.raises(WebhookRejected) as info:
        parse("calendly", raw, headers, secrets={"calendly": "key"}, now=NOW + 4 * 60)
    assert info.value.status == 401


def test_calendly_accepts_any_of_several_v1_signatures_during_key_rotation():
    good = sign_calendly("key", BODY, timestamp=NOW)["Calendly-Webhook-Signature"].split(",")[1]
    verify_calendly(BODY, {"Calendly-Webhook-Signature": f"t={NOW},v1={'0' * 64},{good}"}, "key", now=NOW)


def test_api_signature_is_timestamped_like_calendlys():
    headers = sign_api("k", BODY, timestamp=NOW)
    t, v1 = headers["X-Slotforce-Signature"].split(",")
    assert t == f"t={NOW}"
    assert v1 == "v1=" + hmac.new(b"k", f"{NOW}.".encode() + BODY, "sha256").hexdigest()
    verify_api(BODY, headers, "k", now=NOW + 299)


@pytest.mark.parametrize(
    "headers, now, match",
    [
        ({}, NOW, "the X-Slotforce-Signature header is missing"),
        ({"X-Slotforce-Signature": "v1=abc"}, NOW, "must look like t=<unix time>,v1=<hex>"),
        ({"X-Slotforce-Signature": "t=soon,v1=abc"}, NOW, "non-numeric"),
        (sign_api("wrong", BODY, timestamp=NOW), NOW, "does not match the body"),
        (sign_api("k", BODY, timestamp=NOW), NOW + 301, "outside the 300 s replay window"),
        (sign_api("k", BODY, timestamp=NOW + 600), NOW, "outside the 300 s replay window"),
        ({"X-Slotforce-Signature-256": "sha256=" + hmac.new(b"k", BODY, "sha256").hexdigest()}, NOW,
         "X-Slotforce-Signature-256 is no longer accepted .*sign with X-Slotforce-Signature: t="),
    ],
)
def test_api_rejections(headers, now, match):
    with pytest.raises(WebhookRejected, match=match) as info:
        verify_api(BODY, headers, "k", now=now)
    assert info.value.status == 401


def test_api_accepts_any_of_several_v1_during_a_secret_rotation():
    both = sign_api(["old", "new"], BODY, timestamp=NOW)
    assert both["X-Slotforce-Signature"].count("v1=") == 2
    verify_api(BODY, both, "new", now=NOW)
    verify_api(BODY, both, "old", now=NOW)
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_api(BODY, both, "neither", now=NOW)


def test_api_replay_window_comes_from_the_sources_config(body):
    raw = body("api/booking_created.json")
    headers = sign_api("k", raw, timestamp=NOW)
    assert parse("api", raw, headers, secrets={"api": "k"}, now=NOW + 299)
    with pytest.raises(WebhookRejected, match="outside the 300 s"):
        parse("api", raw, headers, secrets={"api": "k"}, now=NOW + 301)
    longer = options_for("api", {"api": {"replay_window_seconds": 900}})
    assert parse("api", raw, headers, secrets={"api": "k"}, now=NOW + 800, **longer)


def test_comparisons_use_hmac_compare_digest(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    verify_calcom(BODY, sign_calcom("s", BODY), "s")
    verify_calendly(BODY, sign_calendly("s", BODY, timestamp=NOW), "s", now=NOW)
    verify_api(BODY, sign_api("s", BODY, timestamp=NOW), "s", now=NOW)
    assert len(calls) == 3
    with pytest.raises(WebhookRejected):
        verify_calcom(BODY, {"X-Cal-Signature-256": "ab"}, "s")
    assert len(calls) == 4  # a wrong signature is compared the same way, not with ==
