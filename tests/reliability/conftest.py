"""Reliability tests run against a local org with this repo's package deployed.

The packaged org fixtures come from the slotforce.testing plugin (root conftest.py);
`reliability_kit` holds what these tests share (bookings, compressed clocks, Salesforce-side counts).
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))



import pytest  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The outbox of a test that runs on every backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/outbox.db"
    return request.getfixturevalue("postgres_url")
