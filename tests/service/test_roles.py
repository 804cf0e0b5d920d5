"""The roles' commands: `serve --no-worker`, `slotforce worker`, and a store that cannot be reached."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from slotforce.cli import main
from slotforce.testing import API_SECRET, API_SECRET_ENV, write_config


def unreachable_store() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    return f"postgresql://slotforce:hunter2@127.0.0.1:{port}/outbox"


def test_check_config_names_an_unreachable_store_and_why_without_its_password(tmp_path, org, monkeypatch):
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)  # an unset secret would be the first thing reported
    config = write_config(tmp_path, org, store=unreachable_store())
    result = CliRunner().invoke(main, ["check-config", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "could not check the outbox (store:): cannot reach the outbox postgresql://slotforce@127.0.0.1:" in result.output
    assert "Connection refused" in result.output and "hunter2" not in result.output


def test_serve_and_worker_refuse_to_start_on_an_unreachable_store(tmp_path, org):
    config = write_config(tmp_path, org, store=unreachable_store())
    for command in (["serve", "--no-worker"], ["worker"]):
        result = CliRunner().invoke(main, [*command, "--config", str(config)])
        assert result.exit_code == 1, result.output
        assert "cannot reach the outbox postgresql://slotforce@127.0.0.1:" in result.output, command
        assert "hunter2" not in result.output


def test_an_intake_only_service_runs_no_worker_and_is_healthy(tmp_path, org, monkeypatch):
    from slotforce.service.app import Service
    from slotforce.service.config import load_service_config
    from slotforce.testing import API_SECRET, API_SECRET_ENV

    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    service = Service(load_service_config(write_config(tmp_path, org)), worker=False)
    service.start()
    try:
        assert not service.worker_alive and service.health_causes() == []
        assert service.status_context()["worker"]["separate"] is True
    finally:
        service.stop()
