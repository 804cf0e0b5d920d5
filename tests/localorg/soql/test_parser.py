"""SOQL text -> syntax tree, and MALFORMED_QUERY messages that point where Salesforce points."""

import datetime as dt

import pytest

from slotforce.localorg.errors import MalformedQuery, NotImplementedByLocalOrg
from slotforce.localorg.soql import nodes as n
from slotforce.localorg.soql import parse


def test_keywords_and_names_are_case_insensitive():
    q = parse("select id, NAME from account wHeRe name = 'x' order by name desc nulls last limit 5")
    assert q.sobject == "account"
    assert [i.field.path for i in q.select] == [("id",), ("NAME",)]
    assert q.order_by[0].descending and q.order_by[0].nulls == "LAST"
    assert q.limit == 5


def test_relationship_paths_keep_their_segments():
    q = parse("SELECT Account.Owner.Email FROM Contact")
    assert q.select[0].field.path == ("Account", "Owner", "Email")


def test_child_subquery_is_a_select_item():
    q = parse("SELECT Id, (SELECT Id FROM Contacts WHERE LastName = 'a' LIMIT 2) FROM Account")
    sub = q.select[1]
    assert isinstance(sub, n.SelectSubquery)
    assert sub.query.sobject == "Contacts" and sub.query.limit == 2


def test_and_or_not_and_parentheses():
    q = parse("SELECT Id FROM Lead WHERE (A = 1 OR B = 2) AND NOT C = 3")
    assert isinstance(q.where, n.And)
    assert isinstance(q.where.items[0], n.Or)
    assert isinstance(q.where.items[1], n.Not)


def test_mixing_and_with_or_without_parentheses_is_malformed():
    with pytest.raises(MalformedQuery) as e:
        parse("SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3")
    assert "unexpected token: 'OR'" in e.value.message


def test_less_greater_is_not_equals():
    q = parse("SELECT Id FROM Lead WHERE Email <> 'a'")
    assert q.where.op == "!="


def test_string_escapes_decode():
    q = parse(r"SELECT Id FROM Lead WHERE LastName = 'O\'Brien \\ \n \t \" \u00e9'")
    assert q.where.value.value == "O'Brien \\ \n \t \" \u00e9"


def test_like_escapes_stay_literal_in_the_pattern():
    q = parse(r"SELECT Id FROM Lead WHERE Email LIKE '100\%\_%'")
    assert q.where.value.like_pattern == r"100\%\_%"
    assert q.where.value.value == "100%_%"


def test_unknown_escape_is_malformed():
    with pytest.raises(MalformedQuery) as e:
        parse(r"SELECT Id FROM Lead WHERE LastName = 'a\qb'")
    assert r"'\q'" in e.value.message


def test_datetime_literals_accept_z_and_offsets_and_become_utc():
    q = parse("SELECT Id FROM Event WHERE StartDateTime > 2024-01-01T10:00:00+02:00 "
              "AND EndDateTime < 2024-01-01T10:00:00.5Z")
    first, second = q.where.items
    assert first.value.value == dt.datetime(2024, 1, 1, 8, 0, tzinfo=dt.timezone.utc)
    assert second.value.value.microsecond == 500000


def test_date_literal_with_n():
    q = parse("SELECT Id FROM Event WHERE ActivityDate = LAST_N_DAYS:7")
    assert q.where.value == n.DateLiteral("LAST_N_DAYS", 7, q.where.value.pos)


def test_semi_join_and_anti_join():
    q = parse("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact) "
              "AND Id NOT IN (SELECT WhatId FROM Event)")
    semi, anti = q.where.items
    assert isinstance(semi, n.InSubquery) and not semi.negated
    assert isinstance(anti, n.InSubquery) and anti.negated


def test_aggregate_alias():
    q = parse("SELECT COUNT(Id) total, MAX(CreatedDate) FROM Lead GROUP BY Status")
    assert q.select[0].alias == "total" and q.select[1].alias is None
    assert q.group_by[0].path == ("Status",)


def test_misspelt_keyword_names_the_token_with_row_and_column():
    with pytest.raises(MalformedQuery) as e:
        parse("SELECT Id FORM Account")
    assert e.value.message == ("\nSELECT Id FORM Account\n          ^\n"
                               "ERROR at Row:1:Column:11\nunexpected token: 'FORM'")
    assert e.value.error_code == "MALFORMED_QUERY" and e.value.status == 400


def test_error_on_second_line_reports_row_2():
    with pytest.raises(MalformedQuery) as e:
        parse("SELECT Id\nFROM Account WHERE\n")
    assert "ERROR at Row:2" in e.value.message and "'<EOF>'" in e.value.message


def test_double_quoted_string_is_malformed():
    with pytest.raises(MalformedQuery) as e:
        parse('SELECT Id FROM Lead WHERE Email = "a@b.c"')
    assert "Column:35" in e.value.message


def test_apex_bind_variable_is_malformed():
    with pytest.raises(MalformedQuery):
        parse("SELECT Id FROM Lead WHERE Email = :email")


def test_string_longer_than_4000_characters_is_malformed():
    with pytest.raises(MalformedQuery) as e:
        parse("SELECT Id FROM Lead WHERE Email = '" + "a" * 4001 + "'")
    assert "4000" in e.value.message


def test_sosl_is_refused_as_not_implemented():
    with pytest.raises(NotImplementedByLocalOrg):
        parse("FIND {Acme} IN ALL FIELDS RETURNING Account(Name)")


def test_for_update_is_accepted():
    assert parse("SELECT Id FROM Account LIMIT 1 FOR UPDATE").for_clause == "UPDATE"


def test_reserved_keyword_is_never_a_field_name():
    with pytest.raises(MalformedQuery) as e:
        parse("SELECT FROM Account")
    assert "ERROR at Row:1:Column:8\nunexpected token: 'FROM'" in e.value.message
    with pytest.raises(MalformedQuery) as e:
        parse("SELECT Id, FROM Account")
    assert "unexpected token: 'FROM'" in e.value.message


def test_with_data_category_is_not_implemented():
    with pytest.raises(NotImplementedByLocalOrg):
        parse("SELECT Id FROM KnowledgeArticleVersion WITH DATA CATEGORY Geography__c AT (usa__c)")
