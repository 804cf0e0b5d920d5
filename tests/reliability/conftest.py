"""Reliability tests run against a local org with this repo's package deployed.

The deploy helper and the org fixtures are the service tests' (tests/service/orgpackage.py), reused
rather than rewritten; `reliability_kit` holds what these tests share (bookings, compressed
clocks, Salesforce-side counts).
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "service"))
sys.path.insert(0, str(HERE))

from orgpackage import org, packaged_org  # noqa: E402,F401

from slotforce.localorg.testing import local_org_session  # noqa: E402,F401
