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
    assert "SCAN" in plan_of(org, "SELECT Id FROM Contact WHERE Email LIKE '%@x.com'")
