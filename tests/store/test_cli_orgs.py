"""The operator commands with several orgs: `--org NAME`, the only org by default, a usage error naming
the orgs when it is ambiguous."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.store import Delivery, ItemResult, NewChange, open_store

API_BOOKING = {"source": "api", "action": "Created", "booking_uid": "cli-1", "event_type_slug": "intro",
               "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T09:30:00Z",
               "organizer": {"email": "host@example.com", "name": "Host"},
               "attendee": {"email": "guest@example.com", "first_name": "G", "last_name": "Uest"},
               "occurred_at": "2026-11-30T09:00:00Z"}


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "slotforce.yml"
    path.write_text("store: sqlite:///outbox.db\norgs:\n  acme: {salesforce: {local: a}}\n"
                    "  globex: {salesforce: {local: g}}\n")
    store = open_store("sqlite:///outbox.db", base_dir=tmp_path)
    for org in ("acme", "globex"):
        store.enqueue(Delivery("api", b"{}", org=org),
                      [NewChange("api:X:Created:0", "X", "Created", {"booking_uid": "X"}, establishes=True)])
    lease = store.lease("w", org="globex")
    store.finish(lease.id, [ItemResult.failed(lease.items[0].id, "globex refused it", "FIELD_INTEGRITY_EXCEPTION")])
    store.close()
    monkeypatch.setenv("SLOTFORCE_CONFIG", str(path))
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_status_errors_and_trace_are_one_orgs(config):
    acme = json.loads(run("status", "--org", "acme", "--json").output)
    globex = json.loads(run("status", "--org", "globex", "--json").output)
    assert (acme["org"], acme["counts"]["pending"], acme["counts"]["failed"]) == ("acme", 1, 0)
    assert (globex["counts"]["pending"], globex["counts"]["failed"]) == (0, 1)
    errors = json.loads(run("errors", "--org", "globex", "--json").output)
    assert [e["error"] for e in errors["failed"]] == ["globex refused it"]
    assert json.loads(run("errors", "--org", "acme", "--json").output)["failed"] == []
    trace = json.loads(run("trace", "X", "--org", "acme", "--json").output)
    assert [(i["org"], i["state"]) for i in trace["items"]] == [("acme", "pending")]


def test_without_org_several_orgs_are_named_and_an_unknown_one_refused(config):
    ambiguous = run("status")
    assert ambiguous.exit_code == 1 and "has 2 orgs: name one with --org (acme, globex)" in ambiguous.output
    unknown = run("errors", "--org", "initech")
    assert unknown.exit_code == 1 and "org 'initech' is not in" in unknown.output


def test_replay_refuses_another_orgs_item(config):
    failed_id = json.loads(run("errors", "--org", "globex", "--json").output)["failed"][0]["id"]
    refused = run("replay", str(failed_id), "--org", "acme")
    assert refused.exit_code == 1 and f"item {failed_id} is org globex's, not acme's" in refused.output
    assert run("replay", str(failed_id), "--org", "globex").exit_code == 0


def test_ingest_stores_under_the_named_org(config, tmp_path):
    payload = tmp_path / "booking.json"
    payload.write_text(json.dumps(API_BOOKING))
    assert run("ingest", "--source", "api", str(payload)).exit_code == 1  # which org?
    stored = run("ingest", "--source", "api", "--org", "globex", str(payload))
    assert stored.exit_code == 0, stored.output
    with open_store("sqlite:///outbox.db", base_dir=tmp_path) as store:
        assert [i.booking_uid for i in store.items(org="globex", booking_uid="cli-1")] == ["cli-1"]
        assert store.items(org="acme", booking_uid="cli-1") == []
