"""`slotforce ingest`: files go into the outbox like webhooks; rejected files are named."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from slotforce.cli import main
from slotforce.store import open_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def test_ingest_queues_files_once_and_says_what_it_did(tmp_path):
    config = tmp_path / "slotforce.yml"
    config.write_text("store: sqlite:///data/outbox.db\n")
    runner = CliRunner()
    files = [str(FIXTURES / "calcom" / n) for n in ("booking_created_new_lead.json", "booking_requested.json")]
    result = runner.invoke(main, ["ingest", "--config", str(config), "--source", "calcom", *files])
    assert result.exit_code == 0, result.output
    assert "booking_created_new_lead.json: queued 1 change(s) (items 1)" in result.output
    assert "booking_requested.json: stored, no booking change (Cal.com BOOKING_REQUESTED" in result.output
    again = runner.invoke(main, ["ingest", "--config", str(config), "--source", "calcom", files[0]])
    assert "already queued (items 1)" in again.output
    store = open_store("sqlite:///data/outbox.db", base_dir=tmp_path)  # relative to the config file
    assert store.counts()["pending"] == 1 and store.counts()["deliveries"] == 2
    store.close()


def test_ingest_reports_rejected_files_and_fails(tmp_path):
    config = tmp_path / "slotforce.yml"
    config.write_text("store: sqlite:///outbox.db\n")
    bad = tmp_path / "bad.json"
    bad.write_text('{"event": "invitee.created"}')
    result = CliRunner().invoke(
        main,
        ["ingest", "--config", str(config), "--source", "calendly", str(bad), str(FIXTURES / "calendly/invitee_canceled.json")],
    )
    assert result.exit_code == 1
    assert "bad.json: rejected: calendly webhook: payload: is missing" in result.output
    assert "invitee_canceled.json: queued 1 change(s)" in result.output
    assert "1 of 2 file(s) rejected" in result.output


def test_ingest_help_says_signatures_are_not_checked():
    result = CliRunner().invoke(main, ["ingest", "--help"])
    assert "Signatures are NOT checked" in result.output and "--config" in result.output


def test_missing_config_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SLOTFORCE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["ingest", "--source", "api", str(FIXTURES / "api/booking_created.json")])
    assert result.exit_code == 1 and "slotforce.yml: not found; pass --config PATH or set SLOTFORCE_CONFIG" in result.output


def test_ingest_applies_the_configured_size_limit(tmp_path):
    config = tmp_path / "slotforce.yml"
    config.write_text("store: sqlite:///outbox.db\nsources:\n  calcom: {max_body_bytes: 100}\n")
    result = CliRunner().invoke(
        main, ["ingest", "--config", str(config), "--source", "calcom", str(FIXTURES / "calcom/booking_no_show_set.json")]
    )
    assert result.exit_code == 1 and "over the 100-byte limit" in result.output
