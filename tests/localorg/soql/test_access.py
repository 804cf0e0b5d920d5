"""WITH SECURITY_ENFORCED, USER_MODE and SYSTEM_MODE: the running user's object and field read access.

A sales user (Standard User profile) holding only the package's Slotforce_User permission set logs
in with the password grant and queries through simple-salesforce; the admin (System Administrator)
reads everything. Slotforce_User grants Booking_Action__c and the meeting fields on Lead, Contact
and Event, not Scheduling_Link__c nor User.Scheduling_Link__c.
"""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceRefusedRequest


@pytest.fixture
def org(packaged_org):  # the package deployed (this folder's `org` is an in-memory store)
    packaged_org.reset()
    return packaged_org


@pytest.fixture
def sales_user(org):
    admin = org.client()
    profile = admin.query("SELECT Id FROM Profile WHERE Name = 'Standard User'")["records"][0]["Id"]
    user = admin.User.create({"Username": "sam.sales@slotforce.example", "LastName": "Sales", "FirstName": "Sam",
                              "Email": "sam.sales@slotforce.example", "Alias": "ssales", "ProfileId": profile,
                              "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
                              "LanguageLocaleKey": "en_US", "Scheduling_Link__c": "https://cal.example/sam"})["id"]
    permission_set = admin.query("SELECT Id FROM PermissionSet WHERE Name = 'Slotforce_User'")["records"][0]["Id"]
    assignment = admin.PermissionSetAssignment.create({"AssigneeId": user, "PermissionSetId": permission_set})["id"]
    admin.Contact.create({"LastName": "Ng", "Meeting_Type__c": "Intro"})
    admin.set_password(user, "sales2024pw")  # a new user logs in with the password an admin set
    token = org.session().post(f"{org.instance_url}/services/oauth2/token",
                               data={"grant_type": "password", "username": "sam.sales@slotforce.example",
                                     "password": "sales2024pw"}).json()["access_token"]
    client = Salesforce(instance_url=org.instance_url, session_id=token, session=org.session())
    yield client
    admin.PermissionSetAssignment.delete(assignment)  # assignments outlive a reset (org configuration)
    client.session.close()
    admin.session.close()


def error(call, soql, exc=SalesforceMalformedRequest) -> dict:
    with pytest.raises(exc) as e:
        call(soql)
    return e.value.content[0]


def test_granted_fields_and_standard_objects_are_read_in_user_mode(sales_user):
    body = sales_user.query("SELECT LastName, Meeting_Type__c, Account.Name FROM Contact WITH USER_MODE")
    assert [(r["LastName"], r["Meeting_Type__c"]) for r in body["records"]] == [("Ng", "Intro")]
    assert sales_user.query("SELECT Id, Action__c FROM Booking_Action__c WITH SECURITY_ENFORCED")["totalSize"] == 0


def test_user_mode_answers_an_unreadable_field_or_object_as_missing(sales_user):
    got = error(sales_user.query, "SELECT Id, Scheduling_Link__c FROM User WITH USER_MODE")
    assert got["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Scheduling_Link__c' on entity 'User'" in got["message"]
    got = error(sales_user.query, "SELECT Id FROM User WHERE Scheduling_Link__c != null WITH USER_MODE")
    assert got["errorCode"] == "INVALID_FIELD"  # user mode checks WHERE too
    got = error(sales_user.query, "SELECT Id FROM Scheduling_Link__c WITH USER_MODE")
    assert got["errorCode"] == "INVALID_TYPE" and "sObject type 'Scheduling_Link__c' is not supported" in got["message"]
    got = error(sales_user.query, "SELECT Id, Owner.Scheduling_Link__c FROM Contact WITH USER_MODE")
    assert "No such column 'Scheduling_Link__c' on entity 'User'" in got["message"]


def test_security_enforced_checks_select_and_from_only(sales_user):
    got = error(sales_user.query, "SELECT Id, Scheduling_Link__c FROM User WITH SECURITY_ENFORCED",
                SalesforceRefusedRequest)
    assert got == {"message": "Insufficient permissions: secure query included inaccessible field",
                   "errorCode": "INSUFFICIENT_ACCESS"}
    got = error(sales_user.query, "SELECT Id, (SELECT Id FROM Scheduling_Links__r) FROM User WITH SECURITY_ENFORCED",
                SalesforceRefusedRequest)
    assert got["errorCode"] == "INSUFFICIENT_ACCESS"
    # "not clauses like WHERE or ORDER BY" (Apex Developer Guide, WITH SECURITY_ENFORCED)
    body = sales_user.query("SELECT Id FROM User WHERE Scheduling_Link__c != null WITH SECURITY_ENFORCED")
    assert body["totalSize"] == 1


def test_fields_all_lists_only_what_the_user_reads(sales_user):
    record = sales_user.query("SELECT FIELDS(ALL) FROM User WHERE Alias = 'ssales' WITH USER_MODE LIMIT 1")
    assert "Scheduling_Link__c" not in record["records"][0] and "Username" in record["records"][0]


def test_system_mode_and_no_with_clause_read_everything(sales_user, org):
    assert sales_user.query("SELECT Scheduling_Link__c FROM User WHERE Alias = 'ssales' WITH SYSTEM_MODE"
                            )["records"][0]["Scheduling_Link__c"] == "https://cal.example/sam"
    assert sales_user.query("SELECT Id FROM Scheduling_Link__c")["totalSize"] == 0
    admin = org.client()
    assert admin.query("SELECT Scheduling_Link__c FROM User WHERE Alias = 'ssales' WITH USER_MODE")["totalSize"] == 1
    assert admin.query("SELECT Id FROM Scheduling_Link__c WITH SECURITY_ENFORCED")["totalSize"] == 0
    admin.session.close()


def test_functions_over_https_with_their_columns(org):
    """toLabel() of a deployed picklist, FORMAT(), ROLLUP, and `columns=true` for each (what `sf data query` asks)."""
    sf = org.client()
    sf.Booking_Action__c.create({"Action_Key__c": "k1", "Action__c": "No_Show", "Start__c": "2025-04-10T22:31:37Z"})
    sf.Booking_Action__c.create({"Action_Key__c": "k2", "Action__c": "Created"})
    soql = "SELECT toLabel(Action__c), FORMAT(Start__c) starts FROM Booking_Action__c WHERE Action_Key__c = 'k1'"
    [record] = sf.query(soql)["records"]
    assert (record["Action__c"], record["starts"]) == ("No Show", "4/10/2025, 10:31 PM")
    rollup = sf.query("SELECT Action__c, GROUPING(Action__c) total, COUNT(Id) n FROM Booking_Action__c "
                      "GROUP BY ROLLUP(Action__c)")["records"]
    assert [(r["Action__c"], r["total"], r["n"]) for r in rollup] == [("Created", 0, 1), ("No_Show", 0, 1), (None, 1, 2)]

    def columns(q):
        return sf.restful("query", params={"q": q, "columns": "true"})

    label, starts = columns(soql)["columnMetadata"]
    assert (label["columnName"], label["displayName"], label["aggregate"]) == ("Action__c", "toLabel(Action__c)", False)
    assert (starts["columnName"], starts["apexType"], starts["textType"]) == ("starts", "String", True)
    body = columns("SELECT Action__c, GROUPING(Action__c) total, COUNT(Id) FROM Booking_Action__c "
                   "GROUP BY ROLLUP(Action__c)")
    assert body["groupBy"] is True
    assert [(c["columnName"], c["apexType"]) for c in body["columnMetadata"]] == [
        ("Action__c", "String"), ("total", "Integer"), ("expr0", "Integer")]
    sf.session.close()


def _deploy_standard_profile(org, permissions: str) -> None:
    import io
    import zipfile

    from slotforce.localorg.metadata import attach

    header = '<?xml version="1.0" encoding="UTF-8"?>\n'
    files = {
        "package.xml": f'{header}<Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>Standard'
                       '</members><name>Profile</name></types><version>62.0</version></Package>',
        "profiles/Standard.profile": f'{header}<Profile xmlns="http://soap.sforce.com/2006/04/metadata">'
                                     f'{permissions}<custom>false</custom></Profile>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    assert attach(org.org).deploy(buf.getvalue(), {}).success


def test_a_deployed_profile_grants_read_access_too(sales_user, org):
    _deploy_standard_profile(org, "<fieldPermissions><editable>false</editable><field>User.Scheduling_Link__c</field>"
                                  "<readable>true</readable></fieldPermissions><objectPermissions><allowCreate>false"
                                  "</allowCreate><allowDelete>false</allowDelete><allowEdit>false</allowEdit><allowRead>"
                                  "true</allowRead><modifyAllRecords>false</modifyAllRecords><object>Scheduling_Link__c"
                                  "</object><viewAllRecords>false</viewAllRecords></objectPermissions>")
    try:
        assert sales_user.query("SELECT Id FROM Scheduling_Link__c WITH USER_MODE")["totalSize"] == 0
        assert sales_user.query("SELECT Scheduling_Link__c FROM User WHERE Alias = 'ssales' WITH SECURITY_ENFORCED"
                                )["records"][0]["Scheduling_Link__c"] == "https://cal.example/sam"
    finally:
        _deploy_standard_profile(org, "")
    got = error(sales_user.query, "SELECT Id FROM Scheduling_Link__c WITH USER_MODE")
    assert got["errorCode"] == "INVALID_TYPE"


def test_using_scope_mine_is_the_session_users(sales_user, org):
    admin = org.client()
    me = sales_user.query("SELECT Id FROM User WHERE Alias = 'ssales'")["records"][0]["Id"]
    admin.Lead.create({"LastName": "Admin's", "Company": "A"})
    admin.Lead.create({"LastName": "Sam's", "Company": "S", "OwnerId": me})
    assert [r["LastName"] for r in sales_user.query("SELECT LastName FROM Lead USING SCOPE mine")["records"]] == ["Sam's"]
    assert [r["LastName"] for r in admin.query("SELECT LastName FROM Lead USING SCOPE mine")["records"]] == ["Admin's"]
    admin.session.close()


def test_bulk_query_jobs_run_as_their_user(sales_user):
    import json

    got = error(lambda soql: sales_user.restful("jobs/query", method="POST",
                                                data=json.dumps({"operation": "query", "query": soql})),
                "SELECT Id, Scheduling_Link__c FROM User WITH USER_MODE")
    assert got["errorCode"] == "INVALID_FIELD"
