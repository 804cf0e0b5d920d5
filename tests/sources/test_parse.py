"""parse(): size limit, unknown source, non-JSON bodies, secrets from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slotforce.sources import DEFAULT_MAX_BODY_BYTES, WebhookRejected, options_for, parse, secrets_from_env
from slotforce.sources.signatures import sign_calcom

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def test_default_limit_is_one_mebibyte_and_checked_before_the_signature():
    assert DEFAULT_MAX_BODY_BYTES == 1024 * 1024
    big = b"{" + b" " * DEFAULT_MAX_BODY_BYTES + b"}"
    with pytest.raises(WebhookRejected) as info:
        parse("calcom", big, {}, secrets={"calcom": "s"})
    assert info.value.status == 413 and "1048576-byte limit" in info.value.reason


def test_limit_is_a_setting():
    raw = (FIXTURES / "calcom/booking_created_new_lead.json").read_bytes()
    assert parse("calcom", raw, {}, secrets=None, verify=False, max_body_bytes=len(raw))
    with pytest.raises(WebhookRejected) as info:
        parse("calcom", raw, {}, secrets=None, verify=False, max_body_bytes=len(raw) - 1)
    assert info.value.status == 413


def test_signed_delivery_parses():
    raw = (FIXTURES / "calcom/booking_created_new_lead.json").read_bytes()
    [change] = parse("calcom", raw, sign_calcom("s3cret", raw), secrets={"calcom": "s3cret"})
    assert change.booking_uid == "8Hk2pQ9xLmRt3Vb6"


def test_unsigned_delivery_is_401_when_verifying():
    raw = (FIXTURES / "calcom/booking_created_new_lead.json").read_bytes()
    with pytest.raises(WebhookRejected) as info:
        parse("calcom", raw, {}, secrets={"calcom": "s3cret"})
    assert info.value.status == 401


def test_missing_secret_refuses_rather_than_accepting_unsigned():
    raw = (FIXTURES / "calcom/booking_created_new_lead.json").read_bytes()
    with pytest.raises(WebhookRejected, match="no secret is configured") as info:
        parse("calcom", raw, sign_calcom("x", raw), secrets={})
    assert info.value.status == 401


def test_unknown_source_and_non_json_are_400():
    with pytest.raises(WebhookRejected, match="unknown webhook source 'zoom'") as info:
        parse("zoom", b"{}", {}, secrets=None, verify=False)
    assert info.value.status == 400
    with pytest.raises(WebhookRejected, match="custom payload template") as info:
        parse("calcom", b"triggerEvent=BOOKING_CREATED", {}, secrets=None, verify=False)
    assert info.value.status == 400
    with pytest.raises(WebhookRejected, match="expected a JSON object"):
        parse("calendly", json.dumps([1]).encode(), {}, secrets=None, verify=False)


def test_secrets_come_from_the_env_vars_the_config_names():
    env = {"MY_CAL": "c", "CALENDLY_SIGNING_KEY": "k", "SLOTFORCE_API_SECRET": ""}
    secrets = secrets_from_env({"calcom": {"secret_env": "MY_CAL"}}, environ=env)
    assert secrets == {"calcom": "c", "calendly": "k", "api": None}


def test_secrets_and_options_from_the_engine_settings_model():
    from slotforce.sync.settings import parse_settings

    settings = parse_settings({"sources": {"calendly": {"signing_key_env": "MY_KEY"}}})
    assert secrets_from_env(settings.sources, environ={"MY_KEY": "k"})["calendly"] == "k"
    assert options_for("calendly", settings.sources) == {}


def test_options_from_plain_config():
    from datetime import timedelta

    options = options_for("calendly", {"calendly": {"max_body_bytes": 2048, "replay_window_seconds": 60}})
    assert options == {"max_body_bytes": 2048, "replay_window": timedelta(seconds=60)}
    with pytest.raises(WebhookRejected) as info:
        parse("calendly", b"x" * 2049, {}, secrets=None, **options)
    assert info.value.status == 413
