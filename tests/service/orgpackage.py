"""Deploy this repo's force-app into a local org through the Metadata API, as CI would.

force-app is SFDX source format; the Metadata API takes MDAPI format: one objects/X.object per
object with its fields folded in, flows/X.flow, and a package.xml naming the members.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from lxml import etree

MD = "http://soap.sforce.com/2006/04/metadata"
FORCE_APP = Path(__file__).resolve().parents[2] / "force-app" / "main" / "default"


def mdapi_zip(force_app: Path = FORCE_APP) -> bytes:
    files: dict[str, bytes] = {}
    members: dict[str, list[str]] = {"CustomObject": [], "Flow": []}
    for folder in sorted((force_app / "objects").iterdir()):
        meta = folder / f"{folder.name}.object-meta.xml"
        root = etree.parse(str(meta)).getroot() if meta.exists() else etree.Element(f"{{{MD}}}CustomObject", nsmap={None: MD})
        for f in sorted((folder / "fields").glob("*.field-meta.xml")):
            el = etree.parse(str(f)).getroot()
            el.tag = f"{{{MD}}}fields"
            root.append(el)
        files[f"objects/{folder.name}.object"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        members["CustomObject"].append(folder.name)
    for f in sorted((force_app / "flows").glob("*.flow-meta.xml")):
        name = f.name.removesuffix(".flow-meta.xml")
        files[f"flows/{name}.flow"] = f.read_bytes()
        members["Flow"].append(name)
    types = "".join(f"<types>{''.join(f'<members>{m}</members>' for m in ms)}<name>{t}</name></types>"
                    for t, ms in members.items() if ms)
    files["package.xml"] = f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{MD}">{types}<version>62.0</version></Package>'.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return buf.getvalue()


def deploy_force_app(sf, work_dir: Path) -> dict:
    """Deploy and wait; returns the final deploy status (raises if it did not succeed)."""
    path = work_dir / "force-app.zip"
    path.write_bytes(mdapi_zip())
    started = sf.deploy(str(path), sandbox=False, checkOnly=False, testLevel="NoTestRun", singlePackage=True,
                        rollbackOnError=True)
    deadline = time.monotonic() + 60
    while True:
        status = sf.checkDeployStatus(started["asyncId"])
        if status.get("state") in ("Succeeded", "Failed", "SucceededPartial", "Canceled"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"deploy still {status.get('state')} after 60 s")
        time.sleep(0.1)
    if status.get("state") != "Succeeded":
        raise AssertionError(f"force-app did not deploy into the local org: {status}")
    return status


# -- pytest fixtures shared by tests/service and tests/links (imported by their conftest.py) ---------

import pytest  # noqa: E402
import yaml  # noqa: E402

API_SECRET = "test-api-secret"
API_SECRET_ENV = "SLOTFORCE_TEST_API_SECRET"


@pytest.fixture(scope="session")
def packaged_org(local_org_session, tmp_path_factory):
    """The session's local org with force-app deployed (objects, fields, Flows)."""
    client = local_org_session.client()
    deploy_force_app(client, tmp_path_factory.mktemp("deploy"))
    client.session.close()
    return local_org_session


@pytest.fixture
def org(packaged_org):
    """The packaged org, its records back to the seed data."""
    packaged_org.reset()
    return packaged_org


def write_config(folder: Path, org, **extra) -> Path:
    doc = {"salesforce": {"local": str(org.state_dir)}, "store": "sqlite:///outbox.db",
           "sources": {"api": {"secret_env": API_SECRET_ENV}}, **extra}
    path = folder / "slotforce.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def config_file(tmp_path, org, monkeypatch):
    """slotforce.yml in a fresh folder: the packaged org, an outbox next to it, the api source's secret."""
    monkeypatch.setenv(API_SECRET_ENV, API_SECRET)
    return write_config(tmp_path, org)
