"""WHERE: operators, case-insensitive text, nulls, LIKE escapes, IN lists, semi-/anti-joins, injection."""

import pytest

from slotforce.localorg.errors import InvalidQueryFilterOperator, MalformedQuery


def names(org, soql, key="LastName"):
    return sorted(r[key] for r in org.records(soql))


def test_equals_on_text_is_case_insensitive(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Email = 'JANE@ACME.COM'") == ["Doe"]


def test_equals_null_matches_empty_fields(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Email = null") == ["Zed"]


def test_not_equals_null(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Email != null") == ["Doe", "Orphan", "Smith"]


def test_not_equals_keeps_rows_with_null(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Email != 'jane@acme.com'") == ["Orphan", "Smith", "Zed"]


def test_not_of_a_comparison_keeps_rows_with_null(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE NOT Email = 'jane@acme.com'") == ["Orphan", "Smith", "Zed"]


def test_and_or_with_parentheses(crm):
    soql = ("SELECT LastName FROM Contact WHERE (LastName = 'Doe' OR LastName = 'Zed') "
            "AND Account.Name = 'Globex'")
    assert names(crm, soql) == ["Zed"]


def test_null_parent_matches_parent_field_equals_null(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Account.Name = null") == ["Orphan"]


def test_number_comparisons(crm):
    assert names(crm, "SELECT Name FROM Account WHERE NumberOfEmployees >= 10", "Name") == ["Acme", "Globex"]
    assert names(crm, "SELECT Name FROM Account WHERE NumberOfEmployees < 50", "Name") == ["Globex"]
    assert names(crm, "SELECT Name FROM Account WHERE AnnualRevenue > 1000.25", "Name") == ["Acme"]


def test_boolean_comparison(crm):
    assert names(crm, "SELECT Alias FROM User WHERE IsActive = true", "Alias") == ["ann"]
    assert names(crm, "SELECT Alias FROM User WHERE IsActive != TRUE", "Alias") == ["bob"]


def test_string_ordering_comparison_is_case_insensitive(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE LastName > 'o'") == ["Orphan", "Smith", "Zed"]


def test_like_is_case_insensitive_with_wildcards(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Email LIKE '%@ACME.com'") == ["Doe", "Smith"]
    assert names(crm, "SELECT LastName FROM Contact WHERE LastName LIKE 'd_e'") == ["Doe"]


def test_like_escapes_match_literal_percent_and_underscore(crm):
    assert names(crm, r"SELECT LastName FROM Contact WHERE Email LIKE 'o\%\_@%'") == ["Orphan"]
    assert names(crm, r"SELECT LastName FROM Contact WHERE Email LIKE 'j\%%'") == []


def test_in_list_is_case_insensitive(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE LastName IN ('doe', 'ZED', 'nobody')") == ["Doe", "Zed"]


def test_not_in_list_keeps_nulls(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Email NOT IN ('jane@acme.com', 'john@acme.com')") \
        == ["Orphan", "Zed"]


def test_in_list_with_null(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Email IN ('jane@acme.com', null)") == ["Doe", "Zed"]


def test_id_in_list_accepts_15_character_ids(crm):
    id15 = crm.ids["jane"][:15]
    assert names(crm, f"SELECT LastName FROM Contact WHERE Id IN ('{id15}')") == ["Doe"]
    assert names(crm, f"SELECT LastName FROM Contact WHERE AccountId = '{crm.ids['globex'][:15]}'") == ["Zed"]


def test_invalid_id_is_invalid_query_filter_operator(crm):
    with pytest.raises(InvalidQueryFilterOperator) as e:
        crm.query("SELECT Id FROM Contact WHERE Id = 'abc'")
    assert e.value.message.endswith("invalid ID field: abc")


def test_semi_join(crm):
    soql = ("SELECT Name FROM Account WHERE Id IN "
            "(SELECT AccountId FROM Contact WHERE Email LIKE '%@acme.com')")
    assert names(crm, soql, "Name") == ["Acme"]


def test_anti_join(crm):
    soql = "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)"
    assert names(crm, soql, "Name") == ["Initech"]


def test_semi_join_on_a_reference_field(crm):
    soql = "SELECT LastName FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Industry = 'Energy')"
    assert names(crm, soql) == ["Doe", "Smith", "Zed"]


def test_semi_join_over_polymorphic_lookup(crm):
    soql = "SELECT LastName FROM Contact WHERE Id IN (SELECT WhoId FROM Event WHERE Subject = 'Intro')"
    assert names(crm, soql) == ["Doe"]


def test_semi_join_must_point_at_the_same_object(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT Id FROM Account WHERE Id IN (SELECT OwnerId FROM Contact)")
    assert "should point to the same object type" in e.value.message


def test_semi_join_inside_or_is_refused(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT Id FROM Account WHERE Name = 'x' OR Id IN (SELECT AccountId FROM Contact)")
    assert "'OR'" in e.value.message


def test_semi_join_must_select_an_id_field(crm):
    from slotforce.localorg.errors import InvalidField
    with pytest.raises(InvalidField) as e:
        crm.query("SELECT Id FROM Account WHERE Id IN (SELECT LastName FROM Contact)")
    assert "semi join sub selects can only query id fields, cannot use: 'LastName'" in e.value.message


def test_nested_semi_join_is_refused(crm):
    with pytest.raises(MalformedQuery):
        crm.query("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE "
                  "Id IN (SELECT WhoId FROM Event))")


def test_date_and_datetime_values(crm):
    assert names(crm, "SELECT LastName FROM Contact WHERE Birthdate = 1990-05-16") == ["Doe"]
    soql = "SELECT Subject FROM Event WHERE StartDateTime >= 2024-05-15T12:00:00+02:00"
    assert names(crm, soql, "Subject") == ["Demo", "Intro"]
    soql = "SELECT Subject FROM Event WHERE StartDateTime > 2024-05-15T10:00:00Z"
    assert names(crm, soql, "Subject") == ["Demo"]


def test_injection_attempts_are_just_values(crm):
    evil = r"x\' OR \'1\'=\'1"
    assert crm.records(f"SELECT Id FROM Contact WHERE LastName = '{evil}'") == []
    assert crm.records("SELECT Id FROM Contact WHERE LastName = '\\'; DROP TABLE Contact; --'") == []
    assert crm.records("SELECT Id FROM Contact WHERE LastName LIKE '%\\' OR 1=1 --'") == []
    assert crm.query("SELECT COUNT() FROM Contact").total_size == 4


def test_injection_in_names_is_an_unknown_field_not_sql(crm):
    from slotforce.localorg.errors import InvalidField
    with pytest.raises((InvalidField, MalformedQuery)):
        crm.query('SELECT Id FROM Contact WHERE "LastName" = \'x\'')
    with pytest.raises(InvalidField):
        crm.query("SELECT sqlite_version FROM Contact")


def test_non_ascii_text_compares_case_insensitively(org):
    org.insert("Contact", LastName="Émile", Name="Émile")
    org.insert("Contact", LastName="Zoë", Name="Zoë")
    assert names(org, "SELECT LastName FROM Contact WHERE LastName = 'éMILE'") == ["Émile"]
    assert names(org, "SELECT LastName FROM Contact WHERE LastName IN ('ZOË', 'x')") == ["Zoë"]
    assert names(org, "SELECT LastName FROM Contact WHERE LastName LIKE 'é%'") == ["Émile"]
    assert names(org, "SELECT LastName FROM Contact WHERE LastName != 'ÉMILE'") == ["Zoë"]
    assert names(org, "SELECT LastName FROM Contact WHERE LastName = 'emile'") == []
