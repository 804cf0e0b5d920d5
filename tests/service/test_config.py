"""slotforce.yml as the service reads it: the `outbox:` block (timing) next to the engine's settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from slotforce.service.config import parse_service_config
from slotforce.store.timing import OutboxTiming
from slotforce.sync.settings import SettingsError


def parse(raw: dict):
    return parse_service_config({"salesforce": {"local": "org"}, **raw}, Path("slotforce.yml"))


def test_the_outbox_block_sets_the_clock_and_the_engine_never_sees_it():
    cfg = parse({"outbox": {"lease_seconds": 30, "backoff_base_seconds": 1, "backoff_cap_seconds": 60,
                            "max_attempts": 5, "create_wait_seconds": 120, "budget_probe_seconds": 600}})
    timing = cfg.outbox
    assert timing.lease == timedelta(seconds=30) and timing.call_timeout == timedelta(seconds=22.5)
    assert (timing.backoff.base_seconds, timing.backoff.cap_seconds, timing.backoff.max_attempts) == (1, 60, 5)
    assert timing.store_options()["create_wait"] == timedelta(minutes=2)
    assert timing.budget_probe == timedelta(minutes=10)


def test_without_the_block_production_defaults_apply():
    timing = parse({}).outbox
    assert timing == OutboxTiming()
    assert (timing.lease, timing.call_timeout, timing.budget_probe) == (
        timedelta(minutes=2), timedelta(seconds=90), timedelta(minutes=5))
    assert timing.backoff.max_attempts == 12 and timing.store_options()["create_wait"] == timedelta(minutes=15)


@pytest.mark.parametrize("block, problem", [
    ({"lease_seconds": 10, "call_timeout_seconds": 10}, "outbox: call_timeout_seconds (10) must be shorter than"),
    ({"lease_seconds": 0}, "outbox.lease_seconds: Input should be greater than 0"),
    ({"lease": 10}, "outbox.lease: unknown key (outbox takes lease_seconds, call_timeout_seconds"),
    ({"backoff_base_seconds": 10, "backoff_cap_seconds": 5}, "backoff_cap_seconds must be at least"),
])
def test_a_bad_outbox_key_is_named_with_its_path(block, problem):
    with pytest.raises(SettingsError) as caught:
        parse({"outbox": block})
    assert problem in str(caught.value)
