"""Fixtures for flow tests (helpers live in flowkit.py, importable from the tests here)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from flowkit import FlowOrg  # noqa: E402


@pytest.fixture
def forg() -> FlowOrg:
    return FlowOrg()
