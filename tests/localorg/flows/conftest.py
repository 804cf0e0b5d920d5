"""Fixtures for flow tests (helpers live in flowkit.py, importable from the tests here)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from flowkit import FlowOrg  # noqa: E402

from slotforce.localorg.server import LocalOrg  # noqa: E402


@pytest.fixture
def forg() -> FlowOrg:
    return FlowOrg()


@pytest.fixture(scope="module")
def server():
    """One local org over HTTPS per test module."""
    with LocalOrg() as lo:
        yield lo


@pytest.fixture
def sf(server, monkeypatch):
    """A simple-salesforce client of `server`, reset to a fresh org first."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.combined_ca_bundle)
    server.reset()
    return server.client()
