"""Link sync tests share the service tests' packaged local org fixtures."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "service"))

from orgpackage import config_file, org, packaged_org  # noqa: E402,F401

from slotforce.localorg.testing import local_org_session  # noqa: E402,F401
