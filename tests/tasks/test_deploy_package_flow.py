"""`cci flow run deploy_package` against the local org: generate, validate, deploy, assign, then book."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slotforce.cci import cci_env, tool_path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _local_org_class():
    """LocalOrg, once the sf CLI (which the deploy step runs) is known to be installed."""
    if shutil.which("sf", path=tool_path()) is None:
        pytest.skip("sf CLI not installed (run `make install`)")
    return pytest.importorskip("slotforce.localorg").LocalOrg


@pytest.mark.sfcli
@pytest.mark.slow
def test_deploy_package_flow_then_a_booking_becomes_an_event(tmp_path):
    LocalOrg = _local_org_class()
    out = tmp_path / "force-app"
    with LocalOrg(tmp_path / "org") as org:
        env = cci_env(tmp_path / "home", org.env_exports())
        options = [a for step in ("generate_package", "validate_package", "deploy") for a in ("-o", f"{step}__path", str(out))]
        result = subprocess.run([str(BIN / "cci"), "flow", "run", "deploy_package", "--org", "local", *options],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Completed flow 'deploy_package'" in result.stdout

        sf = org.client()
        assigned = sf.query("SELECT PermissionSet.Name, AssigneeId FROM PermissionSetAssignment")["records"]
        assert {(a["PermissionSet"]["Name"], a["AssigneeId"]) for a in assigned} >= {("Slotforce_Integration", org.user_id)}

        who = sf.Contact.create({"LastName": "Ann", "Email": "ann@example.com"})["id"]
        sf.Booking_Action__c.upsert("Action_Key__c/calcom:b-1:Created:1", {
            "Action__c": "Created", "Booking_Uid__c": "b-1", "Subject__c": "Intro call", "Who_Id__c": who,
            "Start__c": "2026-12-01T10:00:00Z", "End__c": "2026-12-01T10:30:00Z"})
        action = sf.query("SELECT Name, Status__c, Event_Id__c FROM Booking_Action__c")["records"][0]
        assert action["Name"] == "BA-00000001" and action["Status__c"] == "Processed"
        event = sf.query(f"SELECT Subject, WhoId FROM Event WHERE Id = '{action['Event_Id__c']}'")["records"][0]
        assert (event["Subject"], event["WhoId"]) == ("Intro call", who)


def _admin_project(root: Path, extensions: str) -> Path:
    """A project of an admin's: this checkout's CumulusCI config and tasks, a git repo, their extensions.yml."""
    root.mkdir()
    for name in ("cumulusci.yml", "sfdx-project.json"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "tasks", root / "tasks", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "extensions.yml").write_text(extensions)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    return root


@pytest.mark.sfcli
@pytest.mark.slow
def test_an_admins_extensions_yml_is_deployed_by_the_flow_and_a_bad_one_deploys_nothing(tmp_path):
    """issue 10.1: nothing to pass anywhere; a YAML error names file and key path, and nothing is deployed."""
    LocalOrg = _local_org_class()
    good = _admin_project(tmp_path / "good", (REPO / "extensions.example.yml").read_text())
    bad = _admin_project(tmp_path / "bad", "objects:\n  Lead:\n    fields:\n      - api_name: Tier__c\n"
                                           "        type: Text\n        length: 900\n        label: Tier\n"
                                           "        description: Why.\n")
    with LocalOrg(tmp_path / "org") as org:
        env = cci_env(tmp_path / "home", org.env_exports())
        failed = subprocess.run([str(BIN / "cci"), "flow", "run", "deploy_package", "--org", "local"],
                                cwd=bad, env=env, capture_output=True, text=True, timeout=240)
        assert failed.returncode != 0
        said = "".join((failed.stdout + failed.stderr).split())  # rich wraps long lines anywhere
        assert f"{bad / 'extensions.yml'}:objects.Lead.fields[0].length" in said
        sf = org.client()
        assert "Booking_Action__c" not in {o["name"] for o in sf.describe()["sobjects"]}  # nothing deployed

        result = subprocess.run([str(BIN / "cci"), "flow", "run", "deploy_package", "--org", "local"],
                                cwd=good, env=env, capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert f"Adminfieldsfrom{good / 'extensions.yml'}" in "".join(result.stdout.split())
        fields = {f["name"] for f in sf.Contact.describe()["fields"]}
        assert {"Last_Booking_Status__c", "Last_Cancel_Date__c", "Meeting_Type__c"} <= fields
