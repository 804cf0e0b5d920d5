"""The story of an integration that logs in as a real one would: JWT bearer or a refresh token.

An admin registers a connected app with the certificate of the integration's key, writes
`salesforce: jwt:` (or `refresh:`) into slotforce.yml with the org's login URL, and runs
`slotforce sync`. Bookings land; when the org ends the session mid-run, the engine logs in once more
and the call goes through; a wrong key, client id or user stops it with what to fix.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from slotforce.cli import main
from slotforce.localorg.testing import key_pair
from slotforce.service.config import load_service_config
from slotforce.service.connect import connect
from slotforce.service.worker import Worker
from slotforce.store import open_store
from slotforce.testing import API_SECRET, API_SECRET_ENV, write_config

BOOKING = Path(__file__).parents[1] / "fixtures" / "webhooks" / "api" / "booking_created.json"


@pytest.fixture
def trusting(org, monkeypatch):
    """This shell trusts the org's CA, as `eval "$(slotforce org env)"` makes it (no special case in the code)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.combined_ca_bundle)
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    return org


def _jwt_config(folder, org, app, **change) -> Path:
    jwt = {"client_id": app.client_id, "username": org.username, "private_key_file": str(app.key_file),
           "login_url": org.instance_url, **change}
    return write_config(folder, org, salesforce={"jwt": jwt})


def _ingest_and_sync(config: Path):
    runner = CliRunner()
    ingested = runner.invoke(main, ["ingest", "--source", "api", str(BOOKING), "--config", str(config)])
    assert ingested.exit_code == 0, ingested.output
    return runner.invoke(main, ["sync", "--config", str(config)])


def test_jwt_bearer_connects_and_syncs(trusting, connected_app, tmp_path):
    result = _ingest_and_sync(_jwt_config(tmp_path, trusting, connected_app))
    assert result.exit_code == 0, result.output
    action = trusting.client().query("SELECT Status__c, CreatedById FROM Booking_Action__c")["records"]
    assert [(a["Status__c"], a["CreatedById"]) for a in action] == [("Processed", trusting.user_id)]


def test_refresh_token_connects_and_syncs(trusting, connected_app, tmp_path, monkeypatch):
    monkeypatch.setenv("SF_REFRESH_TOKEN", trusting.oauth.issue_refresh_token(connected_app.client_id,
                                                                              trusting.username))
    config = write_config(tmp_path, trusting, salesforce={"refresh": {
        "client_id": connected_app.client_id, "instance_url": trusting.instance_url,
        "refresh_token_env": "SF_REFRESH_TOKEN"}})
    result = _ingest_and_sync(config)
    assert result.exit_code == 0, result.output
    assert trusting.client().query("SELECT COUNT() FROM Booking_Action__c")["totalSize"] == 1


@pytest.mark.parametrize("kind", ["jwt", "refresh"])
def test_a_session_that_ends_mid_run_is_renewed_once_and_the_batch_lands(trusting, connected_app, tmp_path,
                                                                           monkeypatch, kind):
    monkeypatch.setenv("SF_REFRESH_TOKEN", trusting.oauth.issue_refresh_token(connected_app.client_id,
                                                                              trusting.username))
    if kind == "jwt":
        config_file = _jwt_config(tmp_path, trusting, connected_app)
    else:
        config_file = write_config(tmp_path, trusting, salesforce={"refresh": {
            "client_id": connected_app.client_id, "instance_url": trusting.instance_url,
            "refresh_token_env": "SF_REFRESH_TOKEN"}})
    config = load_service_config(config_file)
    monkeypatch.setattr(trusting.oauth, "session_seconds", 1.0)
    clients = []

    def connected():
        clients.append(connect(config.settings.salesforce, config.base_dir))
        return clients[-1]

    with open_store(config.settings.store, base_dir=config.base_dir) as outbox:
        assert CliRunner().invoke(main, ["ingest", "--source", "api", str(BOOKING),
                                         "--config", str(config_file)]).exit_code == 0
        worker = Worker(outbox, config.settings, connected)
        engine = worker.engine
        fetch = engine.fetch

        def fetch_then_the_session_ends(*args, **kwargs):
            answer = fetch(*args, **kwargs)
            time.sleep(1.1)  # the write that follows carries an ended session
            return answer

        engine.fetch = fetch_then_the_session_ends
        report = worker.run_once()
        assert outbox.counts()["done"] == 1, (report, outbox.items())
    assert len(clients) == 1 and clients[0].session.request._request.logins == 2
    assert trusting.client().query("SELECT Status__c FROM Booking_Action__c")["records"][0]["Status__c"] == "Processed"


def test_wrong_key_unknown_client_and_unknown_or_inactive_user_say_what_to_fix(trusting, connected_app, tmp_path):
    wrong_key, _ = key_pair(tmp_path / "wrong")
    for n, (change, says) in enumerate([
        ({"private_key_file": str(wrong_key)}, "salesforce.jwt.private_key_file"),
        ({"client_id": "3MVG9-typo"}, "salesforce.jwt.client_id: 3MVG9-typo is not the consumer key"),
        ({"username": "nobody@acme.com"}, "salesforce.jwt.username: nobody@acme.com is not a user of the org"),
        ({"username": "former.employee@slotforce.localorg"}, "activate the user in Setup > Users"),
    ]):
        folder = tmp_path / f"case{n}"
        folder.mkdir()
        result = _ingest_and_sync(_jwt_config(folder, trusting, connected_app, **change))
        assert result.exit_code != 0
        assert says in " ".join(result.output.split()), result.output
    assert trusting.client().query("SELECT COUNT() FROM Booking_Action__c")["totalSize"] == 0
