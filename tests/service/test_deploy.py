"""Run it as a service: the Dockerfile's entrypoint and health check run as written (no Docker engine
here, so they run directly), and the systemd unit passes `systemd-analyze verify`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from slotforce.testing import API_SECRET, API_SECRET_ENV, free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def dockerfile() -> dict[str, list[str]]:
    """Each instruction's arguments (continuation lines joined), by instruction name."""
    found: dict[str, list[str]] = {}
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, rest = line.strip().partition(" ")
            found.setdefault(name.upper(), []).append(rest.strip())
    return found


def exec_form(value: str) -> list[str]:
    return json.loads(value)



def test_the_image_is_slim_runs_as_a_user_and_keeps_the_outbox_on_a_volume():
    d = dockerfile()
    assert d["FROM"][0].startswith("python:") and d["FROM"][0].endswith("-slim")
    assert d["USER"][-1] not in ("root", "0")
    assert exec_form(d["VOLUME"][0]) == ["/var/lib/slotforce"]
    assert "/healthz" in d["HEALTHCHECK"][0]
    assert "sqlite:////var/lib/slotforce/" in (REPO / "deploy" / "slotforce.yml").read_text()


def test_the_entrypoint_serves_and_the_healthcheck_passes_then_sigterm_exits_0(config_file, tmp_path):
    d, port = dockerfile(), str(free_port())
    entrypoint = [a.replace("8080", port) for a in exec_form(d["ENTRYPOINT"][0])]
    check = [a.replace("8080", port) for a in exec_form(d["HEALTHCHECK"][0].split("CMD", 1)[1].strip())]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "SLOTFORCE_CONFIG": str(config_file),
           API_SECRET_ENV: API_SECRET}
    log = tmp_path / "entrypoint.log"
    proc = subprocess.Popen(entrypoint, env=env, cwd=tmp_path, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: subprocess.run(check, env=env, capture_output=True).returncode == 0, timeout=30)
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        assert lines, log.read_text()  # --log-format json
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_unit_verifies(tmp_path):
    # The unit names the install path of the operator guide; verify checks the binary exists, so point it here.
    unit = (REPO / "deploy" / "slotforce.service").read_text().replace("/opt/slotforce/bin/slotforce",
                                                                        str(BIN / "slotforce"))
    (tmp_path / "slotforce.service").write_text(unit)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "slotforce.service")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Unknown" not in done.stderr and "slotforce.service:" not in done.stderr, done.stderr
