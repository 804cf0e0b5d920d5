"""ORDER BY (several keys, NULLS FIRST/LAST, case-insensitive), LIMIT, OFFSET."""

import pytest

from slotforce.localorg.errors import InvalidField, SalesforceError


def col(org, soql, key):
    return [r[key] for r in org.records(soql)]


def test_order_by_several_keys(crm):
    soql = "SELECT LastName FROM Contact ORDER BY Account.Name DESC NULLS LAST, LastName ASC"
    assert col(crm, soql, "LastName") == ["Zed", "Doe", "Smith", "Orphan"]


def test_nulls_first_by_default_ascending_and_last_descending(crm):
    assert col(crm, "SELECT LastName FROM Contact ORDER BY Email", "LastName")[0] == "Zed"
    assert col(crm, "SELECT LastName FROM Contact ORDER BY Email DESC", "LastName")[-1] == "Zed"


def test_explicit_nulls(crm):
    assert col(crm, "SELECT LastName FROM Contact ORDER BY Email ASC NULLS LAST", "LastName")[-1] == "Zed"
    assert col(crm, "SELECT LastName FROM Contact ORDER BY Email DESC NULLS FIRST", "LastName")[0] == "Zed"


def test_order_by_text_is_case_insensitive(org):
    for name in ("beta", "Alpha", "alpha2", "Beta2"):
        org.insert("Account", Name=name)
    assert col(org, "SELECT Name FROM Account ORDER BY Name", "Name") == ["Alpha", "alpha2", "beta", "Beta2"]


def test_limit_and_offset(crm):
    soql = "SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1"
    assert col(crm, soql, "LastName") == ["Orphan", "Smith"]
    assert col(crm, "SELECT LastName FROM Contact ORDER BY LastName OFFSET 3", "LastName") == ["Zed"]


def test_offset_above_2000_is_out_of_range(crm):
    with pytest.raises(SalesforceError) as e:
        crm.query("SELECT Id FROM Contact OFFSET 2001")
    assert e.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"


def test_long_text_cannot_be_sorted(crm):
    with pytest.raises(InvalidField) as e:
        crm.query("SELECT Id FROM Contact ORDER BY Description")
    assert "field 'Description' can not be sorted in a query call" in e.value.message
