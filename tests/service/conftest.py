"""Service tests run against a local org with this repo's package deployed (see orgpackage.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orgpackage import config_file, org, packaged_org  # noqa: E402,F401

from slotforce.localorg.testing import local_org_session  # noqa: E402,F401
