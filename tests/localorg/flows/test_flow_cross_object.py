"""Cross-object references: parent fields read through lookups, one query per step for the batch."""

from __future__ import annotations

import pytest
from flowkit import flow, record_start

from slotforce.localorg.flows.parser import FlowDefinitionError

# Before save on Contact: a decision and a formula read the account, its owner and the owner's profile.
DESCRIBE_ACCOUNT = flow("Describe_Account", """
    <decisions>
        <name>Is_Acme</name>
        <defaultConnector><targetReference>Mark_Other</targetReference></defaultConnector>
        <rules>
            <name>Acme</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>$Record.Account.Name</leftValueReference><operator>EqualTo</operator><rightValue><stringValue>Acme</stringValue></rightValue></conditions>
            <connector><targetReference>Describe</targetReference></connector>
        </rules>
    </decisions>
    <assignments>
        <name>Describe</name>
        <assignmentItems><assignToReference>$Record.Description</assignToReference><operator>Assign</operator><value><elementReference>Summary</elementReference></value></assignmentItems>
    </assignments>
    <assignments>
        <name>Mark_Other</name>
        <assignmentItems><assignToReference>$Record.Description</assignToReference><operator>Assign</operator><value><stringValue>other: {!$Record.Account.Name}</stringValue></value></assignmentItems>
    </assignments>
    <formulas><name>Summary</name><dataType>String</dataType><expression>{!$Record.Account.Name} &amp; " by " &amp; {!$Record.Account.Owner.LastName} &amp; " (" &amp; {!$Record.Owner.Profile.Name} &amp; ")"</expression></formulas>""",
    start=record_start("Contact", "Is_Acme", trigger="RecordBeforeSave"))


def _accounts(forg, *names: str) -> list[str]:
    return [r.id for r in forg.save("insert", "Account", [{"Name": n} for n in names])]


def _profile_name(forg) -> str:
    return forg.query("SELECT Profile.Name FROM User WHERE LastName = 'Admin'")[0]["Profile"]["Name"]


def test_parent_fields_in_conditions_assignments_and_formulas_one_query_per_step(forg):
    acme, other = _accounts(forg, "Acme", "Globex")
    forg.deploy(DESCRIBE_ACCOUNT)
    rows = [{"LastName": f"C{i}", "AccountId": acme if i % 2 else other} for i in range(200)] + [{"LastName": "Solo"}]
    forg.save("insert", "Contact", rows)
    # Decision: Account (1). Describe, for its 100 interviews: step 1 Account and User (the contact's
    # owner), step 2 User (the account's owner) and Profile (4). Mark_Other: Account (1). The 201st
    # record's batch has no lookup ids, so no query.
    assert forg.org.last_transaction["soql"] == 6
    got = {r["LastName"]: r["Description"] for r in forg.query("SELECT LastName, Description FROM Contact")}
    assert got["C1"] == f"Acme by Admin ({_profile_name(forg)})"
    assert got["C2"] == "other: Globex"
    assert got["Solo"] == "other: "


# After save: entry formula, a Get Records filter and a record variable's parent read the account.
ACME_TASK = flow("Acme_Task", """
    <recordLookups>
        <name>Same_Account</name>
        <connector><targetReference>Log</targetReference></connector>
        <filterLogic>and</filterLogic>
        <filters><field>Name</field><operator>EqualTo</operator><value><elementReference>$Record.Account.Name</elementReference></value></filters>
        <getFirstRecordOnly>true</getFirstRecordOnly>
        <object>Account</object>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>
    <recordCreates>
        <name>Log</name>
        <inputAssignments><field>Subject</field><value><stringValue>{!$Record.LastName} at {!Same_Account.Name} owned by {!Same_Account.Owner.LastName}</stringValue></value></inputAssignments>
        <inputAssignments><field>WhoId</field><value><elementReference>$Record.Id</elementReference></value></inputAssignments>
        <object>Task</object>
    </recordCreates>""", start=record_start("Contact", "Same_Account", extra="""
        <filterFormula>{!$Record.Account.Name} = "Acme"</filterFormula>"""))


def test_parent_fields_in_entry_criteria_record_filters_and_record_variables(forg):
    acme, other = _accounts(forg, "Acme", "Globex")
    forg.deploy(ACME_TASK)
    forg.save("insert", "Contact", [{"LastName": "Ann", "AccountId": acme}, {"LastName": "Bob", "AccountId": other},
                                    {"LastName": "Cy", "AccountId": acme}])
    tasks = sorted(t["Subject"] for t in forg.query("SELECT Subject FROM Task"))
    assert tasks == ["Ann at Acme owned by Admin", "Cy at Acme owned by Admin"]
    # entry: Account; Same_Account: Account, then its query; Log: User for the found account's owner.
    assert forg.org.last_transaction["soql"] == 4


def test_a_changed_lookup_reads_the_new_parent(forg):
    acme, other = _accounts(forg, "Acme", "Globex")
    forg.deploy(DESCRIBE_ACCOUNT.replace("<recordTriggerType>Create<", "<recordTriggerType>CreateAndUpdate<"))
    cid = forg.save("insert", "Contact", [{"LastName": "Moves", "AccountId": other}])[0].id
    assert forg.query("SELECT Description FROM Contact")[0]["Description"] == "other: Globex"
    forg.save("update", "Contact", [{"Id": cid, "AccountId": acme}])
    assert forg.query("SELECT Description FROM Contact")[0]["Description"].startswith("Acme by Admin")


@pytest.mark.parametrize("change, message", [
    (("$Record.Account.Name</leftValueReference>", "$Record.Who.Name</leftValueReference>"),
     "Contact has no parent relationship Who"),
    (("<assignToReference>$Record.Description</assignToReference><operator>Assign</operator><value><elementReference>",
      "<assignToReference>$Record.Account.Name</assignToReference><operator>Assign</operator><value><elementReference>"),
     "a flow cannot set a field of a parent record"),
    (("{!$Record.Owner.Profile.Name}", "{!$Record.Owner.Profile.Nickname}"), "the field Profile.Nickname does not exist"),
])
def test_bad_parent_paths_are_refused_at_deploy(forg, change, message):
    with pytest.raises(FlowDefinitionError, match=message):
        forg.deploy(DESCRIBE_ACCOUNT.replace(*change))


POLYMORPHIC = flow("Polymorphic", """
    <assignments>
        <name>Copy</name>
        <assignmentItems><assignToReference>$Record.Description</assignToReference><operator>Assign</operator><value><elementReference>$Record.Who.Name</elementReference></value></assignmentItems>
    </assignments>""", start=record_start("Task", "Copy", trigger="RecordBeforeSave"))


def test_polymorphic_relationships_are_refused_naming_the_field(forg):
    with pytest.raises(FlowDefinitionError, match=r"Task.WhoId may point at Contact, Lead; polymorphic"):
        forg.deploy(POLYMORPHIC)


@pytest.mark.parametrize("formula_text", ["ISCHANGED({!$Record.Account.Name})",
                                          'PRIORVALUE({!$Record.Account.Name}) = "Acme"'])
def test_prior_values_of_parent_fields_are_refused(forg, formula_text):
    src = ACME_TASK.replace('{!$Record.Account.Name} = "Acme"', formula_text).replace(
        "<recordTriggerType>Create<", "<recordTriggerType>Update<")
    with pytest.raises(FlowDefinitionError, match=r"\$Record.Account.Name: comparing a parent's field with its prior"):
        forg.deploy(src)
