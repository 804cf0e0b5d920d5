"""The Flow model refuses what Salesforce, the Flow Scanner or bulk-safety would refuse."""

import pytest
from pydantic import ValidationError

from slotforce.package.flow import (
    FALSE, Assignment, AssignmentItem, Condition, Decision, Flow, Loop, RecordCreate, RecordFilter,
    RecordLookup, RecordUpdate, Rule, Start, Variable, ref, text,
)

START = Start(next="Get", object="Booking_Action__c", trigger_type="RecordAfterSave", record_trigger_type="Create")


def lookup(**kw):
    base = dict(name="Get", object="Contact", output="Found", fields=["Id"],
                filters=[RecordFilter(field="Email", operator="EqualTo", value=ref("$Record.Invitee_Email__c"))],
                next=None, fault="Failed")
    return RecordLookup(**{**base, **kw})


FAILED = RecordUpdate(name="Failed", object="Booking_Action__c",
                      filters=[RecordFilter(field="Id", operator="EqualTo", value=ref("$Record.Id"))],
                      values=[{"field": "Error__c", "value": ref("$Flow.FaultMessage")}])
FOUND = Variable(name="Found", data_type="SObject", object_type="Contact")


def flow(elements, variables=(FOUND,), start=START, **kw):
    return Flow(api_name="Test_Flow", label="Test", description="d", start=start, elements=elements,
                variables=list(variables), **kw)


def test_a_small_valid_flow():
    f = flow([lookup(), FAILED])
    assert f.record_triggered and [e.name for e in f.by_kind("recordLookups")] == ["Get"]


def test_dml_inside_a_loop_is_refused():
    items = Variable(name="Items", data_type="SObject", object_type="Contact", collection=True)
    item = Variable(name="Item", data_type="SObject", object_type="Contact")
    elements = [
        lookup(first_only=False, output="Items", next="Each"),
        Loop(name="Each", collection="Items", item="Item", each="Save"),
        RecordUpdate(name="Save", input_reference="Item", next="Each", fault="Failed"),
        FAILED,
    ]
    with pytest.raises(ValidationError, match=r"Save runs inside a loop .*one query or DML outside the loop"):
        flow(elements, [items, item])


def test_query_on_a_goto_cycle_is_refused():
    elements = [
        lookup(next="Again"),
        Decision(name="Again", rules=[Rule(name="Yes", conditions=[Condition(
            left="Found", operator="IsNull", right=FALSE)], next="Get")]),
        FAILED,
    ]
    with pytest.raises(ValidationError, match="Get runs inside a loop"):
        flow(elements)


def test_every_data_element_needs_a_fault_path_unless_it_is_one():
    with pytest.raises(ValidationError, match="Get has no fault connector"):
        flow([lookup(fault=None)])


@pytest.mark.parametrize("elements, words", [
    ([lookup(next="Nowhere"), FAILED], "points to unknown element Nowhere"),
    ([lookup(output="Missing"), FAILED], "references Missing, which is not defined"),
    ([lookup(), FAILED, Assignment(name="Orphan", items=[AssignmentItem(to="Found", value=ref("Found"))])],
     "Orphan is not reachable"),
    ([lookup(), FAILED, Assignment(name="Get", items=[])], "Get is defined twice"),
    ([lookup(filters=[RecordFilter(field="Email", operator="EqualTo", value=text("{!Nope}"))]), FAILED],
     "references Nope"),
    ([lookup(filters=[RecordFilter(field="Email", operator="EqualTo", value=ref("$Record__Prior.Email"))]), FAILED],
     r"\$Record__Prior, which only update triggers have"),
])
def test_broken_references(elements, words):
    with pytest.raises(ValidationError, match=words):
        flow(elements)


def test_record_is_only_for_record_triggered_flows():
    with pytest.raises(ValidationError, match=r"uses \$Record but the flow is not record-triggered"):
        flow([lookup(), FAILED], start=Start(next="Get"))
    with pytest.raises(ValidationError, match="needs object, trigger_type and record_trigger_type"):
        Start(next="Get", object="Lead")


def test_create_and_update_shapes():
    with pytest.raises(ValidationError, match="not both"):
        RecordCreate(name="C", input_reference="X", object="Lead")
    with pytest.raises(ValidationError, match="object \\+ filters \\+ values"):
        RecordUpdate(name="U", object="Lead")
