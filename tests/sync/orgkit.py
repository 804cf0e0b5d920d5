"""End-to-end helpers: deploy the package's force-app into a local org the way a CI would.

force-app is SFDX source format; the Metadata API takes MDAPI format. The conversion here is
the small part the engine tests need: one objects/X.object per object with its fields, flows
as flows/X.flow, and a package.xml naming them.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from lxml import etree

NS = "http://soap.sforce.com/2006/04/metadata"
FORCE_APP = Path(__file__).parents[2] / "force-app" / "main" / "default"


def mdapi_zip(force_app: Path = FORCE_APP, *, flows: bool = True) -> bytes:
    files: dict[str, bytes] = {}
    objects = []
    for obj_dir in sorted((force_app / "objects").iterdir()):
        name = obj_dir.name
        meta = obj_dir / f"{name}.object-meta.xml"
        root = etree.parse(str(meta)).getroot() if meta.exists() else etree.Element(f"{{{NS}}}CustomObject", nsmap={None: NS})
        for f in sorted((obj_dir / "fields").glob("*.field-meta.xml")):
            field = etree.parse(str(f)).getroot()
            field.tag = f"{{{NS}}}fields"
            root.append(field)
        files[f"objects/{name}.object"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        objects.append(name)
    flow_names = []
    if flows:
        for f in sorted((force_app / "flows").glob("*.flow-meta.xml")):
            name = f.name[: -len(".flow-meta.xml")]
            files[f"flows/{name}.flow"] = f.read_bytes()
            flow_names.append(name)
    types = [("CustomObject", objects)] + ([("Flow", flow_names)] if flow_names else [])
    manifest = [f'<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="{NS}">']
    for t, members in types:
        manifest.append("  <types>" + "".join(f"<members>{m}</members>" for m in members) + f"<name>{t}</name></types>")
    manifest.append("  <version>62.0</version>\n</Package>\n")
    files["package.xml"] = "\n".join(manifest).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return buf.getvalue()


def deploy_package(sf, tmp_dir: Path, *, flows: bool = True) -> dict:
    """Deploy through simple-salesforce's Metadata API call; returns the final status."""
    path = tmp_dir / "package.zip"
    path.write_bytes(mdapi_zip(flows=flows))
    result = sf.deploy(str(path), sandbox=False, checkOnly=False, testLevel="NoTestRun", singlePackage=True,
                       rollbackOnError=True)
    deadline = time.monotonic() + 60
    while True:
        status = sf.checkDeployStatus(result["asyncId"])
        if status.get("state") in ("Succeeded", "Failed", "SucceededPartial", "Canceled") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)
