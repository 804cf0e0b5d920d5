"""End-to-end fixtures: a local org served by `slotforce org serve` and CumulusCI pointed at it.

Everything runs the way a CI job would: the org in its own process, `eval "$(slotforce org env)"`,
then unmodified `cci` in subprocesses with a throwaway HOME (CumulusCI keeps its keychain there).
"""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from slotforce.cci import cci_env, tool_path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def shell_exports(text: str) -> dict[str, str]:
    """The variables of `export NAME=value` lines (what `eval` would set)."""
    env = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            env[name] = value
    return env


class ServedOrg:
    """`slotforce org serve` in a child process, and a shell environment to run `cci` against it."""

    def __init__(self, state_dir: Path, home: Path) -> None:
        self.state_dir = state_dir
        self.home = home
        self.process: subprocess.Popen | None = None
        self.info: dict = {}
        self.env: dict[str, str] = {}      # the shell's environment before `eval "$(slotforce org env)"`
        self.exports: dict[str, str] = {}  # what `slotforce org env` exports

    def start(self) -> ServedOrg:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.state_dir.parent / "serve.log"
        # stderr to a file, not a pipe: nobody reads a pipe during the tests, and a full one blocks the org
        with open(log, "w") as err:
            self.process = subprocess.Popen(
                [str(BIN / "slotforce"), "org", "serve", "--port", "0", "--state", str(self.state_dir)],
                stdout=subprocess.PIPE, stderr=err, text=True)
        line = self.process.stdout.readline()  # the org announces itself on one line once it listens
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"slotforce org serve exited {self.process.returncode}: {log.read_text()[-3000:]}")
        self.info = json.loads(line)
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # drain anything printed later
        exports = subprocess.run([str(BIN / "slotforce"), "org", "env", "--state", str(self.state_dir)],
                                 capture_output=True, text=True, check=True).stdout
        self.exports = shell_exports(exports)
        # CUMULUSCI_* from the outer shell (another org, another key) must not leak into the run.
        self.env = cci_env(self.home)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cci(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """`eval "$(slotforce org env --state DIR)"; cci ARGS` at the repo root, as a user's shell would.

        Output is captured; a non-zero exit code is returned, never raised.
        """
        script = 'eval "$(slotforce org env --state "$0")" && exec cci "$@"'
        return subprocess.run(["bash", "-c", script, str(self.state_dir), *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def client(self):
        """An unmodified simple_salesforce client, trusting the org's CA the way cci does."""
        import requests
        from simple_salesforce import Salesforce

        session = requests.Session()
        # trust_env off: an outer REQUESTS_CA_BUNDLE (system CAs only) would override session.verify
        session.trust_env = False
        session.verify = self.exports["REQUESTS_CA_BUNDLE"]
        return Salesforce(instance_url=self.info["instance_url"], session_id=self.info["access_token"],
                          version=self.info["api_version"], session=session)

    def stats(self) -> dict:
        import requests

        response = requests.get(f"{self.info['instance_url']}/__localorg__/stats",
                                headers={"Authorization": f"Bearer {self.info['access_token']}"},
                                verify=self.exports["REQUESTS_CA_BUNDLE"], timeout=30)
        response.raise_for_status()
        return response.json()


def need_sf() -> None:
    if shutil.which("sf", path=tool_path()) is None:
        pytest.skip("sf CLI not installed in tools/ (run `make install`)")


@pytest.fixture(scope="session")
def served_org(tmp_path_factory):
    need_sf()
    base = tmp_path_factory.mktemp("e2e")
    org = ServedOrg(base / "org", base / "home").start()
    try:
        yield org
    finally:
        org.stop()


@pytest.fixture(scope="session")
def deployed_org(served_org, tmp_path_factory):
    """The served org after `cci flow run deploy_package --org local` succeeded.

    The flow generates force-app first; it is pointed at a scratch folder so a test run never
    rewrites the repository's force-app (the drift check owns that comparison).
    """
    out = tmp_path_factory.mktemp("force-app")
    options = [a for step in ("generate_package", "validate_package", "deploy")
               for a in ("-o", f"{step}__path", str(out))]
    result = served_org.cci("flow", "run", "deploy_package", "--org", "local", *options)
    served_org.deploy_result = result
    assert result.returncode == 0, f"cci flow run deploy_package failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return served_org
