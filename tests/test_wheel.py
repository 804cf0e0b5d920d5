"""An installed wheel stands alone: built from this checkout, installed into a fresh venv outside it, run elsewhere.

Every command runs with its working directory in a tmp folder outside the checkout, so nothing can
find force-app, schemas/ or tools/ beside the installed package or from the project.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from slotforce.package.mdapi import source_files, to_mdapi

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "webhooks" / "api" / "booking_created.json"

pytestmark = pytest.mark.slow


def _env(bin_dir: Path) -> dict[str, str]:
    """This environment (the mirror's PIP_* settings included) without anything that points Python elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return dict(env, PATH=os.pathsep.join([str(bin_dir), env.get("PATH", "")]))


def _run(cmd: list, cwd: Path, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=240, **kwargs)
    assert done.returncode == 0, f"{cmd}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv, outside the checkout, with the wheel built from it installed (dependencies from the mirror)."""
    tmp = tmp_path_factory.mktemp("wheel")
    assert not tmp.resolve().is_relative_to(REPO)
    env = _env(Path(sys.executable).parent)
    started = time.monotonic()
    # Built from a copy: setuptools builds in the source tree, and a build/ left in the checkout
    # would both dirty it and put files deleted since into the wheel.
    source = tmp / "source"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", tmp / "dist", source], tmp, env)
    (wheel,) = (tmp / "dist").glob("slotforce-*.whl")
    # No pip of its own (ensurepip alone takes seconds): this pip installs into it with --python.
    _run([sys.executable, "-m", "venv", "--without-pip", tmp / "venv"], tmp, env)
    # --no-compile: these modules run once, so byte-compiling all of them would only cost time.
    _run([sys.executable, "-m", "pip", "--python", tmp / "venv" / "bin" / "python", "install", "--quiet",
          "--no-compile", "-c", REPO / "requirements.lock", wheel], tmp, env)
    print(f"wheel built and installed in {time.monotonic() - started:.1f} s")
    return tmp / "venv"


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """The working directory of the installed commands: a tmp folder in no project."""
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


def test_the_installed_package_has_no_path_into_the_checkout(venv, elsewhere):
    code = "import json, sys, slotforce; print(json.dumps([slotforce.__file__, sys.path]))"
    file, path = json.loads(_run([venv / "bin" / "python", "-c", code], elsewhere, _env(venv / "bin")).stdout)
    assert Path(file).resolve().is_relative_to(venv.resolve())
    assert [p for p in path if p and Path(p).resolve().is_relative_to(REPO)] == []


def test_package_build_writes_the_committed_force_app(venv, elsewhere):
    # the checkout's own extensions.yml (an admin's fields) is what its committed force-app was built with
    from slotforce.package import project_extensions

    extensions = project_extensions(REPO)
    _run([venv / "bin" / "slotforce", "package", "build", "--out", "project/force-app",
          *(["--extensions", str(extensions)] if extensions else [])], elsewhere, _env(venv / "bin"))
    built = elsewhere / "project" / "force-app"
    committed = REPO / "force-app"
    files = {p.relative_to(committed).as_posix(): p.read_text() for p in committed.rglob("*") if p.is_file()}
    assert {p.relative_to(built).as_posix(): p.read_text() for p in built.rglob("*") if p.is_file()} == files
    assert "main/default/objects/Booking_Action__c/Booking_Action__c.object-meta.xml" in files
    # mdapi's default source is the current project's force-app, found from a folder inside it
    (elsewhere / "project" / "sfdx-project.json").write_text("{}")
    code = "import json; from slotforce.package.mdapi import source_files, to_mdapi; print(json.dumps(sorted(to_mdapi(source_files()))))"
    converted = _run([venv / "bin" / "python", "-c", code], built / "main", _env(venv / "bin")).stdout
    assert json.loads(converted) == sorted(to_mdapi(source_files(committed)))


def test_org_serve_answers_its_versions_endpoint(venv, elsewhere):
    state = elsewhere / "org"
    proc = subprocess.Popen([str(venv / "bin" / "slotforce"), "org", "serve", "--state", str(state), "--port", "0"],
                            cwd=elsewhere, env=_env(venv / "bin"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (state / "org.json").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no org.json within 60 s"
            time.sleep(0.1)
        proc.stdout.readline()  # org.json is written, then printed: once printed it is complete
        info = json.loads((state / "org.json").read_text())
        versions = requests.get(f"{info['instance_url']}/services/data", verify=info["ca_bundle"], timeout=10)
        assert versions.ok and info["api_version"] in {v["version"] for v in versions.json()}
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_a_signed_api_webhook_parses(venv, elsewhere):
    code = textwrap.dedent("""
        import json, sys
        from slotforce.sources import WebhookRejected, parse
        from slotforce.sources.signatures import sign_api
        body = sys.stdin.buffer.read()
        changes = parse("api", body, sign_api("wheel-secret", body), secrets={"api": "wheel-secret"})
        forged = None
        try:
            parse("api", body, sign_api("another-secret", body), secrets={"api": "wheel-secret"})
        except WebhookRejected as rejected:
            forged = rejected.status
        print(json.dumps({"changes": [c.model_dump(mode="json") for c in changes], "forged": forged}))
    """)
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=elsewhere, env=_env(venv / "bin"),
                         input=FIXTURE.read_bytes(), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    result = json.loads(out.stdout)
    (change,) = result["changes"]
    assert (change["source"], change["action"], change["booking_uid"]) == ("api", "Created", "acme-bk-20261205-0001")
    assert change["attendee"]["email"] == "ana.silva@tailspin-toys.com"
    assert result["forged"] == 401


def test_the_schema_prints_and_the_demo_says_it_needs_a_checkout(venv, elsewhere):
    env = _env(venv / "bin")
    schema = _run([venv / "bin" / "python", "-m", "slotforce.sources.schema", "-"], elsewhere, env).stdout
    assert schema == (REPO / "schemas" / "booking.schema.json").read_text(encoding="utf-8")
    demo = subprocess.run([str(venv / "bin" / "slotforce"), "demo"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=60)
    assert demo.returncode == 1 and "slotforce demo runs in a checkout of the slotforce repository" in demo.stderr
