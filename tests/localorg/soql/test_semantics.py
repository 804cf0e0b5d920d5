"""Issue 12.2: SOQL features answered as Salesforce answers them, and clear words for what is refused."""

import pytest

from slotforce.localorg.errors import MalformedQuery


def ids(org, soql, **kw):
    return sorted(r["Id"] for r in org.records(soql, **kw))


def test_boolean_null_is_false_and_not_null_is_true(crm):
    # SOQL reference, "Use null in WHERE": BooleanField = null is = false, != null is = true.
    assert ids(crm, "SELECT Id FROM User WHERE IsActive = null") == ids(crm, "SELECT Id FROM User WHERE IsActive = false")
    assert ids(crm, "SELECT Id FROM User WHERE IsActive != null") == ids(crm, "SELECT Id FROM User WHERE IsActive = true")


def test_typeof_picks_fields_by_the_parents_type(crm):
    rows = crm.records("SELECT Subject, TYPEOF What WHEN Account THEN Name, Industry ELSE Name END, "
                       "TYPEOF Who WHEN Contact THEN Email WHEN Lead THEN Company END FROM Event "
                       "WHERE Subject = 'Intro'")
    what, who = rows[0]["What"], rows[0]["Who"]
    assert what["attributes"]["type"] == "Account" and what["Name"] == "Acme" and what["Industry"] == "Energy"
    assert who["attributes"]["type"] == "Contact" and who["Email"] == "jane@acme.com" and "Company" not in who


def test_typeof_and_group_keyword(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT TYPEOF What WHEN Group THEN Name END FROM Event")
    assert "'Group' is not an object What can point to" in e.value.message


def test_child_subquery_from_parent_dot_children(crm):
    rows = crm.records("SELECT Name, (SELECT Contact.LastName FROM Account.Contacts ORDER BY LastName) "
                       "FROM Account WHERE Name = 'Acme'")
    assert [c["LastName"] for c in rows[0]["Contacts"]["records"]] == ["Doe", "Smith"]
    rows = crm.records("SELECT Name, (SELECT FIELDS(ALL) FROM Contacts LIMIT 1) FROM Account WHERE Name = 'Acme'")
    assert rows[0]["Contacts"]["records"][0]["LastName"]


def test_using_scope_everything_and_mine(crm):
    everyone = ids(crm, "SELECT Id FROM Contact")
    assert ids(crm, "SELECT Id FROM Contact USING SCOPE everything") == everyone
    owner = crm.records("SELECT OwnerId FROM Contact WHERE LastName = 'Smith'")[0]["OwnerId"]
    mine = ids(crm, "SELECT Id FROM Contact USING SCOPE mine", user_id=owner)
    assert mine == ids(crm, f"SELECT Id FROM Contact WHERE OwnerId = '{owner}'")


def test_with_system_mode_is_how_the_org_answers(crm):
    assert ids(crm, "SELECT Id FROM Contact WITH SYSTEM_MODE") == ids(crm, "SELECT Id FROM Contact")


@pytest.mark.parametrize("soql, cls, words", [
    ("SELECT LeadSourceCOUNT(Name) FROM Lead", MalformedQuery, "unexpected token: '('"),
    ("SELECT Id FROM Account WHERE AnnualRevenue > USD5000", MalformedQuery, "multicurrency"),
    ("SELECT convertCurrency(AnnualRevenue) FROM Account", MalformedQuery, "multicurrency"),
    ("SELECT Id FROM Account USING SCOPE nonsense", MalformedQuery, "unexpected token: 'nonsense'"),
])
def test_clear_refusals(crm, soql, cls, words):
    with pytest.raises(cls) as e:
        crm.query(soql)
    assert words in e.value.message
