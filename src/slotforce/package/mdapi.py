"""force-app (SFDX source) as a Metadata API deploy zip, for the metadata types this package uses.

`sf project convert source` is the real converter (CumulusCI shells out to it); this is the same
conversion for our four folders, in-process and in milliseconds, so tests and benchmarks can deploy
the package without Node: object folders fold their fields into one `objects/X.object`, every other
`X.suffix-meta.xml` becomes `X.suffix`, and package.xml names each member.
"""

from __future__ import annotations

import io
import tempfile
import time
import zipfile
from pathlib import Path

from lxml import etree

from slotforce.package.definition import API_VERSION
from slotforce.project import find_root

MD = "http://soap.sforce.com/2006/04/metadata"
FOLDER_TYPES = {"objects": "CustomObject", "flows": "Flow", "permissionsets": "PermissionSet", "layouts": "Layout"}


class DeployFailed(Exception):
    """The org refused the deploy; the message lists its component failures."""


def force_app() -> Path:
    """The current project's force-app, the default source below (ProjectNotFound outside a project)."""
    return find_root() / "force-app"


def source_files(source_dir: Path | None = None) -> dict[str, str]:
    """SFDX files under SOURCE/main/default, keyed by their path below it (objects/X/fields/F.field-meta.xml)."""
    root = (source_dir or force_app()) / "main" / "default"
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*-meta.xml"))}


def to_mdapi(files: dict[str, str], api_version: str = API_VERSION) -> dict[str, bytes]:
    """SFDX files (as `source_files` keys them) -> MDAPI files, package.xml included."""
    out: dict[str, bytes] = {}
    members: dict[str, set[str]] = {}
    objects: dict[str, etree._Element] = {}
    for path, text in files.items():
        folder, *rest = path.split("/")
        kind = FOLDER_TYPES.get(folder)
        if kind is None:
            raise ValueError(f"{path}: folder {folder!r} holds no metadata type this converter knows "
                             f"({', '.join(FOLDER_TYPES)}); use `sf project convert source`")
        if folder == "objects":
            name = rest[0]
            obj = objects.setdefault(name, etree.Element(f"{{{MD}}}CustomObject", nsmap={None: MD}))
            element = etree.fromstring(text.encode())
            if len(rest) == 2:  # objects/X/X.object-meta.xml: the object's own settings
                obj.extend(list(element))
                members.setdefault(kind, set()).add(name)
            else:  # objects/X/fields/F.field-meta.xml, named Object.Field as sf names it
                element.tag = f"{{{MD}}}fields"
                obj.append(element)
                members.setdefault("CustomField", set()).add(f"{name}.{rest[-1].removesuffix('.field-meta.xml')}")
        else:
            file_name = rest[-1].removesuffix("-meta.xml")
            out[f"{folder}/{file_name}"] = text.encode()
            members.setdefault(kind, set()).add(file_name.rsplit(".", 1)[0])
    for name, obj in objects.items():
        # The Metadata API's CustomObject sequence is alphabetical by element: fields go in their place.
        obj[:] = sorted(obj, key=lambda el: etree.QName(el).localname)
        out[f"objects/{name}.object"] = etree.tostring(obj, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    types = "".join(f"    <types>\n{''.join(f'        <members>{m}</members>{chr(10)}' for m in sorted(names))}"
                    f"        <name>{kind}</name>\n    </types>\n" for kind, names in sorted(members.items()))
    out["package.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="{MD}">\n{types}'
                          f"    <version>{api_version}</version>\n</Package>\n").encode()
    return out


def mdapi_zip(source: Path | dict[str, str] | None = None) -> bytes:
    """The deploy zip of an SFDX package directory (default: force_app()) or of `source_files`-style files."""
    files = to_mdapi(source if isinstance(source, dict) else source_files(source))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in sorted(files.items()):
            zf.writestr(path, data)
    return buffer.getvalue()


def deploy(sf, source: Path | dict[str, str] | None = None, *, timeout: float = 60) -> dict:
    """Deploy through simple-salesforce's Metadata API calls and wait; returns the final status."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "package.zip"
        path.write_bytes(mdapi_zip(source))
        started = sf.deploy(str(path), sandbox=False, checkOnly=False, testLevel="NoTestRun",
                            singlePackage=True, rollbackOnError=True)
    deadline = time.monotonic() + timeout
    while True:
        status = sf.checkDeployStatus(started["asyncId"])
        if status.get("state") in ("Succeeded", "Failed", "SucceededPartial", "Canceled"):
            break
        if time.monotonic() > deadline:
            raise DeployFailed(f"deploy {started['asyncId']} still {status.get('state')} after {timeout:.0f} s")
        time.sleep(0.1)
    if status.get("state") != "Succeeded":
        raise DeployFailed(f"deploy {status.get('state')}: {status.get('deployment_detail') or status}")
    return status
