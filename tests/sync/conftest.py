"""Local orgs for the engine's end-to-end tests: the package deployed as a CI would deploy it.

`org` has the package's objects and fields but not its Flows, so the engine's own effects are
checked without depending on Flow behaviour; `flow_org` has the Flows too (the full story).
Both are reset to seed data before each test; API-call counters start at zero.
"""

from __future__ import annotations

import pytest

from slotforce.localorg.server import LocalOrg
from slotforce.package.mdapi import deploy, source_files
from slotforce.testing import assign_integration


def _deployed(flows: bool):
    org = LocalOrg().start()
    client = org.client()
    deploy(client, {path: xml for path, xml in source_files().items() if flows or not path.startswith("flows/")})
    assign_integration(client, org.user_id)  # as deploy_package does: check-config asks for it
    client.session.close()
    return org


@pytest.fixture(scope="session")
def _engine_org():
    org = _deployed(flows=False)
    yield org
    org.stop()


@pytest.fixture(scope="session")
def _flow_org():
    org = _deployed(flows=True)
    yield org
    org.stop()


@pytest.fixture
def org(_engine_org):
    _engine_org.reset()
    return _engine_org


@pytest.fixture
def flow_org(_flow_org):
    _flow_org.reset()
    return _flow_org


@pytest.fixture
def sf(org):
    client = org.client()
    yield client
    client.session.close()
