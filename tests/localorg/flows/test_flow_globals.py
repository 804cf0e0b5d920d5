"""$Setup hierarchy custom settings and $Api server URLs, deployed and run over HTTPS."""

from __future__ import annotations

import pytest
from flowkit import flow, flow_package, https_deploy, record_start

from slotforce.localorg.flows.parser import FlowDefinitionError
from slotforce.package.xsd import validate_text

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
SETTINGS = HEADER + """<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <customSettingsType>Hierarchy</customSettingsType>
    <enableFeeds>false</enableFeeds>
    <fields>
        <fullName>Greeting__c</fullName>
        <externalId>false</externalId>
        <label>Greeting</label>
        <length>80</length>
        <required>false</required>
        <type>Text</type>
        <unique>false</unique>
    </fields>
    <fields>
        <fullName>Level__c</fullName>
        <externalId>false</externalId>
        <label>Level</label>
        <precision>4</precision>
        <required>false</required>
        <scale>0</scale>
        <type>Number</type>
        <unique>false</unique>
    </fields>
    <fields>
        <fullName>Enabled__c</fullName>
        <defaultValue>false</defaultValue>
        <externalId>false</externalId>
        <label>Enabled</label>
        <type>Checkbox</type>
    </fields>
    <label>Gadget Settings</label>
    <visibility>Public</visibility>
</CustomObject>
"""
GADGET = HEADER + """<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
    <fields>
        <fullName>Note__c</fullName>
        <externalId>false</externalId>
        <label>Note</label>
        <length>255</length>
        <required>false</required>
        <type>Text</type>
        <unique>false</unique>
    </fields>
    <fields>
        <fullName>Level__c</fullName>
        <externalId>false</externalId>
        <label>Level</label>
        <precision>4</precision>
        <required>false</required>
        <scale>0</scale>
        <type>Number</type>
        <unique>false</unique>
    </fields>
    <label>Gadget</label>
    <nameField><label>Gadget Name</label><type>Text</type></nameField>
    <pluralLabel>Gadgets</pluralLabel>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
"""
USE_SETTINGS = flow("Gadget_Settings_Apply", """
    <assignments>
        <name>Apply</name>
        <label>Apply</label><locationX>0</locationX><locationY>0</locationY>
        <assignmentItems><assignToReference>$Record.Note__c</assignToReference><operator>Assign</operator>
            <value><elementReference>Note</elementReference></value></assignmentItems>
        <assignmentItems><assignToReference>$Record.Level__c</assignToReference><operator>Assign</operator>
            <value><elementReference>$Setup.Gadget_Settings__c.Level__c</elementReference></value></assignmentItems>
    </assignments>
    <formulas>
        <name>Base_Url</name>
        <dataType>String</dataType>
        <expression>LEFT({!$Api.Partner_Server_URL_620}, FIND('/services', {!$Api.Partner_Server_URL_620}) - 1)</expression>
    </formulas>
    <textTemplates>
        <name>Note</name>
        <text>{!$Setup.Gadget_Settings__c.Greeting__c}|{!$Setup.Gadget_Settings__c.Enabled__c}|{!Base_Url}|{!$Api.Enterprise_Server_URL_590}</text>
    </textTemplates>""", start="        <locationX>0</locationX><locationY>0</locationY>\n"
   + record_start("Gadget__c", "Apply", trigger="RecordBeforeSave"))


def files(*flows: str) -> dict[str, str]:
    return flow_package(*flows, objects={"Gadget_Settings__c": SETTINGS, "Gadget__c": GADGET})


@pytest.fixture
def sf(server, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.combined_ca_bundle)
    return server.client()


def test_the_metadata_files_are_valid_against_the_xsd():
    for name, body in files(USE_SETTINGS).items():
        if name != "package.xml":
            assert [str(p) for p in validate_text(body, name)] == [], name


def test_setup_resolves_user_then_profile_then_org_default_field_by_field(server, sf, tmp_path):
    status = https_deploy(server, files(USE_SETTINGS), tmp_path)
    assert status["state"] == "Succeeded", status
    assert sf.Gadget_Settings__c.describe()["customSetting"] is True
    # Nothing set anywhere: blank values (a Checkbox reads false).
    sf.Gadget__c.create({"Name": "g0"})
    [g0] = sf.query("SELECT Note__c, Level__c FROM Gadget__c WHERE Name = 'g0'")["records"]
    base = server.instance_url
    assert g0["Note__c"] == f"|false|{base}|{base}/services/Soap/c/59.0/{server.org_id[:15]}"
    assert g0["Level__c"] is None

    org_default = sf.Gadget_Settings__c.create({"Greeting__c": "Hello", "Level__c": 1, "Enabled__c": True})
    [row] = sf.query("SELECT SetupOwnerId FROM Gadget_Settings__c")["records"]
    assert row["SetupOwnerId"][:15] == server.org_id[:15]  # saved without a location: the org default
    me = sf.query(f"SELECT Id, ProfileId FROM User WHERE Id = '{server.org.user_id}'")["records"][0]
    sf.Gadget_Settings__c.create({"SetupOwnerId": me["ProfileId"], "Greeting__c": "Hi admins"})
    sf.Gadget_Settings__c.create({"SetupOwnerId": me["Id"], "Level__c": 7})
    sf.Gadget__c.create({"Name": "g1"})
    [g1] = sf.query("SELECT Note__c, Level__c FROM Gadget__c WHERE Name = 'g1'")["records"]
    # Greeting from the profile, Level from the user; a checkbox is never blank, so the user's
    # record's false wins over the org default's true.
    assert g1["Note__c"].startswith("Hi admins|false|https://127.0.0.1:")
    assert g1["Level__c"] == 7

    with pytest.raises(Exception) as exc:  # one record per location
        sf.Gadget_Settings__c.create({"Greeting__c": "again"})
    assert "DUPLICATE_VALUE" in str(exc.value)
    account = sf.Account.create({"Name": "Acme"})["id"]
    with pytest.raises(Exception) as exc:
        sf.Gadget_Settings__c.create({"SetupOwnerId": account})
    assert "FIELD_INTEGRITY_EXCEPTION" in str(exc.value)
    sf.Gadget_Settings__c.delete(org_default["id"])


@pytest.mark.parametrize("change, message", [
    ("$Setup.Gadget_Settings__c.Level__c<", "$Setup.Gadget__c.Level__c: Gadget__c is not a hierarchy custom setting"),
    ("$Setup.Gadget_Settings__c.Level__c<", "the field Gadget_Settings__c.Nope__c does not exist"),
    ("$Api.Partner_Server_URL_620}, FIND", "$Api.Session_ID is not supported by the local org's flow runtime"),
])
def test_unknown_settings_fields_and_session_ids_are_refused_naming_the_line(server, sf, tmp_path, change, message):
    wrong = {"$Setup.Gadget__c.Level__c": "$Setup.Gadget__c.Level__c<",
             "Nope__c": "$Setup.Gadget_Settings__c.Nope__c<", "Session_ID": "$Api.Session_ID}, FIND"}
    replacement = next(v for k, v in wrong.items() if k in message)
    status = https_deploy(server, files(USE_SETTINGS.replace(change, replacement)), tmp_path)
    assert status["state"] == "Failed"
    [error] = status["deployment_detail"]["errors"]
    assert error["file"] == "flows/Gadget_Settings_Apply.flow" and message in error["message"], error


WHO = flow("Who_Saved", """
    <assignments>
        <name>Sign</name>
        <label>Sign</label><locationX>0</locationX><locationY>0</locationY>
        <assignmentItems><assignToReference>$Record.Subject__c</assignToReference><operator>Assign</operator>
            <value><stringValue>{!$User.FirstName} {!$User.LastName} ({!$Profile.Name}) at {!$Organization.Name}</stringValue></value></assignmentItems>
    </assignments>""", start=record_start("Booking__c", "Sign", trigger="RecordBeforeSave"))


def test_user_profile_and_organization_globals_read_the_running_user(forg):
    forg.deploy(WHO)
    forg.save("insert", "Booking__c", [{"Action__c": "Created"}])
    [row] = forg.query("SELECT Subject__c FROM Booking__c")
    assert row["Subject__c"] == "Local Admin (System Administrator) at slotforce local org"


def test_unknown_user_fields_and_paths_from_globals_are_refused(forg):
    with pytest.raises(FlowDefinitionError) as exc:
        forg.deploy(WHO.replace("$User.LastName", "$User.Nope__c"))
    assert "the field User.Nope__c does not exist" in exc.value.message
    with pytest.raises(FlowDefinitionError) as exc:
        forg.deploy(WHO.replace("$User.LastName", "$User.Profile.Name"))
    assert "$User takes one field of User" in exc.value.message
