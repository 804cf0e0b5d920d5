"""Tooling views answered from what is deployed (FlowDefinitionView, FlowVersionView, EntityDefinition, FieldDefinition)."""

import pytest
from mdkit import full_package, make_zip

from slotforce.localorg import LocalOrg
from slotforce.localorg.metadata import attach


@pytest.fixture(scope="module")
def deployed():
    with LocalOrg() as org:
        result = attach(org.org).deploy(make_zip(full_package()), {})
        assert result.success, result.failures
        client = org.client()
        yield org, client
        client.session.close()


def _tooling(sf, soql):
    return sf.restful("tooling/query", params={"q": soql})


def test_flow_definition_view_lists_deployed_flows_with_their_active_version(deployed):
    _, sf = deployed
    out = _tooling(sf, "SELECT Id, ApiName, Label, IsActive, ActiveVersionId, LatestVersionId, ProcessType "
                       "FROM FlowDefinitionView WHERE ApiName = 'Booking_Action_Created'")
    (row,) = out["records"]
    assert out["entityTypeName"] == "FlowDefinitionView" and row["IsActive"] is True
    assert row["Id"].startswith("300") and row["ActiveVersionId"] == row["LatestVersionId"]
    assert row["attributes"]["url"].startswith("/services/data/v62.0/tooling/sobjects/FlowDefinitionView/")
    versions = _tooling(sf, "SELECT VersionNumber, Status, FlowDefinitionView.ApiName FROM FlowVersionView "
                            f"WHERE FlowDefinitionViewId = '{row['Id']}'")["records"]
    assert [(v["VersionNumber"], v["Status"]) for v in versions] == [(1, "Active")]
    assert versions[0]["FlowDefinitionView"]["ApiName"] == "Booking_Action_Created"


def test_entity_and_field_definitions_come_from_the_schema(deployed):
    _, sf = deployed
    (entity,) = _tooling(sf, "SELECT QualifiedApiName, KeyPrefix, Label FROM EntityDefinition "
                             "WHERE QualifiedApiName = 'Booking_Action__c'")["records"]
    assert entity["KeyPrefix"].startswith("a0") and entity["Label"] == "Booking Action"
    fields = _tooling(sf, "SELECT QualifiedApiName, DataType FROM FieldDefinition "
                          "WHERE EntityDefinition.QualifiedApiName = 'Booking_Action__c' ORDER BY QualifiedApiName")
    by_name = {f["QualifiedApiName"]: f["DataType"] for f in fields["records"]}
    assert by_name["Action_Key__c"] == "Text(255)" and by_name["OwnerId"].startswith("Lookup(")
    assert _tooling(sf, "SELECT COUNT() FROM FieldDefinition WHERE EntityDefinitionId = null")["totalSize"] == 0


def test_a_field_the_views_do_not_carry_is_invalid_field_never_a_guess(deployed):
    _, sf = deployed
    resp = sf.session.get(f"{sf.base_url}tooling/query", params={"q": "SELECT Nope FROM FlowDefinitionView"},
                          headers=sf.headers)
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_FIELD"


def test_tooling_columns_answer_for_the_sf_cli(deployed):
    _, sf = deployed
    cols = sf.restful("tooling/query", params={"q": "SELECT ApiName, IsActive FROM FlowDefinitionView",
                                               "columns": "true"})
    assert [c["columnName"] for c in cols["columnMetadata"]] == ["ApiName", "IsActive"]
