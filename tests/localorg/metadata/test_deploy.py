"""Metadata deploys into a local org: what lands in the schema, flows, permission sets; what fails."""

from __future__ import annotations

import pytest
from mdkit import FLOW, full_package, make_zip, package_xml

from slotforce.localorg import records
from slotforce.localorg.metadata import attach
from slotforce.localorg.models import Org


@pytest.fixture
def org():
    return Org()


def deploy(org, files, **options):
    return attach(org).deploy(make_zip(files), options)


def failures(result):
    return [(c.file_name, c.full_name, c.line, c.problem) for c in result.failures]


def insert(org, sobject, rows):
    with org.transaction() as ctx:
        results = records.save(ctx, "insert", org.sobject(sobject), rows, all_or_none=True)
    assert all(r.success for r in results), [r.errors for r in results]
    return [r.id for r in results]


def test_full_package_deploys_schema_flow_and_permission_set(org):
    result = deploy(org, full_package())
    assert result.status == "Succeeded", failures(result)
    ba = org.schema.get("Booking_Action__c")
    assert ba is not None and ba.key_prefix.startswith("a")
    key = ba.field("Action_Key__c")
    assert (key.type, key.length, key.external_id, key.unique) == ("string", 255, True, True)
    assert ba.field("Description__c").type == "textarea" and ba.field("Description__c").length == 32000
    assert (ba.field("Organizer_Email__c").type, ba.field("Organizer_Email__c").length) == ("email", 80)
    assert (ba.field("Meeting_Url__c").type, ba.field("Meeting_Url__c").length) == ("url", 255)
    assert ba.field("Start__c").type == "datetime"
    assert ba.field("Active__c").type == "boolean" and ba.field("Active__c").default_value is True
    status = ba.field("Status__c")
    assert status.restricted_picklist and [v.value for v in status.picklist_values] == ["Pending", "Processed"]
    user = ba.field("User__c")
    assert (user.type, user.reference_to, user.relationship_name) == ("reference", ["User"], "User__r")
    assert org.schema.get("User").child_relationship("Booking_Actions__r") is not None
    assert org.schema.get("Contact").field("Meeting_Type__c").length == 100
    assert org.schema.get("Event").field("Booking_Uid__c").external_id
    assert org.schema.get("Task").field("Booking_Uid__c") is not None
    perm = org.execute_query("SELECT Id, Name, Label FROM PermissionSet WHERE Name = 'Slotforce_Integration'").records
    assert perm and perm[0]["Label"] == "Slotforce Integration"
    kinds = sorted({c.component_type for c in result.components})
    assert kinds == ["CustomField", "CustomObject", "Flow", "Layout", "PermissionSet"]


def test_deployed_flow_runs_and_auto_number_names_records(org):
    assert deploy(org, full_package()).success
    insert(org, "Booking_Action__c", [{"Action__c": "Created", "Action_Key__c": "k1",
                                       "Start__c": "2026-01-05T10:00:00.000+0000"},
                                      {"Action__c": "Canceled", "Action_Key__c": "k2"}])
    names = [r["Name"] for r in org.execute_query("SELECT Name FROM Booking_Action__c ORDER BY Name").records]
    assert names == ["BA-00000001", "BA-00000002"]
    events = org.execute_query("SELECT Subject, Booking_Uid__c, StartDateTime FROM Event").records
    assert [(e["Subject"], e["Booking_Uid__c"]) for e in events] == [("Booking BA-00000001", "k1")]
    assert events[0]["StartDateTime"].startswith("2026-01-05T10:00:00")
    status = org.execute_query("SELECT Status__c FROM Booking_Action__c WHERE Action_Key__c = 'k1'").records
    assert status[0]["Status__c"] == "Pending"


def test_redeploy_is_an_update_not_a_duplicate(org):
    first = deploy(org, full_package())
    fields_before = len(org.schema.get("Booking_Action__c").fields)
    second = deploy(org, full_package())
    assert second.success
    assert len(org.schema.get("Booking_Action__c").fields) == fields_before
    assert not any(c.created for c in second.components)
    assert len(org.execute_query("SELECT Id FROM PermissionSet WHERE Name = 'Slotforce_Integration'").records) == 1
    assert len(attach(org).registry.definition("Booking_Action_Created").versions) == 1
    assert first.id != second.id


def test_check_only_changes_nothing(org):
    result = deploy(org, full_package(), checkOnly=True)
    assert result.success and result.check_only
    assert org.schema.get("Booking_Action__c") is None
    assert attach(org).registry.definition("Booking_Action_Created") is None


def test_bad_field_type_fails_the_whole_deploy_naming_file_and_line(org):
    files = full_package()
    files["objects/Booking_Action__c.object"] = files["objects/Booking_Action__c.object"].replace(
        "<type>DateTime</type>", "<type>Strng</type>")
    result = deploy(org, files)
    assert result.status == "Failed"
    [(file_name, full_name, line, problem)] = failures(result)[:1]
    assert (file_name, full_name, problem) == ("objects/Booking_Action__c.object", "Booking_Action__c.Start__c",
                                               "Invalid field type: Strng")
    text = files["objects/Booking_Action__c.object"].splitlines()
    assert "<type>Strng</type>" in text[line - 1]
    assert org.schema.get("Booking_Action__c") is None
    assert org.schema.get("Contact").field("Meeting_Type__c") is None


def test_malformed_xml_names_the_line(org):
    files = full_package()
    files["permissionsets/Slotforce_Integration.permissionset"] = files[
        "permissionsets/Slotforce_Integration.permissionset"].replace("</label>", "</labl>")
    result = deploy(org, files)
    assert not result.success
    [(file_name, _, line, problem)] = failures(result)
    assert file_name == "permissionsets/Slotforce_Integration.permissionset"
    assert "malformed XML" in problem and line > 1
    assert org.schema.get("Booking_Action__c") is None


def test_flow_with_unknown_field_is_refused(org):
    files = full_package()
    files["flows/Booking_Action_Created.flow"] = FLOW.replace("$Record.Start__c", "$Record.Begin__c")
    result = deploy(org, files)
    [(file_name, full_name, line, problem)] = failures(result)
    assert (file_name, full_name) == ("flows/Booking_Action_Created.flow", "Booking_Action_Created")
    assert "Booking_Action__c.Begin__c does not exist" in problem
    assert "Begin__c" in FLOW.replace("$Record.Start__c", "$Record.Begin__c").splitlines()[line - 1]


def test_flow_with_an_element_the_runtime_lacks_is_refused(org):
    files = full_package()
    files["flows/Booking_Action_Created.flow"] = FLOW.replace("<processType>", """<actionCalls>
        <name>Send_Email</name><actionName>chatterPost</actionName><actionType>chatterPost</actionType>
    </actionCalls>
    <processType>""")
    [(_, _, line, problem)] = failures(deploy(org, files))
    assert "actionCalls Send_Email (chatterPost) is not supported by the local org's flow runtime" in problem
    assert line == 5


def test_permission_set_on_unknown_field_fails(org):
    files = full_package()
    files["permissionsets/Slotforce_Integration.permissionset"] = files[
        "permissionsets/Slotforce_Integration.permissionset"].replace("Contact.Meeting_Type__c", "Contact.Nope__c")
    [(_, _, _, problem)] = failures(deploy(org, files))
    assert problem == "In field: field - no CustomField named Contact.Nope__c found"


def test_malformed_zip_and_missing_members(org):
    result = attach(org).deploy(b"not a zip", {})
    assert not result.success and "not a valid zip" in result.failures[0].problem
    files = full_package()
    del files["layouts/Booking_Action__c-Booking Action Layout.layout"]
    problems = [p for *_, p in failures(deploy(org, files))]
    assert problems == ["An object 'Booking_Action__c-Booking Action Layout' of type Layout was named in "
                        "package.xml, but was not found in zipped directory"]


def test_flow_definition_deactivates_and_reactivates(org):
    assert deploy(org, full_package()).success
    files = {"package.xml": package_xml({"FlowDefinition": ["Booking_Action_Created"]}),
             "flowDefinitions/Booking_Action_Created.flowDefinition":
                 '<?xml version="1.0" encoding="UTF-8"?><FlowDefinition xmlns="http://soap.sforce.com/2006/04/metadata">'
                 "<activeVersionNumber>0</activeVersionNumber></FlowDefinition>"}
    assert deploy(org, files).success
    insert(org, "Booking_Action__c", [{"Action__c": "Created", "Action_Key__c": "k1"}])
    assert org.execute_query("SELECT Id FROM Event").records == []
    files["flowDefinitions/Booking_Action_Created.flowDefinition"] = files[
        "flowDefinitions/Booking_Action_Created.flowDefinition"].replace(">0<", ">1<")
    assert deploy(org, files).success
    insert(org, "Booking_Action__c", [{"Action__c": "Created", "Action_Key__c": "k2",
                                       "Start__c": "2026-01-05T10:00:00.000+0000"}])
    assert len(org.execute_query("SELECT Id FROM Event").records) == 1


def test_deployed_schema_and_flows_persist_in_the_state_file(tmp_path):
    path = str(tmp_path / "org.db")
    org = Org(path)
    assert deploy(org, full_package()).success
    insert(org, "Booking_Action__c", [{"Action__c": "Canceled", "Action_Key__c": "k0"}])
    org.close()
    again = Org(path)
    attach(again)  # what the server does when it starts
    insert(again, "Booking_Action__c", [{"Action__c": "Created", "Action_Key__c": "k1",
                                         "Start__c": "2026-01-05T10:00:00.000+0000"}])
    assert [e["Subject"] for e in again.execute_query("SELECT Subject FROM Event").records] == ["Booking BA-00000002"]


def test_an_org_reset_keeps_deployed_configuration(org):
    assert deploy(org, full_package()).success
    insert(org, "Booking_Action__c", [{"Action__c": "Canceled", "Action_Key__c": "k0"}])
    org.reset()
    assert org.execute_query("SELECT Id FROM Booking_Action__c").records == []
    assert len(org.execute_query("SELECT Id FROM PermissionSet WHERE Name = 'Slotforce_Integration'").records) == 1
    insert(org, "Booking_Action__c", [{"Action__c": "Created", "Action_Key__c": "k1",
                                       "Start__c": "2026-01-05T10:00:00.000+0000"}])
    assert len(org.execute_query("SELECT Id FROM Event").records) == 1  # flows still run


def test_versioned_flow_files_and_flow_definition_activation(org):
    assert deploy(org, full_package()).success
    v1 = FLOW.replace("<status>Active</status>", "<status>Draft</status>")
    v2 = v1.replace("Booking {!$Record.Name}", "Version two {!$Record.Name}")

    def definition(number):
        return ('<?xml version="1.0" encoding="UTF-8"?><FlowDefinition xmlns="http://soap.sforce.com/2006/04/'
                f'metadata"><activeVersionNumber>{number}</activeVersionNumber></FlowDefinition>')

    files = {"package.xml": package_xml({"Flow": ["Old_Style-1"], "FlowDefinition": ["Old_Style"]}),
             "flows/Old_Style-1.flow": v1, "flowDefinitions/Old_Style.flowDefinition": definition(1)}
    assert deploy(org, files).success
    assert deploy(org, {"package.xml": package_xml({"FlowDefinition": ["Booking_Action_Created"]}),
                        "flowDefinitions/Booking_Action_Created.flowDefinition": definition(0)}).success
    insert(org, "Booking_Action__c", [{"Action__c": "Created", "Action_Key__c": "k1",
                                       "Start__c": "2026-01-05T10:00:00.000+0000"}])
    files = {"package.xml": package_xml({"Flow": ["Old_Style-2"], "FlowDefinition": ["Old_Style"]}),
             "flows/Old_Style-2.flow": v2, "flowDefinitions/Old_Style.flowDefinition": definition(2)}
    assert deploy(org, files).success
    insert(org, "Booking_Action__c", [{"Action__c": "Created", "Action_Key__c": "k2",
                                       "Start__c": "2026-01-05T10:00:00.000+0000"}])
    subjects = sorted(e["Subject"] for e in org.execute_query("SELECT Subject FROM Event").records)
    assert subjects == ["Booking BA-00000001", "Version two BA-00000002"]
    gap = {"package.xml": package_xml({"Flow": ["Old_Style-5"]}), "flows/Old_Style-5.flow": v2}
    [(_, _, _, problem)] = failures(deploy(org, gap))
    assert problem == "version 5 of flow Old_Style cannot be deployed before version 3"
