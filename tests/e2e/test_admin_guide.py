"""docs/admin.md, run as written: every ```bash block, in order, in one shell, against the local org.

The guide's `sh` block of values is replaced by the test's (same names); the Setup clicks it marks
are done by the `<!-- test: ... -->` commands beside them (registering the connected app). The
shell is an admin's: a checkout of this project (git, its CumulusCI config and tasks), sf and cci
on PATH, Node and requests trusting the local org's CA as `slotforce org env` sets it up.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from slotforce.cci import cci_env, tool_path
from slotforce.localorg import LocalOrg

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "admin.md"
STEP = re.compile(r"^```(bash|sh)\n(.*?)^```$|^<!-- test: (.*?) -->$", re.M | re.S)

# quoted in the table, but not slotforce's words: an example key path, and CumulusCI's message
NOT_OURS = {"extensions.yml: objects.Lead.fields[0].length", "objects.Lead.fields[0].length", "cci` says `No org named"}


def _steps() -> tuple[str, list[str]]:
    """(the values block, the commands in order: bash blocks and test-only stand-ins for Setup clicks)."""
    values, commands = "", []
    for kind, block, stand_in in STEP.findall(GUIDE.read_text()):
        if kind == "sh":
            values = block
        elif kind == "bash":
            commands.append(block)
        else:
            commands.append(stand_in + "\n")
    return values, commands


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_checkout(root: Path) -> Path:
    root.mkdir()
    for name in ("cumulusci.yml", "sfdx-project.json", "extensions.example.yml"):
        shutil.copy(REPO / name, root / name)
    for folder in ("tasks", "force-app"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-C", str(root), "-c", "user.name=Admin", "-c", "user.email=admin@acme.example"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "our slotforce"], check=True)
    return root


@pytest.mark.sfcli
@pytest.mark.slow
def test_every_command_of_the_admin_guide_runs_against_the_local_org(tmp_path):
    if shutil.which("sf", path=tool_path()) is None or shutil.which("jq") is None:
        pytest.skip("needs the sf CLI (make install) and jq")
    values, commands = _steps()
    checkout = _admin_checkout(tmp_path / "checkout")
    with LocalOrg(tmp_path / "org") as org:
        ours = {
            "ORG": "acme", "LOGIN_URL": org.instance_url, "ADMIN_USERNAME": org.username,
            "INTEGRATION_USERNAME": "slotforce@acme.example", "INTEGRATION_EMAIL": "admins@acme.example",
            "SALES_USERNAME": org.username,
            "CLIENT_ID": "3MVG9acmeSlotforceIntegration", "KEY_DIR": str(tmp_path / "keys"),
            "SERVICE_PORT": str(_free_port()), "CALCOM_WEBHOOK_SECRET": "calcom-secret", "PREVIOUS_RELEASE": "HEAD",
        }
        assert set(re.findall(r"^export (\w+)=", values, re.M)) == set(ours), "the guide's values changed"
        env = cci_env(tmp_path / "home", org.env_exports(), base={
            **dict(subprocess.os.environ), "NODE_EXTRA_CA_CERTS": org.ca_bundle, "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
            "LOCAL_ORG_STATE": str(org.state_dir), **ours})
        env.pop("CUMULUSCI_ORG_local", None)  # the guide's org comes from `cci org import`, as a real one would
        script = "set -euo pipefail\n" + "\n".join(commands)
        done = subprocess.run(["bash", "-c", script], cwd=checkout, env=env, capture_output=True, text=True,
                              timeout=600)
        log = done.stdout[-6000:] + done.stderr[-6000:]
        assert done.returncode == 0, log
        # what the guide promises along the way
        assert "Completed flow 'deploy_package'" in done.stdout, log
        assert "ok   permission set: Slotforce_Integration is assigned to slotforce@acme.example" in log
        users = org.client().query("SELECT Username, IsActive FROM User WHERE Username = 'slotforce@acme.example'")
        assert users["records"][0]["IsActive"] is False  # rolled back: the integration user is off


def test_the_error_texts_the_guide_quotes_are_the_ones_slotforce_prints():
    table = GUIDE.read_text().split("## When it goes wrong", 1)[1].split("## 11.", 1)[0]
    sources = "\n".join(p.read_text() for p in (REPO / "src" / "slotforce").rglob("*.py"))
    sources = re.sub(r"\"\s*\n\s*f?\"", "", sources)  # string literals continued on the next line
    sources = sources.replace("{PERMISSION_SET}", "Slotforce_Integration")
    quoted = re.findall(r"^\| [^|]+ \| `([^`]+)`", table, re.M)
    assert len(quoted) >= 10
    for text in quoted:  # placeholders (...) and the parts slotforce joins (key: advice (error: description))
        for piece in re.split(r"\.\.\.|\$\.\.\.|[()]|: ", text):
            piece = piece.strip(" ,").removeprefix("FAIL ")  # check-config's prefix of a failed check
            if len(piece) > 12 and piece not in NOT_OURS:
                assert piece in sources, f"the guide quotes {piece!r}, which slotforce never says"
