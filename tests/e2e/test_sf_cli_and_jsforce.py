"""The sf CLI and jsforce, logged in to the local org the ways docs/operator.md shows.

`sf org login access-token` (org.json's token), `sf org login sfdx-url` (a refresh token of the
connected app sf uses, PlatformCLI), `sf org login jwt` (a connected app's certificate), then sf and
jsforce commands against the org. sf keeps one login per username: each login replaces the one
before it for admin@slotforce.localorg, so each is used right after it is made. Node trusts the org's CA through NODE_EXTRA_CA_CERTS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from slotforce.cci import tool_path
from slotforce.localorg import LocalOrg
from slotforce.localorg.testing import key_pair

REPO = Path(__file__).resolve().parents[2]
JSFORCE = REPO / "tools" / "node_modules" / "@jsforce" / "jsforce-node"

pytestmark = [pytest.mark.sfcli, pytest.mark.slow]


@pytest.fixture
def served(tmp_path):
    if shutil.which("sf", path=tool_path()) is None:
        pytest.skip("sf CLI not installed (run `make install`)")
    with LocalOrg(tmp_path / "org") as org:
        yield org


def _env(org, home: Path, **extra) -> dict[str, str]:
    home.mkdir(exist_ok=True)
    return {**os.environ, "PATH": tool_path(), "HOME": str(home), "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
            "NODE_EXTRA_CA_CERTS": org.ca_bundle, "SF_DISABLE_TELEMETRY": "true", "SF_AUTOUPDATE_DISABLE": "true",
            "SF_SKIP_NEW_VERSION_CHECK": "true", **extra}


def _run(args, env, cwd) -> dict:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout) if "--json" in args else {"stdout": done.stdout}


def test_sf_logs_in_by_access_token_sfdx_url_and_jwt_and_queries(served, tmp_path):
    org, home = served, tmp_path / "home"
    env = _env(org, home)
    _run(["sf", "org", "login", "access-token", "--instance-url", org.instance_url, "--alias", "local",
          "--no-prompt", "--json"], {**env, "SF_ACCESS_TOKEN": org.access_token}, tmp_path)
    table = _run(["sf", "data", "query", "--query", "SELECT Username, Profile.Name FROM User", "--target-org",
                  "local"], env, tmp_path)["stdout"]
    assert "admin@slotforce.localorg" in table and "System Administrator" in table

    key_file, cert_file = key_pair(tmp_path / "jwt")
    org.oauth.add_connected_app("PlatformCLI", cert_file.read_text())
    refresh = org.oauth.issue_refresh_token("PlatformCLI", org.username)
    url_file = tmp_path / "sfdx-url.txt"
    url_file.write_text(f"force://PlatformCLI::{refresh}@{org.instance_url.removeprefix('https://')}\n")
    by_url = _run(["sf", "org", "login", "sfdx-url", "--sfdx-url-file", str(url_file), "--alias", "local-url",
                   "--json"], env, tmp_path)
    assert by_url["result"]["orgId"] == org.org_id
    shown = _run(["sf", "org", "display", "--target-org", "local-url", "--json"], env, tmp_path)
    assert shown["result"]["connectedStatus"] == "Connected"

    _run(["sf", "org", "login", "jwt", "--client-id", "PlatformCLI", "--jwt-key-file", str(key_file), "--username",
          org.username, "--instance-url", org.instance_url, "--alias", "local-jwt", "--json"], env, tmp_path)
    created = _run(["sf", "data", "create", "record", "--sobject", "Contact", "--values", "LastName=FromSf",
                    "--target-org", "local-jwt", "--json"], env, tmp_path)
    assert created["result"]["success"] is True


def test_jsforce_connects_by_token_and_by_refresh_token(served, tmp_path):
    org = served
    org.oauth.add_connected_app("3MVG9-jsforce", key_pair(tmp_path / "jwt")[1].read_text())
    env = _env(org, tmp_path / "home", JSFORCE=str(JSFORCE), CLIENT_ID="3MVG9-jsforce",
               REFRESH_TOKEN=org.oauth.issue_refresh_token("3MVG9-jsforce", org.username))
    out = _run(["node", str(Path(__file__).parent / "js" / "connect.js"), str(org.state_dir / "org.json")], env,
               tmp_path)["stdout"]
    assert json.loads(out) == {"users": ["admin@slotforce.localorg"], "created": True}
