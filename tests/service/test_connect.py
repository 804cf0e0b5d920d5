"""The connection factory: local state dir and refresh-token credentials, against the local org."""

from __future__ import annotations

import pytest

from slotforce.service.connect import ConnectError, connect
from slotforce.sync.settings import SalesforceSettings


def test_local_state_dir_connects_with_the_orgs_own_ca(org, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent-bundle.pem")  # must not be used
    sf = connect(SalesforceSettings(local=str(org.state_dir)))
    assert sf.query("SELECT Id FROM User WHERE IsActive = true")["totalSize"] >= 1
    with pytest.raises(ConnectError, match="slotforce org serve --state"):
        connect(SalesforceSettings(local="missing"), tmp_path)


def test_refresh_token_credentials_get_a_session(org, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.combined_ca_bundle)
    monkeypatch.setenv("TEST_SF_REFRESH_TOKEN", "any-refresh-token")
    settings = SalesforceSettings(refresh={"client_id": "slotforce", "instance_url": org.instance_url,
                                           "refresh_token_env": "TEST_SF_REFRESH_TOKEN"})
    sf = connect(settings)
    assert sf.query("SELECT COUNT() FROM Organization")["totalSize"] == 1
    monkeypatch.delenv("TEST_SF_REFRESH_TOKEN")
    with pytest.raises(ConnectError, match="TEST_SF_REFRESH_TOKEN is not set"):
        connect(settings)
