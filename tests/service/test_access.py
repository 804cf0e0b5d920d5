"""`service: {api_token_env: NAME}`: the pages that show bookings need `Authorization: Bearer <token>`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from slotforce.service.access import BearerToken, open_pages_warning
from slotforce.service.app import Service, build_app
from slotforce.service.config import load_service_config
from slotforce.sources import sign_api
from slotforce.testing import API_SECRET, API_SECRET_ENV, write_config

BOOKING = (Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json").read_bytes()
TOKEN_ENV, TOKEN = "SLOTFORCE_TEST_PAGES_TOKEN", "pages-token-1"
# Each guarded page, and what it answers once the token is right (an unknown booking is still a 404).
GUARDED = {"/status": 200, "/status.json": 200, "/metrics": 200, "/owner": 400, "/bookings/no-such-uid": 404}


@pytest.fixture
def guarded_config(tmp_path, org, monkeypatch):
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return write_config(tmp_path, org, service={"api_token_env": TOKEN_ENV})


def test_guarded_pages_need_the_bearer_token_and_webhooks_and_healthz_do_not(guarded_config):
    with TestClient(build_app(Service(load_service_config(guarded_config), flush_interval=0.05))) as client:
        for path, status in GUARDED.items():
            missing = client.get(path)
            assert missing.status_code == 401, path
            assert missing.headers["WWW-Authenticate"].startswith("Bearer")
            assert f"Authorization: Bearer <token> (the value of {TOKEN_ENV}" in missing.json()["error"]
            wrong = client.get(path, headers={"Authorization": "Bearer not-it"})
            assert wrong.status_code == 401 and "is not the value of" in wrong.json()["error"]
            assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == status, path
        assert client.get("/healthz").status_code == 200
        signed = {"Content-Type": "application/json", **sign_api(API_SECRET, BOOKING)}
        assert client.post("/webhooks/api", content=BOOKING, headers=signed).status_code == 202


def test_a_token_named_but_not_set_keeps_the_pages_closed(guarded_config, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV)
    with TestClient(build_app(Service(load_service_config(guarded_config)))) as client:
        answer = client.get("/status", headers={"Authorization": "Bearer "})
    assert answer.status_code == 401 and f"names {TOKEN_ENV}, which is not set" in answer.json()["error"]


def test_without_a_token_every_page_is_open(config_file):
    with TestClient(build_app(Service(load_service_config(config_file)))) as client:
        assert client.get("/status.json").status_code == 200 and client.get("/metrics").status_code == 200


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("::1", False), ("localhost", False),
                                          ("0.0.0.0", True), ("10.1.2.3", True), ("slotforce.internal", True)])
def test_open_pages_are_warned_about_only_off_loopback(host, warned):
    assert (open_pages_warning(BearerToken(None), host) is not None) is warned
    assert open_pages_warning(BearerToken(TOKEN_ENV, {TOKEN_ENV: TOKEN}), host) is None


def test_serve_on_all_interfaces_without_a_token_warns_at_start(config_file):
    log = config_file.parent / "serve.log"
    proc = subprocess.Popen([sys.executable, "-c", "from slotforce.cli import main; main()", "serve", "--config",
                             str(config_file), "--host", "0.0.0.0", "--port", "0"], stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, env={**os.environ, API_SECRET_ENV: API_SECRET})
    try:
        deadline = time.monotonic() + 30
        while "without authentication on 0.0.0.0" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "set service.api_token_env" in log.read_text(), log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
