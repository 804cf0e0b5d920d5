"""One quoting function for SOQL literals: no value can change a query's meaning."""

import pytest

from slotforce.sync import soql


@pytest.mark.parametrize("value,expected", [
    ("pat@acme.com", "'pat@acme.com'"),
    ("o'brien@acme.com", "'o\\'brien@acme.com'"),
    ("back\\slash", "'back\\\\slash'"),
    ('say "hi"', "'say \\\"hi\\\"'"),
    ("line\nbreak", "'line\\nbreak'"),
    ("100%_off", "'100%_off'"),  # wildcards are plain characters outside LIKE
    (None, "null"),
    (True, "true"),
    (3, "3"),
])
def test_quote(value, expected):
    assert soql.quote(value) == expected


def test_injection_attempt_stays_inside_the_literal():
    evil = "x@y.com' OR Email != '"
    where = f"Email = {soql.quote(evil)}"
    assert where == "Email = 'x@y.com\\' OR Email != \\''"
    # the only unescaped quotes are the two delimiters
    unescaped = [i for i, ch in enumerate(where) if ch == "'" and where[i - 1] != "\\"]
    assert unescaped == [8, len(where) - 1]


def test_like_pattern_escapes_wildcards_in_the_value_only():
    assert soql.like_pattern("100%_x@acme.com", prefix="%") == "'%100\\%\\_x@acme.com'"
    assert soql.like_pattern("o'b", prefix="%", suffix="%") == "'%o\\'b%'"


def test_in_list_dedupes_and_refuses_empty():
    assert soql.in_list(["a", "b", "a"]) == "('a','b')"
    with pytest.raises(soql.SoqlValueError):
        soql.in_list([])


@pytest.mark.parametrize("name", ["Email", "Account.Owner.Email", "Meeting_Type__c"])
def test_field_names_accepted(name):
    assert soql.field_name(name) == name


@pytest.mark.parametrize("name", ["Email, (SELECT Id FROM User)", "Id FROM User--", "1abc", ""])
def test_field_names_refused(name):
    with pytest.raises(soql.SoqlValueError):
        soql.field_name(name)


def test_long_literals_refused():
    with pytest.raises(soql.SoqlValueError, match="4000"):
        soql.quote("x" * 4001)
