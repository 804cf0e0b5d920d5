"""Custom objects: `__r` relationships, `__r` child subqueries, multi-select INCLUDES/EXCLUDES,
case-sensitive fields, and queries built in code (as the Flow runtime may do)."""

import pytest

from slotforce.localorg import store
from slotforce.localorg.schema import ChildRelationship, Field, SObject
from slotforce.localorg.soql import execute_query, nodes as n


@pytest.fixture
def links(crm):
    link = SObject("Scheduling_Link__c", "Scheduling Link", "Scheduling Links", "a01", custom=True)
    for f in [Field("Id", "id"), Field("IsDeleted", "boolean"), Field("Name", "string", length=80),
              Field("Link_Key__c", "string", length=255, external_id=True, case_sensitive=True),
              Field("Kinds__c", "multipicklist", length=4099),
              Field("User__c", "reference", reference_to=["User"], relationship_name="User__r")]:
        link.add_field(f)
    crm.schema.add(link)
    crm.schema.get("User").child_relationships.append(
        ChildRelationship("Scheduling_Link__c", "User__c", "Scheduling_Links__r"))
    store.create_table(crm.conn, link)
    crm.insert("Scheduling_Link__c", Name="ann-profile", Link_Key__c="Key-A", Kinds__c="Profile;Event_Type",
               User__c=crm.ids["ann"])
    crm.insert("Scheduling_Link__c", Name="ann-managed", Link_Key__c="key-a", Kinds__c="Managed_Event",
               User__c=crm.ids["ann"])
    crm.insert("Scheduling_Link__c", Name="nobody", Link_Key__c="key-b", Kinds__c=None)
    return crm


def link_names(org, soql):
    return sorted(r["Name"] for r in org.records(soql))


def test_custom_parent_relationship(links):
    recs = links.records("SELECT Name, User__r.Email FROM Scheduling_Link__c WHERE User__r.Alias = 'ann' "
                         "ORDER BY Name")
    assert [r["User__r"]["Email"] for r in recs] == ["ann@example.com", "ann@example.com"]
    assert recs[0]["User__r"]["attributes"]["type"] == "User"


def test_custom_child_relationship(links):
    rec = links.records("SELECT Alias, (SELECT Name FROM Scheduling_Links__r ORDER BY Name) FROM User "
                        "WHERE Alias = 'ann'")[0]
    assert [r["Name"] for r in rec["Scheduling_Links__r"]["records"]] == ["ann-managed", "ann-profile"]


def test_includes_any_of_and_all_of(links):
    assert link_names(links, "SELECT Name FROM Scheduling_Link__c WHERE Kinds__c INCLUDES ('profile')") \
        == ["ann-profile"]
    assert link_names(links, "SELECT Name FROM Scheduling_Link__c WHERE Kinds__c INCLUDES "
                             "('Profile;Managed_Event')") == []
    assert link_names(links, "SELECT Name FROM Scheduling_Link__c WHERE Kinds__c INCLUDES "
                             "('Event_Type;Profile', 'Managed_Event')") == ["ann-managed", "ann-profile"]


def test_excludes_keeps_empty_values(links):
    assert link_names(links, "SELECT Name FROM Scheduling_Link__c WHERE Kinds__c EXCLUDES ('Profile')") \
        == ["ann-managed", "nobody"]


def test_case_sensitive_field_compares_exactly(links):
    assert link_names(links, "SELECT Name FROM Scheduling_Link__c WHERE Link_Key__c = 'key-a'") == ["ann-managed"]


def test_query_built_in_code(links):
    query = n.Query(
        select=(n.SelectField(n.FieldRef(("Name",))), n.SelectField(n.FieldRef(("User__r", "Username")))),
        sobject="Scheduling_Link__c",
        where=n.Comparison(n.FieldRef(("Name",)), "LIKE", n.Literal("string", "ann-%")),
        order_by=(n.OrderItem(n.FieldRef(("Name",)), descending=True),),
        limit=1,
    )
    result = execute_query(links.conn, links.schema, query)
    assert [(r["Name"], r["User__r"]["Username"]) for r in result.records] == [("ann-profile", "ann@example.com")]
