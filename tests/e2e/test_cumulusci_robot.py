"""CumulusCI end to end: deploy the package with `cci flow run deploy_package`, then run the Robot suite.

The story a release engineer tells: start the local org, export its environment, deploy force-app
with the project's own flow (sf converts the SFDX source), and let `cci task run robot` check every
booking change through the API keywords. A red Robot test must turn the cci run red as well.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sfcli, pytest.mark.slow]

SUITES = Path(__file__).resolve().parents[2] / "robot" / "slotforce" / "tests"


def robot_totals(output_xml: Path) -> dict[str, int]:
    """pass/fail/skip of all tests, from the <statistics><total> block of Robot's output.xml."""
    stat = ET.parse(output_xml).getroot().find("./statistics/total/stat")
    return {k: int(stat.get(k)) for k in ("pass", "fail", "skip")}


def robot_messages(output_xml: Path) -> list[str]:
    """Warnings and errors Robot reported outside the tests (bad syntax, deprecated settings, import failures)."""
    return [f"{m.get('level')}: {m.text}" for m in ET.parse(output_xml).getroot().find("errors")]


def robot_test_names(output_xml: Path) -> set[str]:
    return {t.get("name") for t in ET.parse(output_xml).getroot().iter("test")}


def test_deploy_package_flow_deploys_force_app_and_assigns_the_permission_set(deployed_org):
    out = deployed_org.deploy_result.stdout
    for step in ("generate_package", "validate_package", "deploy", "assign_permission_sets"):
        assert f"Running task: {step}" in out
    assert "Converting from SFDX to MDAPI format." in out  # the real sf CLI did the conversion
    assert "Completed flow 'deploy_package' on org local successfully!" in out

    sf = deployed_org.client()
    assigned = sf.query("SELECT PermissionSet.Name, AssigneeId FROM PermissionSetAssignment")["records"]
    assert ("Slotforce_Integration", deployed_org.info["user_id"]) in {
        (a["PermissionSet"]["Name"], a["AssigneeId"]) for a in assigned}
    fields = {f["name"] for f in sf.Booking_Action__c.describe()["fields"]}
    assert {"Action_Key__c", "Guest_Emails__c", "Co_Host_Emails__c", "Previous_Booking_Uid__c"} <= fields


def test_robot_suite_passes_against_the_deployed_package(deployed_org, tmp_path):
    results = tmp_path / "robot"
    run = deployed_org.cci("task", "run", "robot", "--org", "local", "-o", "options", f"outputdir:{results}")
    report = f"{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    assert run.returncode == 0, report

    totals = robot_totals(results / "output.xml")
    assert totals["fail"] == 0 and totals["skip"] == 0, report
    # every test in robot/slotforce/tests ran (a suite that failed to parse would run none of its tests)
    declared = sum(_test_count(p) for p in SUITES.glob("*.robot"))
    assert totals["pass"] == declared >= 25, (totals, declared)
    assert robot_messages(results / "output.xml") == []
    names = robot_test_names(results / "output.xml")
    assert {"Guests And Co-Hosts Are Invited", "Cancel In Delete Mode Deletes The Event",
            "Cancel In Keep Mode Marks The Event Canceled", "No-Show Is Set, Then Cleared",
            "Reschedule With A New Uid Finds The Event By The Previous Uid",
            "A Change For An Unknown Booking Fails With The Reason",
            "Profile Link Is Mapped To The Active User"} <= names


def test_a_failing_robot_test_fails_the_cci_task(deployed_org, tmp_path):
    suite = tmp_path / "suite" / "red.robot"
    suite.parent.mkdir()
    suite.write_text(RED_SUITE)
    results = tmp_path / "robot"
    run = deployed_org.cci("task", "run", "robot", "--org", "local", "-o", "suites", str(suite.parent),
                           "-o", "options", f"outputdir:{results}")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "1 test failed" in run.stdout + run.stderr
    assert robot_totals(results / "output.xml") == {"pass": 1, "fail": 1, "skip": 0}


RED_SUITE = """\
*** Settings ***
Library    cumulusci.robotframework.CumulusCI    ${ORG}
Library    cumulusci.robotframework.SalesforceAPI

*** Test Cases ***
The Admin Is Active
    @{users}=    Salesforce Query    User    select=Id    where=IsActive = true
    Should Not Be Empty    ${users}

A Booking Nobody Made Has An Event
    @{events}=    Salesforce Query    Event    Booking_Uid__c=no-such-booking
    Length Should Be    ${events}    1
"""


def _test_count(suite: Path) -> int:
    """Test cases declared in a .robot file: unindented lines inside *** Test Cases ***."""
    count, in_tests = 0, False
    for line in suite.read_text().splitlines():
        if line.startswith("***"):
            in_tests = "test case" in line.lower()
        elif in_tests and line and not line[0].isspace() and not line.startswith("#"):
            count += 1
    return count
