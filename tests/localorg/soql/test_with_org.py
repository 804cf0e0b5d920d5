"""SOQL over records saved through the org's own save path (models.Org), not hand-inserted rows."""

import pytest

from slotforce.localorg.models import Org


@pytest.fixture
def saved():
    org = Org()
    with org.transaction() as ctx:
        (acme,) = ctx.insert("Account", [{"Name": "Acme", "NumberOfEmployees": 5}])
        jane, _ = ctx.insert("Contact", [
            {"FirstName": "Jane", "LastName": "Doe", "Email": "jane@acme.com", "AccountId": acme},
            {"LastName": "Nobody"}])
        (lead,) = ctx.insert("Lead", [{"FirstName": "Lee", "LastName": "Lead", "Company": "LeadCo"}])
        ctx.insert("Event", [
            {"Subject": "Intro", "WhoId": jane, "WhatId": acme, "StartDateTime": "2024-05-15T10:00:00.000+0000",
             "EndDateTime": "2024-05-15T10:30:00.000+0000", "DurationInMinutes": 30},
            {"Subject": "Demo", "WhoId": lead, "StartDateTime": "2024-05-16T10:00:00Z",
             "EndDateTime": "2024-05-16T11:00:00Z", "DurationInMinutes": 60}])
    yield org
    org.close()


def test_compound_name_and_parent_paths(saved):
    rec = saved.execute_query("SELECT Name, Account.Name, Account.Owner.Username FROM Contact "
                              "WHERE Email = 'JANE@acme.com'").records[0]
    assert rec["Name"] == "Jane Doe"
    assert rec["Account"]["Name"] == "Acme"
    assert rec["Account"]["Owner"]["Username"] == saved.username


def test_polymorphic_who_and_child_events(saved):
    recs = saved.execute_query("SELECT Subject, Who.Name, Who.Type, StartDateTime FROM Event "
                               "ORDER BY StartDateTime").records
    assert [(r["Subject"], r["Who"]["Name"], r["Who"]["Type"]) for r in recs] == [
        ("Intro", "Jane Doe", "Contact"), ("Demo", "Lee Lead", "Lead")]
    assert recs[1]["StartDateTime"] == "2024-05-16T10:00:00.000+0000"
    acct = saved.execute_query("SELECT Name, (SELECT Subject FROM Events) FROM Account").records[0]
    assert acct["Events"]["records"][0]["Subject"] == "Intro"


def test_deleted_records_and_query_all(saved):
    with saved.transaction() as ctx:
        (gone,) = ctx.insert("Contact", [{"LastName": "Gone"}])
        ctx.delete("Contact", [gone])
    assert saved.execute_query("SELECT COUNT() FROM Contact WHERE LastName = 'Gone'").total_size == 0
    rows = saved.execute_query("SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Gone'",
                               include_deleted=True).records
    assert rows[0]["IsDeleted"] is True


def test_audit_fields_are_filterable_with_date_literals(saved):
    assert saved.execute_query("SELECT COUNT() FROM Account WHERE CreatedDate = TODAY").total_size == 1
    assert saved.execute_query("SELECT COUNT() FROM Account WHERE CreatedDate < LAST_N_DAYS:2").total_size == 0
