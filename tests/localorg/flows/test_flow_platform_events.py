"""Platform events (X__e): deployed, published by a flow's Create Records after commit, listed, never queried."""

from __future__ import annotations

import pytest
import requests
from flowkit import flow, flow_package, https_deploy, record_start

from slotforce.package.xsd import validate_text

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
EVENT = HEADER + """<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
    <eventType>HighVolume</eventType>
    <fields>
        <fullName>Contact_Id__c</fullName>
        <externalId>false</externalId>
        <isFilteringDisabled>false</isFilteringDisabled>
        <isNameField>false</isNameField>
        <isSortingDisabled>false</isSortingDisabled>
        <label>Contact Id</label>
        <length>18</length>
        <required>false</required>
        <type>Text</type>
        <unique>false</unique>
    </fields>
    <label>Contact Signal</label>
    <pluralLabel>Contact Signals</pluralLabel>
    <publishBehavior>PublishAfterCommit</publishBehavior>
</CustomObject>
"""
AT = "<label>x</label><locationX>0</locationX><locationY>0</locationY>"
SIGNAL = flow("Contact_Signal", f"""
    <recordCreates>
        <name>Publish</name>
        {AT}
        <inputAssignments><field>Contact_Id__c</field><value><elementReference>$Record.Id</elementReference></value></inputAssignments>
        <object>Contact_Signal__e</object>
    </recordCreates>""", start="        <locationX>0</locationX><locationY>0</locationY>\n" + record_start("Contact", "Publish"))


def files(*flows: str, event: str = EVENT) -> dict[str, str]:
    return flow_package(*flows, objects={"Contact_Signal__e": event})


def published(server) -> list[dict]:
    r = requests.get(f"{server.instance_url}/__localorg__/events", verify=server.combined_ca_bundle,
                     headers={"Authorization": f"Bearer {server.access_token}"})
    assert r.status_code == 200, r.text
    return r.json()["events"]


def test_the_files_are_valid_against_the_xsd():
    for name, body in files(SIGNAL).items():
        if name != "package.xml":
            assert [str(p) for p in validate_text(body, name)] == [], name


def test_a_flow_publishes_events_after_commit_and_they_cannot_be_queried(server, sf, tmp_path):
    status = https_deploy(server, files(SIGNAL), tmp_path)
    assert status["state"] == "Succeeded", status
    cid = sf.Contact.create({"LastName": "Lin"})["id"]
    [event] = published(server)
    assert (event["sobject"], event["fields"]["Contact_Id__c"][:15], event["flow"]) == (
        "Contact_Signal__e", cid[:15], "Contact_Signal")
    with pytest.raises(Exception) as exc:  # a rolled-back save publishes nothing
        sf.Contact.create({"LastName": "Bad", "Email": "not an address"})
    assert "INVALID_EMAIL_ADDRESS" in str(exc.value)
    assert len(published(server)) == 1
    with pytest.raises(Exception) as exc:
        sf.query("SELECT Contact_Id__c FROM Contact_Signal__e")
    assert "INVALID_TYPE" in str(exc.value) or "not supported" in str(exc.value)


@pytest.mark.parametrize("change, message", [
    ("<publishBehavior>PublishAfterCommit</publishBehavior>", "publishBehavior PublishImmediately is not supported"),
])
def test_publish_immediately_is_refused_naming_it(server, sf, tmp_path, change, message):
    status = https_deploy(server, files(SIGNAL, event=EVENT.replace(change, "<publishBehavior>PublishImmediately"
                                                                          "</publishBehavior>")), tmp_path)
    assert any(message in e["message"] for e in status["deployment_detail"]["errors"]), status


def test_get_records_on_a_platform_event_is_refused(server, sf, tmp_path):
    query = flow("Contact_Signal_Read", f"""
    <recordLookups>
        <name>Read</name>
        {AT}
        <getFirstRecordOnly>true</getFirstRecordOnly>
        <object>Contact_Signal__e</object>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>""", start="        <locationX>0</locationX><locationY>0</locationY>\n" + record_start("Contact", "Read"))
    status = https_deploy(server, files(query), tmp_path)
    assert any("Contact_Signal__e is a platform event: it can only be published" in e["message"]
               for e in status["deployment_detail"]["errors"]), status
