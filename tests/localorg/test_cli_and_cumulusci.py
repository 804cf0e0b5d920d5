"""`slotforce org serve` / `slotforce org env`, and CumulusCI talking to the org (cumulusci-notes §3.2, §3.3)."""

import json
import pathlib
import shlex
import signal
import subprocess
import sys

import pytest

from slotforce.cci import cci_env

BIN = pathlib.Path(sys.executable).parent


def _exports(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        out[name] = shlex.split(value)[0]
    return out


@pytest.fixture
def served(tmp_path):
    """`slotforce org serve --port 0 --state DIR` as a real subprocess."""
    state = tmp_path / "org"
    proc = subprocess.Popen([str(BIN / "slotforce"), "org", "serve", "--port", "0", "--state", str(state)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    yield state, proc, line
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_serve_prints_org_json_on_one_line_and_stops_on_sigterm(served):
    """DESIGN 'The local org': org.json keys; printed on one line; runs until SIGTERM (graceful)."""
    state, proc, line = served
    info = json.loads(line)
    assert info == json.loads((state / "org.json").read_text())
    assert set(info) == {"instance_url", "access_token", "org_id", "username", "password", "user_id", "ca_bundle",
                         "api_version"}
    assert info["instance_url"].startswith("https://127.0.0.1:") and info["ca_bundle"] == str(state / "ca.pem")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0


def test_cci_org_info_works_with_org_env_exported(served, tmp_path):
    """cumulusci-notes §3.2/§3.3: CUMULUSCI_ORG_<name> + CUMULUSCI_DISABLE_REFRESH + REQUESTS_CA_BUNDLE
    is all CumulusCI needs; it then calls userinfo, /services/data and the Organization record."""
    state, _, line = served
    info = json.loads(line)
    env_out = subprocess.run([str(BIN / "slotforce"), "org", "env", "--state", str(state)], check=True,
                             capture_output=True, text=True).stdout
    exports = _exports(env_out)
    assert exports["CUMULUSCI_DISABLE_REFRESH"] == "1"
    assert json.loads(exports["CUMULUSCI_ORG_local"])["org_id"] == info["org_id"]
    project = tmp_path / "project"
    project.mkdir()
    (project / "cumulusci.yml").write_text('project:\n    name: Probe\n    package:\n        api_version: "62.0"\n')
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    env = cci_env(tmp_path / "home", exports)
    result = subprocess.run([str(BIN / "cci"), "org", "info", "--org", "local"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert info["org_id"] in result.stdout and "Developer Edition" in result.stdout
    assert "63.0" in result.stdout  # the newest version /services/data lists


def test_env_without_a_served_org_says_what_to_do(tmp_path):
    result = subprocess.run([str(BIN / "slotforce"), "org", "env", "--state", str(tmp_path / "none")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "slotforce org serve --state" in result.stderr


def test_org_json_paths_are_absolute_when_the_state_dir_is_relative(tmp_path, monkeypatch):
    """org.json (DESIGN.md: "ca_bundle": "DIR/ca.pem") must work from any working directory."""
    from slotforce.localorg.server import LocalOrg

    monkeypatch.chdir(tmp_path)
    with LocalOrg(state_dir="state") as org:
        info = json.loads(org.write_org_json().read_text())
    assert pathlib.Path(info["ca_bundle"]).is_absolute() and pathlib.Path(info["ca_bundle"]).exists()
