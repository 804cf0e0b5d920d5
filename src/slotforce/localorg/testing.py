"""pytest fixtures for tests that talk to a local org (a pytest plugin).

Use from a conftest.py:

    from slotforce.localorg.testing import local_org, local_org_session, sf  # noqa: F401

or, in the root conftest.py, `pytest_plugins = ["slotforce.localorg.testing"]`.

- `local_org_session`: one HTTPS local org for the whole test session (in memory, free port).
- `local_org`: the same org, reset to its seed data before the test (records, counters, faults).
  Deployed custom objects/fields and registered triggers stay: they are the org's configuration.
- `sf`: an unmodified simple_salesforce.Salesforce connected to `local_org`.
"""

from __future__ import annotations

import pytest

from slotforce.localorg.server import LocalOrg


@pytest.fixture(scope="session")
def local_org_session():
    with LocalOrg() as org:
        yield org


@pytest.fixture
def local_org(local_org_session):
    local_org_session.reset()
    yield local_org_session


@pytest.fixture
def sf(local_org):
    client = local_org.client()
    yield client
    client.session.close()
