"""`cci flow run deploy_package` against the local org: generate, validate, deploy, assign, then book."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slotforce.cci import cci_env, tool_path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.sfcli
@pytest.mark.slow
def test_deploy_package_flow_then_a_booking_becomes_an_event(tmp_path):
    LocalOrg = pytest.importorskip("slotforce.localorg").LocalOrg
    if shutil.which("sf", path=tool_path()) is None:
        pytest.skip("sf CLI not installed (run `make install`)")
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
