"""Collection Filter and Collection Sort elements, run on saved records."""

from __future__ import annotations

import pytest
from flowkit import flow, record_start

from slotforce.localorg.flows.parser import FlowDefinitionError

TOP_BOOKINGS = flow("Top_Bookings", """
    <variables><name>currentItem_Big</name><dataType>SObject</dataType><objectType>Booking__c</objectType></variables>
    <variables><name>Names</name><dataType>String</dataType></variables>
    <recordLookups>
        <name>Get_Bookings</name>
        <connector><targetReference>Big</targetReference></connector>
        <filterLogic>and</filterLogic>
        <filters><field>Action__c</field><operator>EqualTo</operator><value><stringValue>Other</stringValue></value></filters>
        <getFirstRecordOnly>false</getFirstRecordOnly>
        <object>Booking__c</object>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>
    <collectionProcessors>
        <name>Big</name>
        <assignNextValueToReference>currentItem_Big</assignNextValueToReference>
        <collectionProcessorType>FilterCollectionProcessor</collectionProcessorType>
        <collectionReference>Get_Bookings</collectionReference>
        <conditionLogic>or</conditionLogic>
        <conditions><leftValueReference>currentItem_Big.Count__c</leftValueReference><operator>GreaterThan</operator><rightValue><numberValue>1.0</numberValue></rightValue></conditions>
        <conditions><leftValueReference>currentItem_Big.Count__c</leftValueReference><operator>IsNull</operator><rightValue><booleanValue>true</booleanValue></rightValue></conditions>
        <connector><targetReference>By_Count</targetReference></connector>
    </collectionProcessors>
    <collectionProcessors>
        <name>By_Count</name>
        <collectionProcessorType>SortCollectionProcessor</collectionProcessorType>
        <collectionReference>Big</collectionReference>
        <connector><targetReference>Each</targetReference></connector>
        <limit>3</limit>
        <sortOptions><doesPutEmptyStringAndNullFirst>false</doesPutEmptyStringAndNullFirst><sortField>Count__c</sortField><sortOrder>Desc</sortOrder></sortOptions>
        <sortOptions><doesPutEmptyStringAndNullFirst>false</doesPutEmptyStringAndNullFirst><sortField>Email__c</sortField><sortOrder>Asc</sortOrder></sortOptions>
    </collectionProcessors>
    <loops>
        <name>Each</name>
        <collectionReference>Big</collectionReference>
        <iterationOrder>Asc</iterationOrder>
        <nextValueConnector><targetReference>Add_Name</targetReference></nextValueConnector>
        <noMoreValuesConnector><targetReference>Save_Names</targetReference></noMoreValuesConnector>
    </loops>
    <assignments>
        <name>Add_Name</name>
        <connector><targetReference>Each</targetReference></connector>
        <assignmentItems><assignToReference>Names</assignToReference><operator>Add</operator><value><stringValue>{!Each.Email__c};</stringValue></value></assignmentItems>
    </assignments>
    <recordUpdates>
        <name>Save_Names</name>
        <inputAssignments><field>Error__c</field><value><elementReference>Names</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>""", start=record_start("Booking__c", "Get_Bookings", extra="""
        <filterLogic>and</filterLogic>
        <filters><field>Action__c</field><operator>EqualTo</operator><value><stringValue>Created</stringValue></value></filters>"""))


def test_filter_then_sort_with_two_keys_and_a_limit(forg):
    forg.save("insert", "Booking__c", [{"Action__c": "Other", "Email__c": e, "Count__c": c} for e, c in
                                       [("a@x.com", 1), ("b@x.com", 5), ("c@x.com", 2), ("d@x.com", 5),
                                        ("e@x.com", None), ("f@x.com", 3)]])
    forg.deploy(TOP_BOOKINGS)
    forg.save("insert", "Booking__c", [{"Action__c": "Created", "Email__c": "z@x.com"}])
    [row] = forg.query("SELECT Error__c FROM Booking__c WHERE Action__c = 'Created'")
    # a@ (1) is filtered out; e@ (null) passes the filter but sorts last and falls past the limit of 3.
    assert row["Error__c"] == "b@x.com;d@x.com;f@x.com;"


def test_blank_values_first_when_asked(forg):
    forg.save("insert", "Booking__c", [{"Action__c": "Other", "Email__c": "e@x.com"},
                                       {"Action__c": "Other", "Email__c": "b@x.com", "Count__c": 5}])
    forg.deploy(TOP_BOOKINGS.replace("<doesPutEmptyStringAndNullFirst>false</doesPutEmptyStringAndNullFirst><sortField>Count__c",
                                     "<doesPutEmptyStringAndNullFirst>true</doesPutEmptyStringAndNullFirst><sortField>Count__c"))
    forg.save("insert", "Booking__c", [{"Action__c": "Created"}])
    [row] = forg.query("SELECT Error__c FROM Booking__c WHERE Action__c = 'Created'")
    assert row["Error__c"] == "e@x.com;b@x.com;"


@pytest.mark.parametrize("change, message", [
    (("<sortField>Email__c</sortField>", "<sortField>Mail__c</sortField>"), "the field Booking__c.Mail__c does not exist"),
    (("<assignNextValueToReference>currentItem_Big</assignNextValueToReference>", ""), "needs assignNextValueToReference"),
    (("<limit>3</limit>", "<limit>three</limit>"), "<limit> must be a whole number, got three"),
    (("<conditionLogic>or</conditionLogic>", "<conditionLogic>1 AND 3</conditionLogic>"), "Big"),
    (("<leftValueReference>currentItem_Big.Count__c</leftValueReference><operator>GreaterThan",
      "<leftValueReference>currentItem_Big.CreatedBy.LastName</leftValueReference><operator>GreaterThan"),
     "cross-object reference currentItem_Big.CreatedBy.LastName in a collection filter is not supported"),
])
def test_bad_collection_processors_are_refused(forg, change, message):
    with pytest.raises(FlowDefinitionError, match=message):
        forg.deploy(TOP_BOOKINGS.replace(*change))
