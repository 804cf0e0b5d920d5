"""Fixtures for flow tests (helpers live in flowkit.py)."""

import pytest
from flowkit import FlowOrg


@pytest.fixture
def forg() -> FlowOrg:
    return FlowOrg()
