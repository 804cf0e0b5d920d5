"""Flow XML the runtime refuses at deploy, with the line: never run approximately."""

from __future__ import annotations

import pytest
from flowkit import flow, record_start, split_name

from slotforce.localorg.flows import FlowDefinitionError, parse_flow, validate_flow
from slotforce.localorg.models import Org

OK_BODY = """
    <recordCreates>
        <name>Create_Task</name>
        <inputAssignments><field>Subject</field><value><stringValue>Hi</stringValue></value></inputAssignments>
        <object>Task</object>
    </recordCreates>"""


def check(source: str):
    name, xml = split_name(source)
    f = parse_flow(xml.encode(), name)
    validate_flow(f, Org().schema, [f])
    return f


def refused(source: str) -> FlowDefinitionError:
    with pytest.raises(FlowDefinitionError) as exc:
        check(source)
    return exc.value


def line_of(source: str, needle: str) -> int:
    xml = split_name(source)[1]
    return next(i for i, line in enumerate(xml.splitlines(), 1) if needle in line)


def test_a_valid_flow_parses():
    f = check(flow("Ok", OK_BODY, start=record_start("Contact", "Create_Task")))
    assert f.is_record_triggered and f.timing == "after" and list(f.elements) == ["create_task"]


@pytest.mark.parametrize("body, needle, message", [
    ("<screens><name>S</name></screens>", "<screens>", "screens (<screens>) are not supported"),
    ("<waits><name>W</name></waits>", "<waits>", "wait elements (<waits>) are not supported"),
    ("<collectionProcessors><name>C</name><collectionProcessorType>RecommendationMapCollectionProcessor"
     "</collectionProcessorType></collectionProcessors>", "<collectionProcessors>",
     "collectionProcessorType RecommendationMapCollectionProcessor is not supported"),
    ("<collectionProcessors><name>C</name><formula>true</formula></collectionProcessors>", "<formula>",
     "<formula> is not supported"),
    ("<customErrors><name>E</name></customErrors>", "<customErrors>", "customErrors E has no <customErrorMessages>"),
    ("<fancyNewThing>1</fancyNewThing>", "<fancyNewThing>", "<fancyNewThing> is not supported"),
])
def test_unsupported_parts_are_refused_with_their_line(body, needle, message):
    src = flow("Bad", OK_BODY + "\n    " + body, start=record_start("Contact", "Create_Task"))
    err = refused(src)
    assert message in err.message and err.line == line_of(src, needle)


@pytest.mark.parametrize("change, message", [
    (("<object>Task</object>", "<object>Tusk</object>"), "the object Tusk does not exist"),
    (("<field>Subject</field>", "<field>Subjekt__c</field>"), "the field Task.Subjekt__c does not exist"),
    (("<stringValue>Hi</stringValue>", "<stringValue>{!Nope}</stringValue>"), "Nope is not a variable"),
    (("<stringValue>Hi</stringValue>", "<stringValue>{!$Record.Account.Nome}</stringValue>"),
     "the field Account.Nome does not exist"),
    (("<stringValue>Hi</stringValue>", "<stringValue>{!$Record.Acount.Name}</stringValue>"),
     "$Record.Acount.Name: Contact has no parent relationship Acount"),
    (("<stringValue>Hi</stringValue>", "<stringValue>{!$Record.Email.Name}</stringValue>"),
     "Contact has no parent relationship Email"),
    (("<stringValue>Hi</stringValue>", "<stringValue>{!$Permission.Email}</stringValue>"), "the global $Permission"),
    (("<stringValue>Hi</stringValue>", "<stringValue>{!$Record__Prior.Email}</stringValue>"),
     "$Record__Prior is available only in flows that run on update"),
])
def test_unknown_references_are_refused(change, message):
    src = flow("Bad", OK_BODY.replace(*change), start=record_start("Contact", "Create_Task"))
    assert message in refused(src).message


def test_start_problems():
    assert "EventRelation does not support triggers" in refused(
        flow("Bad", OK_BODY, start=record_start("EventRelation", "Create_Task"))).message
    assert "triggerType Scheduled needs a <schedule>" in refused(
        flow("Bad", OK_BODY, start=record_start("Contact", "Create_Task", trigger="Scheduled"))).message
    assert "triggerType PlatformEvent is not supported" in refused(
        flow("Bad", OK_BODY, start=record_start("Contact", "Create_Task", trigger="PlatformEvent"))).message
    assert "goes to Nowhere" in refused(flow("Bad", OK_BODY, start=record_start("Contact", "Nowhere"))).message
    assert "processType Flow is not supported" in refused(
        flow("Bad", OK_BODY, start=record_start("Contact", "Create_Task")).replace(
            "<processType>AutoLaunchedFlow", "<processType>Flow")).message


def test_before_save_flows_may_only_change_the_record():
    err = refused(flow("Bad", OK_BODY, start=record_start("Contact", "Create_Task", trigger="RecordBeforeSave")))
    assert "a before-save flow can only change $Record" in err.message


def test_bad_formula_names_its_line():
    body = OK_BODY + """
    <formulas>
        <name>F</name>
        <dataType>String</dataType>
        <expression>GETSESSIONID()</expression>
    </formulas>"""
    src = flow("Bad", body, start=record_start("Contact", "Create_Task"))
    err = refused(src)
    assert "formula F: function GETSESSIONID() is not supported" in err.message
    assert err.line == line_of(src, "<formulas>")


def test_malformed_xml_names_line_and_column():
    with pytest.raises(FlowDefinitionError) as exc:
        parse_flow(b"<Flow xmlns='http://soap.sforce.com/2006/04/metadata'>\n<label>x</labl>\n</Flow>", "X")
    assert exc.value.line == 2 and "malformed XML" in exc.value.message


def test_upsert_in_create_records_is_refused():
    src = flow("Bad", OK_BODY.replace("<object>Task</object>", "<object>Task</object><doesUpsert>true</doesUpsert>"),
               start=record_start("Contact", "Create_Task"))
    assert "doesUpsert" in refused(src).message


@pytest.mark.parametrize("action, message", [
    ("<actionName>submit</actionName><actionType>submit</actionType>",
     "actionCalls Send_Mail (submit) is not supported by the local org"),
    ("<actionName>Notify</actionName><actionType>apex</actionType>",
     "actionCalls Send_Mail (apex Notify) is not supported by the local org"),
])
def test_a_refused_action_call_names_its_type_and_name(action, message):
    body = f"<actionCalls><name>Send_Mail</name>{action}</actionCalls>"
    src = flow("Bad", OK_BODY + "\n    " + body, start=record_start("Contact", "Create_Task"))
    err = refused(src)
    assert message in err.message and err.line == line_of(src, "<actionCalls>")


@pytest.mark.parametrize("path", ["$Api.Session_ID", "$Api.Partner_Server_URL", "$Api.Metadata_Server_URL_620"])
def test_api_globals_other_than_the_server_urls_are_refused_naming_them(path):
    src = flow("Bad", OK_BODY.replace("<stringValue>Hi</stringValue>", f"<stringValue>{{!{path}}}</stringValue>"),
               start=record_start("Contact", "Create_Task"))
    assert f"{path} is not supported by the local org's flow runtime" in refused(src).message


def test_a_run_in_mode_outside_the_enumeration_is_refused_as_salesforce_refuses_it():
    src = flow("Bad", OK_BODY, start=record_start("Contact", "Create_Task")).replace(
        "<processType>", "<runInMode>SystemModeWitSharing</runInMode><processType>")
    err = refused(src)
    assert "runInMode SystemModeWitSharing is not one of" in err.message and err.line > 0
