"""COUNT(), aggregates, GROUP BY, HAVING, aliases and exprN naming."""

import pytest

from slotforce.localorg.errors import MalformedQuery


def test_count_only_gives_total_size_and_no_records(crm):
    result = crm.query("SELECT COUNT() FROM Contact WHERE Email LIKE '%acme.com'")
    assert result.records == [] and result.total_size == 2


def test_count_with_limit_counts_at_most_limit(crm):
    assert crm.query("SELECT COUNT() FROM Contact LIMIT 3").total_size == 3


def test_count_must_stand_alone(crm):
    with pytest.raises(MalformedQuery):
        crm.query("SELECT COUNT(), Name FROM Contact")


def test_aggregate_records_have_expr_keys(crm):
    recs = crm.records("SELECT COUNT(Id), COUNT(Website), MAX(NumberOfEmployees) FROM Account")
    assert recs == [{"attributes": {"type": "AggregateResult"}, "expr0": 3, "expr1": 1, "expr2": 50}]


def test_alias_replaces_expr_and_numbering_skips_aliased(crm):
    recs = crm.records("SELECT COUNT(Id) total, SUM(NumberOfEmployees), AVG(NumberOfEmployees) avg_size "
                       "FROM Account")
    assert recs[0] == {"attributes": {"type": "AggregateResult"}, "total": 3, "expr0": 60, "avg_size": 30.0}


def test_group_by_with_having(crm):
    recs = crm.records("SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry HAVING COUNT(Id) > 1")
    assert [(r["Industry"], r["n"]) for r in recs] == [("Energy", 2)]


def test_group_by_is_case_insensitive(org):
    for name in ("acme", "ACME", "Acme", "Other"):
        org.insert("Account", Name=name)
    recs = org.records("SELECT Name, COUNT(Id) FROM Account GROUP BY Name ORDER BY COUNT(Id) DESC")
    assert [r["expr0"] for r in recs] == [3, 1]


def test_group_by_relationship_field_uses_the_last_segment_as_key(crm):
    recs = crm.records("SELECT Account.Name, COUNT(Id) FROM Contact WHERE AccountId != null "
                       "GROUP BY Account.Name ORDER BY Account.Name")
    assert recs == [{"attributes": {"type": "AggregateResult"}, "Name": "Acme", "expr0": 2},
                    {"attributes": {"type": "AggregateResult"}, "Name": "Globex", "expr0": 1}]


def test_count_distinct_min_max_on_dates(crm):
    recs = crm.records("SELECT COUNT_DISTINCT(WhoId), MIN(StartDateTime), MAX(ActivityDate) FROM Event")
    assert recs[0]["expr0"] == 2
    assert recs[0]["expr1"] == "2024-04-01T09:00:00.000+0000"
    assert recs[0]["expr2"] == "2024-05-20"


def test_having_on_grouped_field(crm):
    recs = crm.records("SELECT Industry FROM Account GROUP BY Industry HAVING Industry = 'software'")
    assert recs == [{"attributes": {"type": "AggregateResult"}, "Industry": "Software"}]


def test_ungrouped_field_is_malformed(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT Name, COUNT(Id) FROM Account GROUP BY Industry")
    assert "Field must be grouped or aggregated: Name" in e.value.message


def test_sum_of_text_is_malformed(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT SUM(Name) FROM Account")
    assert "does not support aggregate operator SUM" in e.value.message


def test_aggregate_in_where_is_malformed(crm):
    with pytest.raises(MalformedQuery):
        crm.query("SELECT Industry FROM Account WHERE COUNT(Id) > 1 GROUP BY Industry")


def test_count_with_group_by_counts_groups(crm):
    assert crm.query("SELECT COUNT() FROM Account GROUP BY Industry").total_size == 2


def test_grouped_field_alias(crm):
    recs = crm.records("SELECT Industry ind, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Industry")
    assert [(r["ind"], r["expr0"]) for r in recs] == [("Energy", 2), ("Software", 1)]


def test_alias_on_a_plain_field_outside_aggregates_is_malformed(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT Name n FROM Account")
    assert "unexpected token: 'n'" in e.value.message
