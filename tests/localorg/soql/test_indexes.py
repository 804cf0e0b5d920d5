"""Queries on indexed fields must be able to use the store's indexes (checked with EXPLAIN QUERY PLAN)."""

from slotforce.localorg.soql import parse
from slotforce.localorg.soql.compiler import compile_query


def plan_of(org, soql):
    plan = compile_query(org.schema, soql, parse(soql))
    return " | ".join(row[-1] for row in org.conn.execute("EXPLAIN QUERY PLAN " + plan.sql, plan.params))


def test_email_equals_uses_an_index(org):
    assert "USING INDEX" in plan_of(org, "SELECT Id FROM Contact WHERE Email = 'a@b.c'")


def test_id_equals_and_in_use_the_primary_key(org):
    assert "USING INDEX" in plan_of(org, "SELECT Id FROM Contact WHERE Id = '003000000000001AAA'")
    assert "USING INDEX" in plan_of(org, "SELECT Id FROM Contact WHERE Id IN ('003000000000001AAA', "
                                         "'003000000000002AAA')")


def test_name_and_lookup_filters_use_indexes(org):
    assert "USING INDEX" in plan_of(org, "SELECT Id FROM Account WHERE Name = 'Acme'")
    assert "USING INDEX" in plan_of(org, "SELECT Id FROM Contact WHERE AccountId = '001000000000001AAA'")


def test_parent_join_uses_the_parent_primary_key(org):
    explained = plan_of(org, "SELECT Account.Name FROM Contact WHERE Email = 'a@b.c'")
    assert explained.count("USING INDEX") + explained.count("PRIMARY KEY") >= 2


def test_like_with_leading_wildcard_is_a_scan(org):
    assert "SCAN" in plan_of(org, "SELECT Id FROM Contact WHERE Email LIKE '%.com'")
    assert "SCAN" in plan_of(org, "SELECT Id FROM Contact WHERE LastName LIKE '%@x.com'")


def test_email_like_an_at_domain_suffix_searches_the_domain_index(org):
    """issue 11.7: `Email LIKE '%@domain'` is served by the email domain index (store.email_domain_sql)."""
    for soql in ("SELECT Id FROM Contact WHERE Email LIKE '%@x.com'",
                 "SELECT Id FROM Contact WHERE Email LIKE '%n@X.COM' AND LastName != null",
                 "SELECT Id FROM Lead WHERE Email LIKE '%@x.com'"):
        assert "USING INDEX ix_" in plan_of(org, soql) and "_Email_domain" in plan_of(org, soql), soql
