"""toLabel(), FORMAT(), GROUP BY ROLLUP / CUBE with GROUPING(), UPDATE TRACKING / VIEWSTAT, currency.

Expected values follow the SOQL and SOSL Reference: toLabel() answers describe's picklist labels
(aliasing "required when the query includes the same field multiple times"; not in ORDER BY);
FORMAT() the en_US forms of its examples (`$44,000.00`, `4/10/2025, 3:31 PM`); ROLLUP the rows of
"Identify Subtotals with GROUP BY" (subtotals with null group values, GROUPING() 1 on them).
"""

import datetime as dt

import pytest

from slotforce.localorg.errors import MalformedQuery, NotImplementedByLocalOrg
from slotforce.localorg.schema import Field, PicklistValue


@pytest.fixture
def tiers(crm):
    account = crm.schema.get("Account")
    for f in (Field("Tier__c", "picklist", length=255, custom=True,
                    picklist_values=[PicklistValue("Gold_Plus", "Gold Plus"), PicklistValue("Silver", "Silver")]),
              Field("Regions__c", "multipicklist", length=4099, custom=True,
                    picklist_values=[PicklistValue("EMEA", "Europe"), PicklistValue("NA", "North America")])):
        account.add_field(f)
        crm.conn.execute(f'ALTER TABLE "Account" ADD COLUMN "{f.name}" TEXT COLLATE NOCASE')
    crm.conn.execute("UPDATE \"Account\" SET Tier__c = 'Gold_Plus', Regions__c = 'EMEA;NA', "
                     "CreatedDate = '2025-04-10T22:31:37.000+0000' WHERE Name = 'Acme'")
    crm.conn.execute("UPDATE \"Account\" SET Tier__c = 'Retired' WHERE Name = 'Globex'")  # not a value any more
    return crm


def values(records, *keys):
    return [tuple(r[k] for k in keys) for r in records]


def test_tolabel_answers_describe_labels_under_the_field_name(tiers):
    recs = tiers.records("SELECT Name, toLabel(Tier__c), toLabel(Regions__c) FROM Account ORDER BY Name")
    assert values(recs, "Name", "Tier__c", "Regions__c") == [
        ("Acme", "Gold Plus", "Europe;North America"), ("Globex", "Retired", None), ("Initech", None, None)]


def test_tolabel_beside_the_field_needs_an_alias(tiers):
    recs = tiers.records("SELECT Tier__c, toLabel(Tier__c) tier FROM Account WHERE Name = 'Acme'")
    assert values(recs, "Tier__c", "tier") == [("Gold_Plus", "Gold Plus")]
    with pytest.raises(MalformedQuery, match="duplicate field selected: Tier__c"):
        tiers.records("SELECT Tier__c, toLabel(Tier__c) FROM Account")


def test_tolabel_filters_on_the_label_not_in_order_by(tiers):
    assert values(tiers.records("SELECT Name FROM Account WHERE toLabel(Tier__c) = 'gold plus'"), "Name") == [("Acme",)]
    assert tiers.records("SELECT Name FROM Account WHERE toLabel(Tier__c) = 'Gold_Plus'") == []
    assert values(tiers.records("SELECT Name FROM Account WHERE toLabel(Tier__c) LIKE 'Gold %'"), "Name") == [("Acme",)]
    with pytest.raises(MalformedQuery, match="ORDER BY"):
        tiers.records("SELECT Name FROM Account ORDER BY toLabel(Tier__c)")
    with pytest.raises(MalformedQuery, match="picklist"):
        tiers.records("SELECT toLabel(Name) FROM Account")


def test_tolabel_of_a_parent_and_in_child_subqueries(tiers):
    recs = tiers.records("SELECT LastName, toLabel(Account.Tier__c) FROM Contact WHERE LastName = 'Doe'")
    assert recs[0]["Account"]["Tier__c"] == "Gold Plus"
    recs = tiers.records("SELECT toLabel(Account.Tier__c) tier FROM Contact WHERE LastName = 'Doe'")
    assert recs[0]["tier"] == "Gold Plus" and "Account" not in recs[0]
    recs = tiers.records("SELECT Name, (SELECT toLabel(Account.Tier__c) FROM Contacts) FROM Account WHERE Name = 'Acme'")
    assert recs[0]["Contacts"]["records"][0]["Account"]["Tier__c"] == "Gold Plus"


def test_format_in_the_org_locale(tiers):
    tiers.conn.execute("UPDATE \"Account\" SET AnnualRevenue = 44000 WHERE Name = 'Acme'")
    tiers.insert("Opportunity", Name="Big", Amount=-1234567.5, CloseDate="2015-12-28", Probability=12.0,
                 StageName="Prospecting")
    rec = tiers.records("SELECT FORMAT(AnnualRevenue), FORMAT(CreatedDate) created, NumberOfEmployees, "
                        "FORMAT(NumberOfEmployees) n FROM Account WHERE Name = 'Acme'",
                        tz=dt.timezone(dt.timedelta(hours=-7)))[0]
    assert (rec["AnnualRevenue"], rec["created"], rec["NumberOfEmployees"], rec["n"]) == \
        ("$44,000", "4/10/2025, 3:31 PM", 50, "50")
    rec = tiers.records("SELECT FORMAT(Amount), FORMAT(CloseDate), FORMAT(Probability) FROM Opportunity")[0]
    assert (rec["Amount"], rec["CloseDate"], rec["Probability"]) == ("-$1,234,567.50", "12/28/2015", "12%")
    agg = tiers.records("SELECT FORMAT(SUM(Amount)) total, FORMAT(MIN(CloseDate)) FROM Opportunity")[0]
    assert (agg["total"], agg["expr0"]) == ("-$1,234,567.50", "12/28/2015")
    with pytest.raises(NotImplementedByLocalOrg, match="FORMAT"):
        tiers.records("SELECT FORMAT(Name) FROM Account")
    with pytest.raises(NotImplementedByLocalOrg, match="FORMAT"):  # found by fuzzing: once an AttributeError
        tiers.records("SELECT FORMAT(MIN(Name)) FROM Account")


def test_rollup_adds_subtotal_rows_with_null_group_values(crm):
    recs = crm.records("SELECT Industry, COUNT(Name) cnt FROM Account GROUP BY ROLLUP(Industry)")
    assert values(recs, "Industry", "cnt") == [("Energy", 2), ("Software", 1), (None, 3)]


def test_rollup_of_two_fields_with_grouping(crm):
    crm.conn.execute("UPDATE \"Account\" SET Type = 'Customer' WHERE Name = 'Acme'")
    recs = crm.records("SELECT Industry, Type, GROUPING(Industry) grpInd, GROUPING(Type) grpType, COUNT(Id) cnt "
                       "FROM Account GROUP BY ROLLUP(Industry, Type)")
    assert values(recs, "Industry", "Type", "grpInd", "grpType", "cnt") == [
        ("Energy", None, 0, 0, 1), ("Energy", "Customer", 0, 0, 1), ("Energy", None, 0, 1, 2),
        ("Software", None, 0, 0, 1), ("Software", None, 0, 1, 1), (None, None, 1, 1, 3)]


def test_cube_having_order_by_and_limit(crm):
    crm.conn.execute("UPDATE \"Account\" SET Type = 'Customer' WHERE Name = 'Acme'")
    recs = crm.records("SELECT Industry, Type, COUNT(Id) cnt FROM Account GROUP BY CUBE(Industry, Type) "
                       "HAVING GROUPING(Industry) = 1 ORDER BY COUNT(Id) DESC, Type NULLS LAST")
    # the totals over Type alone, then the grand total
    assert values(recs, "Industry", "Type", "cnt") == [(None, None, 3), (None, None, 2), (None, "Customer", 1)]
    recs = crm.records("SELECT Industry, COUNT(Id) cnt FROM Account GROUP BY ROLLUP(Industry) "
                       "HAVING Industry = null ORDER BY Industry LIMIT 5")
    assert values(recs, "Industry", "cnt") == [(None, 3)]  # the grand total row: Industry reads null there


def test_grouping_alone_and_in_order_by(crm):
    recs = crm.records("SELECT Industry, GROUPING(Industry) FROM Account GROUP BY ROLLUP(Industry) "
                       "ORDER BY GROUPING(Industry) DESC, Industry")
    assert values(recs, "Industry", "expr0") == [(None, 1), ("Energy", 0), ("Software", 0)]


def test_rollup_of_no_rows_is_no_rows(crm):
    assert crm.records("SELECT Industry, COUNT(Id) FROM Account WHERE Name = 'none' GROUP BY ROLLUP(Industry)") == []


@pytest.mark.parametrize("soql, match", [
    ("SELECT Industry, COUNT(Id) FROM Account GROUP BY ROLLUP(Industry, Type, Name, Site)", "one to three"),
    ("SELECT GROUPING(Industry), COUNT(Id) FROM Account GROUP BY Industry", "ROLLUP or GROUP BY CUBE"),
    ("SELECT Industry, GROUPING(Type), COUNT(Id) FROM Account GROUP BY ROLLUP(Industry)", "GROUPING"),
    ("SELECT Id FROM Account WHERE GROUPING(Industry) = 1", "GROUPING"),
    ("SELECT Industry, COUNT(Id) FROM Account GROUP BY ROLLUP(Industry, Industry)", "twice"),
    ("SELECT Industry, COUNT(Id) FROM Account GROUP BY ROLLUP(Industry), Type", "cannot be combined"),
    ("SELECT Id FROM Account UPDATE TRACKING", "Knowledge"),
    ("SELECT COUNT(Id) FROM Account GROUP BY toLabel(Industry)", "cannot be used in GROUP BY"),
    ("SELECT COUNT(Id) FROM Account GROUP BY FOO(Industry)", "unexpected token"),
    ("SELECT Id FROM Account UPDATE VIEWSTAT", "Knowledge"),
    ("SELECT Id FROM Account WHERE AnnualRevenue > USD5000", "multicurrency"),
    ("SELECT convertCurrency(AnnualRevenue) FROM Account", "multicurrency"),
    ("SELECT FORMAT(convertCurrency(AnnualRevenue)) FROM Account", "multicurrency"),
])
def test_malformed_uses_are_malformed(crm, soql, match):
    with pytest.raises(MalformedQuery, match=match):
        crm.records(soql)


def test_name_entity_fields_no_target_has_read_null(crm):
    """`What.Email`: the Name entity has Email; none of What's objects does, so it reads null (corpus, TYPEOF ... ELSE)."""
    recs = crm.records("SELECT Subject, What.Email FROM Event WHERE Subject = 'Intro'")
    assert recs[0]["What"]["Email"] is None and recs[0]["What"]["attributes"]["type"] == "Account"
    recs = crm.records("SELECT TYPEOF What WHEN Opportunity THEN Amount ELSE Name, Email END FROM Event "
                       "WHERE Subject = 'Intro'")
    assert (recs[0]["What"]["Name"], recs[0]["What"]["Email"]) == ("Acme", None)


def test_with_user_id_feed_filter_is_read_and_refused_by_name(crm):
    from slotforce.localorg.errors import InvalidType, NotImplementedByLocalOrg

    with pytest.raises(InvalidType, match="UserProfileFeed"):
        crm.records("SELECT Id FROM UserProfileFeed WITH UserId='005D0000001AamR' ORDER BY CreatedDate DESC LIMIT 20")
    with pytest.raises(NotImplementedByLocalOrg, match="UserProfileFeed filter"):
        crm.records("SELECT Id FROM Account WITH UserId = '005D0000001AamR'")
