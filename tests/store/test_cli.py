"""`slotforce status`, `errors`, `replay`, `trace` over a real outbox file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.store import Delivery, ItemResult, NewChange, open_store


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "slotforce.yml"
    path.write_text("store: sqlite:///outbox.db\nevent_types: {default: {}}\n")
    store = open_store("sqlite:///outbox.db", base_dir=tmp_path)
    store.enqueue(
        Delivery("calcom", b"{}"),
        [
            NewChange("calcom:A:Created:0", "A", "Created", {"booking_uid": "A"}, establishes=True, event_type="demo"),
            NewChange("calcom:B:Created:0", "B", "Created", {"booking_uid": "B"}, establishes=True, event_type="demo"),
        ],
    )
    lease = store.lease("w")
    store.finish(
        lease.id,
        [
            ItemResult.done(1, {"id": "a0A000000000001AAA", "status": "Processed"}, trace=[{"step": "who", "detail": {"lead": "00Q1"}}]),
            ItemResult.failed(2, "Lead: Company is required", "REQUIRED_FIELD_MISSING", details={"dropped_fields": ["Lead.Foo__c"]}),
        ],
    )
    store.close()
    monkeypatch.setenv("SLOTFORCE_CONFIG", str(path))
    return path


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result


def test_status_counts_and_recent(config):
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["counts"]["done"] == 1 and data["counts"]["failed"] == 1 and data["counts"]["pending"] == 0
    assert {i["booking_uid"] for i in data["recent"]} == {"A", "B"}
    table = run("status", "--config", str(config))
    assert "failed (replayable)" in table.output and "a0A000000000001AAA" in table.output


def test_errors_lists_failures_and_last_error_per_event_type(config):
    result = run("errors")
    assert result.exit_code == 0, result.output
    assert "REQUIRED_FIELD_MISSING" in result.output and "Lead: Company is required" in result.output
    assert "dropped_fields" in result.output
    data = json.loads(run("errors", "--json").output)
    assert [f["id"] for f in data["failed"]] == [2]
    assert data["last_sync_errors"][0]["event_type"] == "demo"


def test_replay_moves_failed_item_back_and_refuses_others(config):
    result = run("replay", "2")
    assert result.exit_code == 0 and "item 2 (Created B) is pending again" in result.output
    assert json.loads(run("status", "--json").output)["counts"]["pending"] == 1
    refused = run("replay", "1")
    assert refused.exit_code == 1 and "only failed or parked items can be replayed" in refused.output
    missing = run("replay", "42")
    assert missing.exit_code == 1 and "outbox item 42 does not exist" in missing.output


def test_trace_shows_items_and_steps(config):
    result = run("trace", "A")
    assert result.exit_code == 0, result.output
    assert "calcom:A:Created:0" in result.output and "who (lead=00Q1)" in result.output
    assert run("trace", "nope").exit_code == 1


def test_replay_all_parked(tmp_path, monkeypatch):
    from datetime import datetime, timedelta, timezone

    path = tmp_path / "slotforce.yml"
    path.write_text("store: sqlite:///outbox.db\n")
    store = open_store("sqlite:///outbox.db", base_dir=tmp_path)
    store.enqueue(Delivery("calcom", b"1"), [NewChange("calcom:X:Canceled:0", "X", "Canceled", {}, requires_uid="X")])
    store.enqueue(Delivery("calcom", b"2"), [NewChange("calcom:Y:Canceled:0", "Y", "Canceled", {}, requires_uid="Y")])
    store.lease("w", now=datetime.now(timezone.utc) + timedelta(hours=1))  # both parked
    store.close()
    result = CliRunner().invoke(main, ["replay", "--config", str(path), "--all-parked"])
    assert result.exit_code == 0, result.output
    assert "item 1 (Canceled X) is pending again" in result.output and "item 2 (Canceled Y)" in result.output
    assert CliRunner().invoke(main, ["replay", "--config", str(path)]).exit_code == 2
