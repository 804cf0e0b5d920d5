"""Record-triggered flows on a real local org: triggers, bulkification, limits, faults, rollback."""

from __future__ import annotations

import re

import pytest
from flowkit import flow, record_start

from slotforce.localorg.errors import SalesforceError

CREATE_TASK = flow("Booking_Creates_Task", """
    <recordCreates>
        <name>Create_Task</name>
        <label>Create Task</label>
        <connector><targetReference>Mark_Done</targetReference></connector>
        <inputAssignments><field>Subject</field><value><stringValue>Call {!$Record.Email__c}</stringValue></value></inputAssignments>
        <inputAssignments><field>WhatId</field><value><elementReference>$Record.Id</elementReference></value></inputAssignments>
        <object>Task</object>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordCreates>
    <recordUpdates>
        <name>Mark_Done</name>
        <inputAssignments><field>Status__c</field><value><stringValue>Processed</stringValue></value></inputAssignments>
        <inputAssignments><field>Event_Id__c</field><value><elementReference>Create_Task</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>""", start=record_start("Booking__c", "Create_Task", extra="""
        <filterLogic>and</filterLogic>
        <filters><field>Action__c</field><operator>EqualTo</operator><value><stringValue>Created</stringValue></value></filters>"""))


def test_create_trigger_creates_a_task_and_updates_the_record(forg):
    forg.deploy(CREATE_TASK)
    forg.save("insert", "Booking__c", [{"Action__c": "Created", "Email__c": "ann@example.com"},
                                       {"Action__c": "Other", "Email__c": "bob@example.com"}])
    tasks = forg.query("SELECT Subject, WhatId FROM Task")
    assert [t["Subject"] for t in tasks] == ["Call ann@example.com"]
    rows = {r["Email__c"]: r for r in forg.query("SELECT Id, Email__c, Status__c, Event_Id__c FROM Booking__c")}
    assert rows["ann@example.com"]["Status__c"] == "Processed"
    assert rows["ann@example.com"]["Event_Id__c"].startswith("00T")
    assert tasks[0]["WhatId"] == rows["ann@example.com"]["Id"]
    assert rows["bob@example.com"]["Status__c"] is None  # entry filter kept it out


def test_two_hundred_records_share_one_dml_per_element(forg):
    forg.deploy(CREATE_TASK)
    forg.save("insert", "Booking__c", [{"Action__c": "Created", "Email__c": f"p{i}@example.com"} for i in range(200)])
    assert len(forg.query("SELECT Id FROM Task")) == 200
    # one Create Records statement (200 rows) + one Update Records statement (200 rows)
    assert forg.org.last_transaction == {"soql": 0, "dml": 2, "dml_rows": 400}


def test_draft_flows_do_not_run(forg):
    forg.deploy(CREATE_TASK.replace("<status>Active</status>", "<status>Draft</status>"))
    forg.save("insert", "Booking__c", [{"Action__c": "Created", "Email__c": "ann@example.com"}])
    assert forg.query("SELECT Id FROM Task") == []


LOOP_COLLECT = flow("Collect_Contacts", """
    <recordLookups>
        <name>Get_Contacts</name>
        <connector><targetReference>Each_Contact</targetReference></connector>
        <filterLogic>and</filterLogic>
        <filters><field>Email</field><operator>EqualTo</operator><value><elementReference>$Record.Email__c</elementReference></value></filters>
        <object>Contact</object>
        <getFirstRecordOnly>false</getFirstRecordOnly>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>
    <loops>
        <name>Each_Contact</name>
        <collectionReference>Get_Contacts</collectionReference>
        <iterationOrder>Asc</iterationOrder>
        <nextValueConnector><targetReference>Set_Title</targetReference></nextValueConnector>
        <noMoreValuesConnector><targetReference>Save_Contacts</targetReference></noMoreValuesConnector>
    </loops>
    <assignments>
        <name>Set_Title</name>
        <assignmentItems><assignToReference>Each_Contact.Title</assignToReference><operator>Assign</operator><value><elementReference>$Record.Subject__c</elementReference></value></assignmentItems>
        <assignmentItems><assignToReference>Changed</assignToReference><operator>Add</operator><value><elementReference>Each_Contact</elementReference></value></assignmentItems>
        <assignmentItems><assignToReference>Seen</assignToReference><operator>Add</operator><value><numberValue>1</numberValue></value></assignmentItems>
        <connector><targetReference>Each_Contact</targetReference></connector>
    </assignments>
    <recordUpdates>
        <name>Save_Contacts</name>
        <connector><targetReference>Write_Count</targetReference></connector>
        <inputReference>Changed</inputReference>
    </recordUpdates>
    <recordUpdates>
        <name>Write_Count</name>
        <inputAssignments><field>Count__c</field><value><elementReference>Seen</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>
    <variables><name>Changed</name><dataType>SObject</dataType><isCollection>true</isCollection><isInput>false</isInput><isOutput>false</isOutput><objectType>Contact</objectType></variables>
    <variables><name>Seen</name><dataType>Number</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>false</isOutput><scale>0</scale><value><numberValue>0</numberValue></value></variables>""",
    start=record_start("Booking__c", "Get_Contacts"))


def test_loop_collects_and_updates_once_after_the_loop(forg):
    forg.deploy(LOOP_COLLECT)
    forg.save("insert", "Contact", [{"LastName": f"C{i}", "Email": f"p{i % 50}@example.com"} for i in range(100)])
    forg.save("insert", "Booking__c", [{"Email__c": f"p{i}@example.com", "Subject__c": f"S{i}"} for i in range(50)])
    assert forg.org.last_transaction == {"soql": 1, "dml": 2, "dml_rows": 150}
    titles = {c["Title"] for c in forg.query("SELECT Title FROM Contact")}
    assert titles == {f"S{i}" for i in range(50)}
    assert {b["Count__c"] for b in forg.query("SELECT Count__c FROM Booking__c")} == {2}


QUERY_IN_LOOP = flow("Query_In_Loop", """
    <assignments>
        <name>Count_Up</name>
        <assignmentItems><assignToReference>Turns</assignToReference><operator>Add</operator><value><numberValue>1</numberValue></value></assignmentItems>
        <connector><targetReference>Get_Users</targetReference></connector>
    </assignments>
    <recordLookups>
        <name>Get_Users</name>
        <connector><targetReference>Again</targetReference></connector>
        <filters><field>Username</field><operator>EqualTo</operator><value><stringValue>nobody-{!Turns}</stringValue></value></filters>
        <object>User</object>
        <getFirstRecordOnly>true</getFirstRecordOnly>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>
    <decisions>
        <name>Again</name>
        <defaultConnectorLabel>Done</defaultConnectorLabel>
        <rules>
            <name>More</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>Turns</leftValueReference><operator>LessThan</operator><rightValue><numberValue>150</numberValue></rightValue></conditions>
            <connector><targetReference>Count_Up</targetReference></connector>
            <label>More</label>
        </rules>
    </decisions>
    <variables><name>Turns</name><dataType>Number</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>false</isOutput><scale>0</scale><value><numberValue>0</numberValue></value></variables>""",
    start=record_start("Booking__c", "Count_Up"))


def test_query_in_a_loop_breaches_the_soql_limit_and_rolls_back(forg):
    forg.deploy(CREATE_TASK, QUERY_IN_LOOP)
    with pytest.raises(SalesforceError) as exc:
        forg.save("insert", "Booking__c", [{"Action__c": "Created", "Email__c": f"p{i}@x.com"} for i in range(200)])
    assert exc.value.error_code == "CANNOT_EXECUTE_FLOW_TRIGGER"
    # 101 on the first attempt; the org then retries record by record (the count may read 102)
    assert re.search(r"Too many SOQL queries: 10[12]", exc.value.message)
    assert "Get_Users" in exc.value.message
    assert "Query In Loop" in exc.value.message
    assert forg.query("SELECT Id FROM Booking__c") == []
    assert forg.query("SELECT Id FROM Task") == []


FAULT_PATH = flow("Fault_Path", """
    <recordCreates>
        <name>Create_Contact</name>
        <connector><targetReference>Ok</targetReference></connector>
        <faultConnector><targetReference>Record_Error</targetReference></faultConnector>
        <inputAssignments><field>Email</field><value><elementReference>$Record.Email__c</elementReference></value></inputAssignments>
        <object>Contact</object>
    </recordCreates>
    <recordUpdates>
        <name>Ok</name>
        <inputAssignments><field>Status__c</field><value><stringValue>Processed</stringValue></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>
    <recordUpdates>
        <name>Record_Error</name>
        <inputAssignments><field>Status__c</field><value><stringValue>Failed</stringValue></value></inputAssignments>
        <inputAssignments><field>Error__c</field><value><elementReference>$Flow.FaultMessage</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>""", start=record_start("Booking__c", "Create_Contact"))


def test_fault_path_catches_the_error_and_the_save_succeeds(forg):
    forg.deploy(FAULT_PATH)
    forg.save("insert", "Booking__c", [{"Email__c": "ann@example.com"}])
    row = forg.query("SELECT Status__c, Error__c FROM Booking__c")[0]
    assert row["Status__c"] == "Failed"
    assert row["Error__c"].startswith("This error occurred when the flow tried to create records: "
                                      "REQUIRED_FIELD_MISSING: ")
    assert "LastName" in row["Error__c"]


def test_one_bad_record_fails_its_own_interview_only(forg):
    # Create Records saves partially (Salesforce, Spring '20): the other interviews' records are saved
    forg.deploy(FAULT_PATH.replace(
        "<inputAssignments><field>Email</field>",
        "<inputAssignments><field>LastName</field><value><elementReference>$Record.Email__c</elementReference>"
        "</value></inputAssignments>\n        <inputAssignments><field>Email</field>"))
    forg.save("insert", "Booking__c", [{"Email__c": "ann@example.com"}, {"Email__c": None}, {"Email__c": "bob@example.com"},
                                       {"Email__c": "cy@example.com"}])
    rows = forg.query("SELECT Email__c, Status__c, Error__c FROM Booking__c ORDER BY Name")
    assert [(r["Email__c"], r["Status__c"]) for r in rows] == [
        ("ann@example.com", "Processed"), (None, "Failed"), ("bob@example.com", "Processed"), ("cy@example.com", "Processed")]
    assert "REQUIRED_FIELD_MISSING" in rows[1]["Error__c"]
    assert sorted(c["Email"] for c in forg.query("SELECT Email FROM Contact")) == [
        "ann@example.com", "bob@example.com", "cy@example.com"]


def test_unhandled_fault_fails_the_save_naming_flow_and_element(forg):
    forg.deploy(FAULT_PATH.replace(
        "<faultConnector><targetReference>Record_Error</targetReference></faultConnector>", ""))
    with pytest.raises(SalesforceError) as exc:
        forg.save("insert", "Booking__c", [{"Email__c": "ann@example.com"}])
    assert exc.value.error_code == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert "“Fault Path”" in exc.value.message and "Create_Contact" in exc.value.message
    assert forg.query("SELECT Id FROM Booking__c") == []


SUBFLOW_CHILD = flow("Greeting_Builder", """
    <assignments>
        <name>Build</name>
        <assignmentItems><assignToReference>greeting</assignToReference><operator>Assign</operator><value><elementReference>Greeting_Text</elementReference></value></assignmentItems>
        <connector><targetReference>Find_Contact</targetReference></connector>
    </assignments>
    <recordLookups>
        <name>Find_Contact</name>
        <filters><field>Email</field><operator>EqualTo</operator><value><elementReference>email</elementReference></value></filters>
        <object>Contact</object>
        <outputAssignments><assignToReference>contactId</assignToReference><field>Id</field></outputAssignments>
    </recordLookups>
    <formulas><name>Greeting_Text</name><dataType>String</dataType><expression>"Hello " &amp; UPPER(LEFT({!email}, FIND("@", {!email}) - 1))</expression></formulas>
    <variables><name>email</name><dataType>String</dataType><isCollection>false</isCollection><isInput>true</isInput><isOutput>false</isOutput></variables>
    <variables><name>greeting</name><dataType>String</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>true</isOutput></variables>
    <variables><name>contactId</name><dataType>String</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>true</isOutput></variables>""",
    start="        <connector><targetReference>Build</targetReference></connector>")

SUBFLOW_PARENT = flow("Calls_Subflow", """
    <subflows>
        <name>Greet</name>
        <connector><targetReference>Save</targetReference></connector>
        <flowName>Greeting_Builder</flowName>
        <inputAssignments><name>email</name><value><elementReference>$Record.Email__c</elementReference></value></inputAssignments>
        <outputAssignments><assignToReference>Text</assignToReference><name>greeting</name></outputAssignments>
        <outputAssignments><assignToReference>Found</assignToReference><name>contactId</name></outputAssignments>
    </subflows>
    <recordUpdates>
        <name>Save</name>
        <inputAssignments><field>Subject__c</field><value><elementReference>Text</elementReference></value></inputAssignments>
        <inputAssignments><field>Event_Id__c</field><value><elementReference>Found</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>
    <variables><name>Text</name><dataType>String</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>false</isOutput></variables>
    <variables><name>Found</name><dataType>String</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>false</isOutput></variables>""",
    start=record_start("Booking__c", "Greet"))


def test_subflow_inputs_and_outputs_bulkified(forg):
    forg.deploy(SUBFLOW_CHILD, SUBFLOW_PARENT)
    forg.save("insert", "Contact", [{"LastName": "Ann", "Email": "ann@example.com"}])
    forg.save("insert", "Booking__c", [{"Email__c": "ann@example.com"}, {"Email__c": "bob@example.com"}])
    rows = {r["Email__c"]: r for r in forg.query("SELECT Email__c, Subject__c, Event_Id__c FROM Booking__c")}
    assert rows["ann@example.com"]["Subject__c"] == "Hello ANN"
    assert rows["ann@example.com"]["Event_Id__c"].startswith("003")
    assert rows["bob@example.com"]["Event_Id__c"] is None
    assert forg.org.last_transaction == {"soql": 1, "dml": 1, "dml_rows": 2}


BEFORE_SAVE = flow("Before_Save_Defaults", """
    <assignments>
        <name>Defaults</name>
        <assignmentItems><assignToReference>$Record.Status__c</assignToReference><operator>Assign</operator><value><stringValue>Pending</stringValue></value></assignmentItems>
        <assignmentItems><assignToReference>$Record.Subject__c</assignToReference><operator>Assign</operator><value><elementReference>Subject_Formula</elementReference></value></assignmentItems>
    </assignments>
    <formulas><name>Subject_Formula</name><dataType>String</dataType><expression>IF(ISBLANK({!$Record.Subject__c}), "Meeting with " &amp; {!$Record.Email__c}, {!$Record.Subject__c})</expression></formulas>""",
    start=record_start("Booking__c", "Defaults", trigger="RecordBeforeSave", on="CreateAndUpdate"))


def test_before_save_flow_sets_fields_without_dml(forg):
    forg.deploy(BEFORE_SAVE)
    forg.save("insert", "Booking__c", [{"Email__c": "ann@example.com"}, {"Email__c": "b@x.com", "Subject__c": "Kept"}])
    assert forg.org.last_transaction == {"soql": 0, "dml": 0, "dml_rows": 0}
    rows = {r["Email__c"]: r for r in forg.query("SELECT Email__c, Subject__c, Status__c FROM Booking__c")}
    assert rows["ann@example.com"]["Subject__c"] == "Meeting with ann@example.com"
    assert rows["b@x.com"]["Subject__c"] == "Kept"
    assert rows["b@x.com"]["Status__c"] == "Pending"


FILL_COMPANY = flow("Lead_Fills_Company", """
    <assignments>
        <name>Fill_Company</name>
        <assignmentItems><assignToReference>$Record.Company</assignToReference><operator>Assign</operator><value><stringValue>Unknown company</stringValue></value></assignmentItems>
    </assignments>""", start=record_start("Lead", "Fill_Company", trigger="RecordBeforeSave", extra="""
        <filterLogic>and</filterLogic>
        <filters><field>Company</field><operator>IsNull</operator><value><booleanValue>true</booleanValue></value></filters>"""))


def test_a_before_save_flow_fills_a_required_field_the_request_left_out(forg):
    """Order of execution: before-save flows run before required fields are checked."""
    forg.deploy(FILL_COMPANY)
    forg.save("insert", "Lead", [{"LastName": "Nobody"}])
    assert [r["Company"] for r in forg.query("SELECT Company FROM Lead")] == ["Unknown company"]


ON_CHANGE = flow("Only_When_Canceled", """
    <recordCreates>
        <name>Log</name>
        <inputAssignments><field>Subject</field><value><stringValue>was {!$Record__Prior.Action__c} now {!$Record.Action__c}</stringValue></value></inputAssignments>
        <object>Task</object>
    </recordCreates>""", start=record_start("Booking__c", "Log", on="Update", extra="""
        <doesRequireRecordChangedToMeetCriteria>true</doesRequireRecordChangedToMeetCriteria>
        <filterLogic>and</filterLogic>
        <filters><field>Action__c</field><operator>EqualTo</operator><value><stringValue>Canceled</stringValue></value></filters>"""))


def test_update_trigger_runs_only_when_the_record_changes_to_meet_criteria(forg):
    forg.deploy(ON_CHANGE)
    rid = forg.save("insert", "Booking__c", [{"Action__c": "Created"}])[0].id
    forg.save("update", "Booking__c", [{"Id": rid, "Action__c": "Canceled"}])
    forg.save("update", "Booking__c", [{"Id": rid, "Subject__c": "still canceled"}])
    assert [t["Subject"] for t in forg.query("SELECT Subject FROM Task")] == ["was Created now Canceled"]


SELF_UPDATE = flow("Self_Update", """
    <recordUpdates>
        <name>Bump</name>
        <inputAssignments><field>Count__c</field><value><elementReference>Next</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>
    <formulas><name>Next</name><dataType>Number</dataType><expression>BLANKVALUE({!$Record.Count__c}, 0) + 1</expression><scale>0</scale></formulas>""",
    start=record_start("Booking__c", "Bump", on="CreateAndUpdate"))


def test_a_flow_updating_its_own_record_runs_once(forg):
    forg.deploy(SELF_UPDATE)
    forg.save("insert", "Booking__c", [{"Email__c": "a@x.com"}])
    assert forg.query("SELECT Count__c FROM Booking__c")[0]["Count__c"] == 1


DELETE_BY_FILTER = flow("Cleanup_Tasks", """
    <recordDeletes>
        <name>Delete_Tasks</name>
        <filters><field>WhatId</field><operator>EqualTo</operator><value><elementReference>$Record.Id</elementReference></value></filters>
        <object>Task</object>
    </recordDeletes>""", start=record_start("Booking__c", "Delete_Tasks", trigger="RecordBeforeDelete", on="Delete"))


def test_before_delete_flow_deletes_related_records(forg):
    forg.deploy(CREATE_TASK, DELETE_BY_FILTER)
    rid = forg.save("insert", "Booking__c", [{"Action__c": "Created", "Email__c": "a@x.com"}])[0].id
    assert len(forg.query("SELECT Id FROM Task")) == 1
    with forg.org.transaction() as ctx:
        from slotforce.localorg import records
        records.delete(ctx, forg.org.sobject("Booking__c"), [rid], all_or_none=True)
    assert forg.query("SELECT Id FROM Task") == []
    assert forg.org.last_transaction == {"soql": 1, "dml": 1, "dml_rows": 1}


DML_IN_LOOP = flow("Dml_In_Loop", """
    <assignments>
        <name>Count_Up</name>
        <assignmentItems><assignToReference>Turns</assignToReference><operator>Add</operator><value><numberValue>1</numberValue></value></assignmentItems>
        <connector><targetReference>Create_Task</targetReference></connector>
    </assignments>
    <recordCreates>
        <name>Create_Task</name>
        <connector><targetReference>Again</targetReference></connector>
        <faultConnector><targetReference>Again</targetReference></faultConnector>
        <inputAssignments><field>Subject</field><value><stringValue>t{!Turns}</stringValue></value></inputAssignments>
        <object>Task</object>
    </recordCreates>
    <decisions>
        <name>Again</name>
        <rules>
            <name>More</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>Turns</leftValueReference><operator>LessThan</operator><rightValue><numberValue>200</numberValue></rightValue></conditions>
            <connector><targetReference>Count_Up</targetReference></connector>
            <label>More</label>
        </rules>
    </decisions>
    <variables><name>Turns</name><dataType>Number</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>false</isOutput><scale>0</scale><value><numberValue>0</numberValue></value></variables>""",
    start=record_start("Booking__c", "Count_Up"))


def test_dml_in_a_loop_breaches_the_statement_limit_even_with_a_fault_path(forg):
    forg.deploy(DML_IN_LOOP)
    with pytest.raises(SalesforceError) as exc:
        forg.save("insert", "Booking__c", [{"Email__c": "a@x.com"}])
    assert exc.value.error_code == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert re.search(r"Too many DML statements: 15[12]", exc.value.message) and "Create_Task" in exc.value.message
    assert forg.query("SELECT Id FROM Task") == [] and forg.query("SELECT Id FROM Booking__c") == []


FORMULA_ENTRY = flow("Formula_Entry", """
    <recordCreates>
        <name>Log</name>
        <inputAssignments><field>Subject</field><value><stringValue>{!$Record.Subject__c}</stringValue></value></inputAssignments>
        <object>Task</object>
    </recordCreates>""", start=record_start("Booking__c", "Log", on="CreateAndUpdate", extra="""
        <filterFormula>ISCHANGED({!$Record.Subject__c}) &amp;&amp; NOT(ISBLANK({!$Record.Subject__c}))</filterFormula>"""))


def test_entry_formula_with_ischanged(forg):
    forg.deploy(FORMULA_ENTRY)
    rid = forg.save("insert", "Booking__c", [{"Subject__c": "first"}])[0].id  # ISCHANGED is false on create
    forg.save("update", "Booking__c", [{"Id": rid, "Email__c": "a@x.com"}])  # subject unchanged
    forg.save("update", "Booking__c", [{"Id": rid, "Subject__c": "second"}])
    assert [t["Subject"] for t in forg.query("SELECT Subject FROM Task")] == ["second"]


CONTAINS_LOOKUP = flow("Contains_Lookup", """
    <recordLookups>
        <name>Find_Tasks</name>
        <connector><targetReference>Write</targetReference></connector>
        <filters><field>Subject</field><operator>Contains</operator><value><elementReference>$Record.Subject__c</elementReference></value></filters>
        <object>Task</object>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>
    <assignments>
        <name>Write</name>
        <assignmentItems><assignToReference>Found</assignToReference><operator>AssignCount</operator><value><elementReference>Find_Tasks</elementReference></value></assignmentItems>
        <connector><targetReference>Save</targetReference></connector>
    </assignments>
    <recordUpdates>
        <name>Save</name>
        <inputAssignments><field>Count__c</field><value><elementReference>Found</elementReference></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>
    <variables><name>Found</name><dataType>Number</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>false</isOutput><scale>0</scale></variables>""",
    start=record_start("Booking__c", "Find_Tasks"))


def test_contains_filter_matches_wildcards_literally(forg):
    forg.deploy(CONTAINS_LOOKUP)
    forg.save("insert", "Task", [{"Subject": "Save 50% o'clock_now"}, {"Subject": "Save 500 o'clockXnow"},
                                 {"Subject": "save 50% O'CLOCK_NOW later"}])
    forg.save("insert", "Booking__c", [{"Subject__c": "50% o'clock_"}, {"Subject__c": "nothing"}])
    counts = {r["Subject__c"]: r["Count__c"] for r in forg.query("SELECT Subject__c, Count__c FROM Booking__c")}
    assert counts == {"50% o'clock_": 2, "nothing": 0}  # SOQL LIKE is case-insensitive


CONDITIONAL_FAILURE = flow("Conditional_Failure", """
    <decisions>
        <name>Is_Bad</name>
        <defaultConnector><targetReference>Good_Task</targetReference></defaultConnector>
        <rules>
            <name>Bad</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>$Record.Email__c</leftValueReference><operator>StartsWith</operator><rightValue><stringValue>bad</stringValue></rightValue></conditions>
            <connector><targetReference>Bad_Contact</targetReference></connector>
            <label>Bad</label>
        </rules>
    </decisions>
    <recordCreates>
        <name>Bad_Contact</name>
        <inputAssignments><field>Email</field><value><elementReference>$Record.Email__c</elementReference></value></inputAssignments>
        <object>Contact</object>
    </recordCreates>
    <recordCreates>
        <name>Good_Task</name>
        <inputAssignments><field>Subject</field><value><elementReference>$Record.Email__c</elementReference></value></inputAssignments>
        <object>Task</object>
    </recordCreates>""", start=record_start("Booking__c", "Is_Bad"))


def test_partial_save_keeps_the_good_records_and_their_flow_work(forg):
    forg.deploy(CONDITIONAL_FAILURE)
    results = forg.save("insert", "Booking__c", [{"Email__c": "good@x.com"}, {"Email__c": "bad@x.com"}],
                        all_or_none=False)
    assert [r.success for r in results] == [True, False]
    assert results[1].errors[0].error_code == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert [b["Email__c"] for b in forg.query("SELECT Email__c FROM Booking__c")] == ["good@x.com"]
    assert [t["Subject"] for t in forg.query("SELECT Subject FROM Task")] == ["good@x.com"]


UPDATE_BY_FILTER = flow("Close_Open_Tasks", """
    <decisions>
        <name>Route</name>
        <defaultConnector><targetReference>Close_Tasks</targetReference></defaultConnector>
        <rules>
            <name>Skip</name>
            <conditionLogic>1 AND (2 OR 3)</conditionLogic>
            <conditions><leftValueReference>$Record.Action__c</leftValueReference><operator>EqualTo</operator><rightValue><stringValue>Other</stringValue></rightValue></conditions>
            <conditions><leftValueReference>$Record.Email__c</leftValueReference><operator>EndsWith</operator><rightValue><stringValue>@skip.com</stringValue></rightValue></conditions>
            <conditions><leftValueReference>$Record.Email__c</leftValueReference><operator>IsNull</operator><rightValue><booleanValue>true</booleanValue></rightValue></conditions>
            <label>Skip</label>
        </rules>
    </decisions>
    <recordUpdates>
        <name>Close_Tasks</name>
        <filterLogic>and</filterLogic>
        <filters><field>WhatId</field><operator>EqualTo</operator><value><elementReference>$Record.Id</elementReference></value></filters>
        <filters><field>Status</field><operator>NotEqualTo</operator><value><elementReference>Done_Status</elementReference></value></filters>
        <inputAssignments><field>Status</field><value><elementReference>Done_Status</elementReference></value></inputAssignments>
        <object>Task</object>
    </recordUpdates>
    <constants><name>Done_Status</name><dataType>String</dataType><value><stringValue>Completed</stringValue></value></constants>""",
    start=record_start("Booking__c", "Route", on="Update"))


def test_update_records_by_filter_with_a_constant_and_custom_logic(forg):
    forg.deploy(UPDATE_BY_FILTER)
    ids = [r.id for r in forg.save("insert", "Booking__c", [{"Action__c": "Created", "Email__c": "a@x.com"},
                                                          {"Action__c": "Other", "Email__c": "b@skip.com"}])]
    forg.save("insert", "Task", [{"Subject": f"t{i}", "WhatId": ids[i % 2], "Status": "Not Started"} for i in range(6)])
    forg.save("update", "Booking__c", [{"Id": ids[0], "Subject__c": "x"}, {"Id": ids[1], "Subject__c": "y"}])
    assert forg.org.last_transaction == {"soql": 1, "dml": 1, "dml_rows": 3}
    done = {t["WhatId"][:15]: t["Status"] for t in forg.query("SELECT WhatId, Status FROM Task")}
    assert done == {ids[0][:15]: "Completed", ids[1][:15]: "Not Started"}


CONTACT_CHAIN = flow("Contact_Follow_Up", """
    <recordCreates>
        <name>Follow_Up</name>
        <inputAssignments><field>Subject</field><value><stringValue>Follow up {!$Record.LastName}</stringValue></value></inputAssignments>
        <inputAssignments><field>WhoId</field><value><elementReference>$Record.Id</elementReference></value></inputAssignments>
        <object>Task</object>
    </recordCreates>""", start=record_start("Contact", "Follow_Up"))

BOOKING_MAKES_CONTACT = flow("Booking_Makes_Contact", """
    <recordCreates>
        <name>Make_Contact</name>
        <inputAssignments><field>LastName</field><value><elementReference>$Record.Email__c</elementReference></value></inputAssignments>
        <object>Contact</object>
    </recordCreates>""", start=record_start("Booking__c", "Make_Contact"))


def test_dml_by_a_flow_fires_the_flows_of_the_saved_object(forg):
    forg.deploy(CONTACT_CHAIN, BOOKING_MAKES_CONTACT)
    forg.save("insert", "Booking__c", [{"Email__c": f"p{i}@x.com"} for i in range(3)])
    assert sorted(t["Subject"] for t in forg.query("SELECT Subject FROM Task")) == [
        "Follow up p0@x.com", "Follow up p1@x.com", "Follow up p2@x.com"]
    assert forg.org.last_transaction == {"soql": 0, "dml": 2, "dml_rows": 6}


OUTCOME_AS_BOOLEAN = flow("Outcome_As_Boolean", """
    <decisions>
        <name>Is_Canceled</name>
        <defaultConnector><targetReference>Set_Status</targetReference></defaultConnector>
        <rules>
            <name>Canceled</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>$Record.Action__c</leftValueReference><operator>EqualTo</operator><rightValue><stringValue>Canceled</stringValue></rightValue></conditions>
            <connector><targetReference>Set_Status</targetReference></connector>
        </rules>
    </decisions>
    <decisions>
        <name>Check_Outcome</name>
        <defaultConnector><targetReference>Mark_Open</targetReference></defaultConnector>
        <rules>
            <name>Was_Canceled</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>Canceled</leftValueReference><operator>EqualTo</operator><rightValue><booleanValue>true</booleanValue></rightValue></conditions>
            <connector><targetReference>Mark_Closed</targetReference></connector>
        </rules>
    </decisions>
    <assignments>
        <name>Set_Status</name>
        <connector><targetReference>Check_Outcome</targetReference></connector>
        <assignmentItems><assignToReference>$Record.Subject__c</assignToReference><operator>Assign</operator><value><elementReference>Verdict</elementReference></value></assignmentItems>
    </assignments>
    <assignments>
        <name>Mark_Closed</name>
        <assignmentItems><assignToReference>$Record.Status__c</assignToReference><operator>Assign</operator><value><stringValue>Closed</stringValue></value></assignmentItems>
    </assignments>
    <assignments>
        <name>Mark_Open</name>
        <assignmentItems><assignToReference>$Record.Status__c</assignToReference><operator>Assign</operator><value><stringValue>Open</stringValue></value></assignmentItems>
    </assignments>
    <formulas><name>Verdict</name><dataType>String</dataType><expression>IF({!Canceled}, "canceled", "kept")</expression></formulas>""",
    start=record_start("Booking__c", "Is_Canceled", trigger="RecordBeforeSave"))


def test_a_decision_outcome_reads_as_a_boolean_in_formulas_and_conditions(forg):
    forg.deploy(OUTCOME_AS_BOOLEAN)
    forg.save("insert", "Booking__c", [{"Action__c": "Canceled", "Email__c": "a@x.com"},
                                       {"Action__c": "Created", "Email__c": "b@x.com"}])
    rows = {r["Email__c"]: r for r in forg.query("SELECT Email__c, Subject__c, Status__c FROM Booking__c")}
    assert (rows["a@x.com"]["Subject__c"], rows["a@x.com"]["Status__c"]) == ("canceled", "Closed")
    assert (rows["b@x.com"]["Subject__c"], rows["b@x.com"]["Status__c"]) == ("kept", "Open")


def test_an_outcome_has_no_fields_and_shares_the_flows_names(forg):
    bad_field = OUTCOME_AS_BOOLEAN.replace("IF({!Canceled},", "IF({!Canceled.Name} = 'x',")
    with pytest.raises(Exception, match=r"outcome Canceled is a Boolean and has no fields"):
        forg.deploy(bad_field)
    clash = OUTCOME_AS_BOOLEAN.replace("<name>Was_Canceled</name>", "<name>Set_Status</name>")
    with pytest.raises(Exception, match=r"the name Set_Status is used by more than one"):
        forg.deploy(clash)
