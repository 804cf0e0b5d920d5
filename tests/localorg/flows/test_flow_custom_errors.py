"""Custom Error elements: the saved record fails with the message, as a validation rule would."""

from __future__ import annotations

import pytest
from flowkit import flow, https_deploy, package, record_start, split_name

from slotforce.localorg.flows.parser import FlowDefinitionError
from slotforce.package.writer import to_schema_order
from slotforce.package.xsd import validate_text

AT = "<label>x</label><locationX>0</locationX><locationY>0</locationY>"
GUARD = flow("Contact_Email_Guard", f"""
    <decisions>
        <name>Blocked</name>
        {AT}
        <defaultConnectorLabel>Fine</defaultConnectorLabel>
        <rules>
            <name>Is_Blocked</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>$Record.Email</leftValueReference><operator>EndsWith</operator><rightValue><stringValue>@blocked.example</stringValue></rightValue></conditions>
            <connector><targetReference>Refuse</targetReference></connector>
            <label>Is Blocked</label>
        </rules>
    </decisions>
    <customErrors>
        <name>Refuse</name>
        {AT}
        <customErrorMessages>
            <errorMessage>{{!$Record.LastName}} may not use this address</errorMessage>
            <fieldSelection>Email</fieldSelection>
            <isFieldError>true</isFieldError>
        </customErrorMessages>
    </customErrors>""", start="        <locationX>0</locationX><locationY>0</locationY>\n"
                 + record_start("Contact", "Blocked", trigger="RecordBeforeSave", on="CreateAndUpdate"))


def test_a_custom_error_fails_only_its_record_with_the_message_on_the_field(server, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.combined_ca_bundle)
    name, body = split_name(GUARD)
    files = {f"flows/{name}.flow": to_schema_order(body), "package.xml": package({"Flow": [name]})}
    assert [str(p) for p in validate_text(files[f"flows/{name}.flow"], "flows/x.flow")] == []
    assert https_deploy(server, files, tmp_path)["state"] == "Succeeded"
    sf = server.client()
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "Ok", "Email": "ok@fine.example"},
        {"attributes": {"type": "Contact"}, "LastName": "Lin", "Email": "lin@blocked.example"}]})
    assert results[0]["success"] is True
    assert results[1]["success"] is False
    assert results[1]["errors"] == [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                     "message": "Lin may not use this address", "fields": ["Email"]}]
    assert sf.query("SELECT LastName FROM Contact WHERE Email LIKE '%blocked%'")["totalSize"] == 0


def test_a_custom_error_outside_a_record_triggered_flow_is_refused(forg):
    src = GUARD.replace("<object>Contact</object>", "").replace("<triggerType>RecordBeforeSave</triggerType>", "") \
        .replace("<recordTriggerType>CreateAndUpdate</recordTriggerType>", "").replace("$Record.Email", "x") \
        .replace("{!$Record.LastName}", "You")
    with pytest.raises(FlowDefinitionError) as exc:
        forg.deploy(src.replace("<processType>", "<variables><name>x</name><dataType>String</dataType></variables><processType>"))
    assert "custom errors belong to record-triggered flows" in exc.value.message and exc.value.line > 0
