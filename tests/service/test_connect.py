"""The connection factory against the local org: a local state dir, and the jwt / refresh credentials
that real orgs use (the same code, pointed at the local org through login_url / instance_url)."""

from __future__ import annotations

import time

import pytest

from slotforce.localorg.testing import key_pair
from slotforce.service.connect import ConnectError, connect
from slotforce.service.login import audience
from slotforce.sync.settings import SalesforceSettings


def test_local_state_dir_connects_with_the_orgs_own_ca(org, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent-bundle.pem")  # must not be used
    sf = connect(SalesforceSettings(local=str(org.state_dir)))
    assert sf.query("SELECT Id FROM User WHERE IsActive = true")["totalSize"] >= 1
    with pytest.raises(ConnectError, match="slotforce org serve --state"):
        connect(SalesforceSettings(local="missing"), tmp_path)


@pytest.mark.parametrize("login_url, aud", [
    ("https://login.salesforce.com", "https://login.salesforce.com"),
    ("https://test.salesforce.com/", "https://test.salesforce.com"),
    ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
    ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
    ("https://power-dream-1234.scratch.my.salesforce.com", "https://test.salesforce.com"),
    ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
])
def test_the_jwt_audience_follows_the_login_urls_shape(login_url, aud):
    assert audience(login_url) == aud


def _jwt(org, app, **change) -> SalesforceSettings:
    jwt = {"client_id": app.client_id, "username": org.username, "private_key_file": str(app.key_file),
           "login_url": org.instance_url, **change}
    return SalesforceSettings(jwt=jwt)


def test_jwt_credentials_get_a_session(org, connected_app, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.combined_ca_bundle)
    sf = connect(_jwt(org, connected_app))
    assert sf.session_id != org.access_token
    assert sf.query("SELECT COUNT() FROM Organization")["totalSize"] == 1


def test_jwt_failures_say_what_to_fix(org, connected_app, monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.combined_ca_bundle)
    wrong_key, _ = key_pair(tmp_path / "wrong")
    cases = [
        ({"private_key_file": str(wrong_key)}, r"salesforce.jwt.private_key_file: .* does not belong to the "
                                               r"certificate .*answered invalid_grant: invalid assertion"),
        ({"client_id": "3MVG9-typo"}, r"salesforce.jwt.client_id: 3MVG9-typo is not the consumer key .*Manage "
                                      r"Consumer Details.*invalid_client_id: client identifier invalid"),
        ({"username": "nobody@acme.com"}, r"salesforce.jwt.username: nobody@acme.com is not a user of the org.*"
                                          r"pre-authorized.*user hasn't approved this consumer"),
        ({"username": "former.employee@slotforce.localorg"},
         r"salesforce.jwt.username: former.employee@slotforce.localorg cannot log in \(inactive.*activate the user"),
        ({"private_key_file": str(tmp_path / "wrong" / "server.crt")}, r"is not a PEM RSA private key"),
    ]
    for change, message in cases:
        with pytest.raises(ConnectError, match=message):
            connect(_jwt(org, connected_app, **change))


def test_refresh_token_credentials_get_a_session(org, connected_app, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.combined_ca_bundle)
    monkeypatch.setenv("TEST_SF_REFRESH_TOKEN", org.oauth.issue_refresh_token(connected_app.client_id, org.username))
    settings = SalesforceSettings(refresh={"client_id": connected_app.client_id, "instance_url": org.instance_url,
                                           "refresh_token_env": "TEST_SF_REFRESH_TOKEN"})
    sf = connect(settings)
    assert sf.query("SELECT COUNT() FROM Organization")["totalSize"] == 1
    monkeypatch.setenv("TEST_SF_REFRESH_TOKEN", "5Aep-revoked")
    with pytest.raises(ConnectError, match=r"refresh_token_env: the refresh token in \$TEST_SF_REFRESH_TOKEN was "
                                           r"revoked.*expired access/refresh token"):
        connect(settings)
    monkeypatch.delenv("TEST_SF_REFRESH_TOKEN")
    with pytest.raises(ConnectError, match="TEST_SF_REFRESH_TOKEN is not set"):
        connect(settings)


def test_an_ended_session_logs_in_once_more_then_the_call_goes_through(org, connected_app, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.combined_ca_bundle)
    monkeypatch.setattr(org.oauth, "session_seconds", 0.3)
    sf = connect(_jwt(org, connected_app))
    first = sf.session_id
    time.sleep(0.4)
    assert sf.query("SELECT COUNT() FROM Organization")["totalSize"] == 1
    assert sf.session_id != first
    relogin = sf.session.request._request  # the CallGuard wraps the Relogin
    assert relogin.logins == 2
