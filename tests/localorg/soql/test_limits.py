"""Issue 12.1: queries at and past Salesforce's limits answer 200 or a Salesforce-shaped 400, never a crash."""

import sqlite3

import pytest

from slotforce.localorg.errors import MalformedQuery, NotImplementedByLocalOrg, NumberOutsideValidRange
from slotforce.localorg.soql import logic
from slotforce.localorg.soql.execute import run_plan

WHERE = "SELECT Id FROM Contact WHERE "


def ids(org, soql):
    return sorted(r["Id"] for r in org.records(soql))


def test_many_nots_fold_away(crm):
    everyone = ids(crm, "SELECT Id FROM Contact")
    assert ids(crm, WHERE + "NOT " * 41 + "Name = 'Nobody'") == everyone
    assert ids(crm, WHERE + "NOT (" * 600 + "Name = 'Jane Doe'" + ")" * 600) == ids(crm, WHERE + "Name = 'Jane Doe'")
    assert ids(crm, WHERE + "NOT (" * 601 + "Name = 'Jane Doe'" + ")" * 601) == ids(crm, WHERE + "Name != 'Jane Doe'")


def test_long_or_chain_becomes_in(crm):
    names = [f"'n{i}'" for i in range(1500)] + ["'Jane Doe'", "'Zed'"]
    chain = WHERE + " OR ".join(f"Name = {v}" for v in names)
    assert ids(crm, chain) == ids(crm, WHERE + "Name IN ('Jane Doe', 'Zed')")


def test_long_mixed_chains_are_balanced(crm):
    pairs = " OR ".join(f"(Name = 'n{i}' AND Email != 'e{i}')" for i in range(1200))
    assert ids(crm, WHERE + pairs + " OR (Name = 'Zed' AND Email = null)") == ids(crm, WHERE + "Name = 'Zed'")
    ands = " AND ".join(f"Name != 'n{i}'" for i in range(3000))
    assert ids(crm, WHERE + ands) == ids(crm, "SELECT Id FROM Contact")


def test_de_morgan_keeps_two_valued_logic(crm):
    # NOT (Email = 'x' AND Name = 'Zed'): Zed has no Email, so the AND is false and NOT is true.
    assert ids(crm, WHERE + "NOT (Email = 'x' AND Name = 'Zed')") == ids(crm, "SELECT Id FROM Contact")
    assert ids(crm, WHERE + "NOT (Email != null OR Name = 'Orphan')") == ids(crm, WHERE + "Name = 'Zed'")


def test_too_deep_alternation_is_refused_by_name(crm):
    cond = "Name = 'x'"
    for i in range(40):
        cond = f"Email = 'e{i}' {'AND' if i % 2 else 'OR'} ({cond})"
    with pytest.raises(NotImplementedByLocalOrg) as e:
        crm.query(WHERE + cond)
    assert f"more than {logic.MAX_SQL_DEPTH} levels" in e.value.message


def test_statement_length_limit(crm):
    long = WHERE + "Name = '" + "x" * 3900 + "' OR " + " OR ".join(f"Name = 'n{i}'" for i in range(8000))
    with pytest.raises(MalformedQuery) as e:
        crm.query(long)
    assert "cannot be longer than 100,000 characters" in e.value.message
    at_limit = WHERE + " OR ".join(f"Name = 'n{i:05}'" for i in range(5000))
    assert len(at_limit) < 100_000 and crm.records(at_limit) == []


@pytest.mark.parametrize("soql", [
    "SELECT Id FROM Contact LIMIT 99999999999999999999",
    "SELECT Id FROM Contact ORDER BY Name OFFSET 99999999999999999999",
    "SELECT Id FROM Account WHERE NumberOfEmployees = 12345678901234567890123",
    "SELECT Id FROM Account WHERE AnnualRevenue IN (1, -1000000000000000000000.5)",
    "SELECT Id FROM Contact WHERE Birthdate = LAST_N_DAYS:99999999999",
])
def test_numbers_out_of_range(crm, soql):
    with pytest.raises(NumberOutsideValidRange) as e:
        crm.query(soql)
    assert e.value.status == 400 and e.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"


def test_huge_date_literal_ranges_are_cut_at_the_calendar(crm):
    assert ids(crm, "SELECT Id FROM Contact WHERE Birthdate = LAST_N_DAYS:999999999") == \
        ids(crm, "SELECT Id FROM Contact WHERE Birthdate != null")
    assert ids(crm, "SELECT Id FROM Event WHERE StartDateTime = NEXT_N_YEARS:100000") == \
        ids(crm, "SELECT Id FROM Event WHERE StartDateTime > THIS_YEAR")
    assert ids(crm, "SELECT Id FROM Event WHERE StartDateTime <= NEXT_N_WEEKS:2147483647") == \
        ids(crm, "SELECT Id FROM Event")
    assert crm.records("SELECT Id FROM Event WHERE StartDateTime = N_MONTHS_AGO:2000000000") == []


def test_invalid_unicode_is_refused(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT Id FROM Contact WHERE Name = '\\ud800'")
    assert "Illegal character sequence '\\ud800'" in e.value.message
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT Id FROM Contact WHERE Name = '\ud800'")
    assert "U+D800" in e.value.message
    jid = crm.insert("Contact", LastName="Emoji", Name="\U0001F600")
    assert ids(crm, "SELECT Id FROM Contact WHERE Name = '\\uD83D\\uDE00'") == [jid]


def test_sqlite_limits_are_a_refusal_not_a_crash(crm, monkeypatch):
    plan = type("P", (), {"kind": "records", "sql": "SELECT 1", "params": {}, "tz": None})()

    def overflow(*a, **k):
        raise sqlite3.OperationalError("parser stack overflow")

    monkeypatch.setattr("slotforce.localorg.soql.execute._run_plan", overflow)
    with pytest.raises(NotImplementedByLocalOrg) as e:
        run_plan(crm.conn, crm.schema, plan)
    assert "too complex for the local org" in e.value.message
