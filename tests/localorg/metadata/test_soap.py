"""The Metadata SOAP endpoint over HTTPS, called by unmodified simple-salesforce and CumulusCI."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mdkit import full_package, make_zip

from slotforce.localorg.metadata import soap_endpoint
from slotforce.localorg.models import Org
from slotforce.localorg.server import LocalOrg

ROOT = Path(__file__).resolve().parents[3]
MD = "http://soap.sforce.com/2006/04/metadata"


def envelope(token: str, body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<soap:Header><SessionHeader xmlns="{MD}"><sessionId>{token}</sessionId></SessionHeader></soap:Header>'
            f'<soap:Body>{body}</soap:Body></soap:Envelope>').encode()


def deploy_body(zip_bytes: bytes, check_only: bool = False) -> str:
    return (f'<deploy xmlns="{MD}"><ZipFile>{base64.b64encode(zip_bytes).decode()}</ZipFile><DeployOptions>'
            f'<allowMissingFiles>false</allowMissingFiles><checkOnly>{str(check_only).lower()}</checkOnly>'
            '<rollbackOnError>true</rollbackOnError><singlePackage>true</singlePackage></DeployOptions></deploy>')


def test_envelopes_as_cumulusci_reads_them():
    org = Org()
    status, text = soap_endpoint(org, envelope("wrong", deploy_body(make_zip(full_package()))))
    assert status == 500 and "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in text
    status, text = soap_endpoint(org, envelope(org.access_token, deploy_body(make_zip(full_package()))))
    assert status == 200 and "<done>false</done>" in text and "<state>Queued</state>" in text
    deploy_id = text.split("<id>")[1].split("</id>")[0]
    assert deploy_id.startswith("0Af") and len(deploy_id) == 18
    check = f'<checkDeployStatus xmlns="{MD}"><asyncProcessId>{deploy_id}</asyncProcessId><includeDetails>true</includeDetails></checkDeployStatus>'
    status, text = soap_endpoint(org, envelope(org.access_token, check))
    assert status == 200
    assert "<done>true</done>" in text and "<status>Succeeded</status>" in text and "<success>true</success>" in text
    assert "<componentSuccesses><changed>true</changed><componentType>CustomObject</componentType>" in text
    # CumulusCI parses with minidom getElementsByTagName: result elements must be unprefixed
    from xml.dom.minidom import parseString
    dom = parseString(text)
    assert dom.getElementsByTagName("status")[0].firstChild.nodeValue == "Succeeded"


def test_failure_envelope_has_what_cumulusci_needs():
    org = Org()
    files = full_package()
    files["objects/Contact.object"] = files["objects/Contact.object"].replace("<type>Text</type>", "<type>Strng</type>")
    _, text = soap_endpoint(org, envelope(org.access_token, deploy_body(make_zip(files))))
    deploy_id = text.split("<id>")[1].split("</id>")[0]
    _, text = soap_endpoint(org, envelope(org.access_token, f'<checkDeployStatus xmlns="{MD}"><asyncProcessId>'
                                                           f'{deploy_id}</asyncProcessId></checkDeployStatus>'))
    from xml.dom.minidom import parseString
    dom = parseString(text)
    failure = dom.getElementsByTagName("componentFailures")[0]
    get = lambda tag: failure.getElementsByTagName(tag)[0].firstChild.nodeValue  # noqa: E731
    assert (get("fileName"), get("fullName"), get("problem"), get("problemType")) == (
        "objects/Contact.object", "Contact.Meeting_Type__c", "Invalid field type: Strng", "Error")
    assert get("lineNumber") == "7" and get("created") == "false" and get("deleted") == "false"
    assert "<status>Failed</status>" in text


@pytest.fixture(scope="module")
def server():
    with LocalOrg() as lo:
        yield lo


def test_simple_salesforce_deploy_over_https(server, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.combined_ca_bundle)
    sf = server.client()
    path = tmp_path / "pkg.zip"
    path.write_bytes(make_zip(full_package()))
    result = sf.deploy(str(path), sandbox=False, checkOnly=False, singlePackage=True)
    for _ in range(50):
        status = sf.checkDeployStatus(result["asyncId"])
        if status.get("state") in ("Succeeded", "Failed"):
            break
        time.sleep(0.1)
    assert status["state"] == "Succeeded", status
    created = sf.Booking_Action__c.create({"Action__c": "Created", "Action_Key__c": "soap-1",
                                           "Start__c": "2026-01-05T10:00:00.000+0000"})
    assert created["success"]
    assert sf.query("SELECT Subject FROM Event WHERE Booking_Uid__c = 'soap-1'")["totalSize"] == 1
    perms = sf.query("SELECT Id, Name FROM PermissionSet WHERE Name IN ('Slotforce_Integration')")
    assert perms["totalSize"] == 1


@pytest.mark.slow
def test_cumulusci_deploy_task_and_permission_set_assignment(server, tmp_path):
    cci = Path(sys.executable).with_name("cci")
    if not cci.exists():
        pytest.skip("cci not installed in the venv")
    src = tmp_path / "src"
    for name, content in full_package().items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(content)
    project = tmp_path / "project"
    project.mkdir()
    (project / "cumulusci.yml").write_text("project:\n  name: mdtest\n  package:\n    api_version: '62.0'\n")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    env = dict(os.environ, HOME=str(tmp_path / "home"), CUMULUSCI_DISABLE_REFRESH="1",
               REQUESTS_CA_BUNDLE=server.combined_ca_bundle,
               CUMULUSCI_ORG_local=(f'{{"instance_url": "{server.instance_url}", "access_token": "{server.access_token}", '
                                    f'"org_id": "{server.org_id}", "username": "{server.username}"}}'))
    run = subprocess.run([str(cci), "task", "run", "deploy", "--path", str(src), "--org", "local"], cwd=project,
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Success" in run.stdout
    run = subprocess.run([str(cci), "task", "run", "assign_permission_sets", "--api_names", "Slotforce_Integration",
                          "--org", "local"], cwd=project, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    sf = server.client()
    got = sf.query("SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.Name = 'Slotforce_Integration'")
    assert got["totalSize"] == 1
    # a failing deploy: exit 1, and CumulusCI shows the file, line and problem
    obj = src / "objects" / "Contact.object"
    obj.write_text(obj.read_text().replace("<type>Text</type>", "<type>Strng</type>"))
    run = subprocess.run([str(cci), "task", "run", "deploy", "--path", str(src), "--org", "local"], cwd=project,
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode != 0
    assert "Contact.Meeting_Type__c" in run.stdout + run.stderr and "Invalid field type: Strng" in run.stdout + run.stderr
