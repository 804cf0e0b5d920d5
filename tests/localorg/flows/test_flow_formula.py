"""The formula subset: parsing, refusing what is outside it, evaluating like Salesforce."""

from __future__ import annotations

import datetime as dt

import pytest

from slotforce.localorg.flows import formula
from slotforce.localorg.flows.logic import LogicError, evaluate as eval_logic, parse as parse_logic

NOW = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.timezone.utc)


class Env(formula.Env):
    def __init__(self, **vals):
        self.vals = {k.lower(): v for k, v in vals.items()}

    def resolve(self, path):
        return self.vals.get(path.lower())

    def now(self):
        return NOW


def ev(expr, **vals):
    return formula.evaluate(formula.parse(expr), Env(**vals))


@pytest.mark.parametrize("expr, expected", [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("2 ^ 3", 8),
    ('"a" & "b" & NULL', "ab"),
    ('IF({!n} > 2, "big", "small")', "big"),
    ("AND(TRUE, {!n} = 3, NOT(FALSE))", True),
    ("{!n} <> 3 || {!n} == 3", True),
    ('CASE({!s}, "x", 1, "Hello", 2, 0)', 2),
    ('LEFT({!s}, 2) & RIGHT({!s}, 2) & MID({!s}, 2, 3)', "He" + "lo" + "ell"),
    ('FIND("l", {!s})', 3),
    ('FIND("z", {!s})', 0),
    ('LEN({!missing})', 0),
    ('ISBLANK({!missing}) && ISBLANK("  ") && NOT(ISBLANK({!s}))', True),
    ('BLANKVALUE({!missing}, "fallback")', "fallback"),
    ('UPPER(TRIM("  ab ")) & LOWER("CD")', "ABcd"),
    ('SUBSTITUTE("a-b-c", "-", "+")', "a+b+c"),
    ('CONTAINS({!s}, "ell") && BEGINS({!s}, "He")', True),
    ("ROUND(2.5, 0)", 3),
    ("ROUND(-2.5, 0)", -3),
    ("ROUND(1.005, 2)", 1.01),
    ("MAX(1, 5, 3) + MIN(4, 2) + ABS(-1) + MOD(7, 3) + FLOOR(1.7) + CEILING(1.2)", 5 + 2 + 1 + 1 + 1 + 2),
    ('VALUE("42") + 1', 43),
    ('TEXT(3)', "3"),
    ("TODAY()", dt.date(2026, 3, 2)),
    ("NOW() + 1", NOW + dt.timedelta(days=1)),
    ("DATEVALUE(NOW())", dt.date(2026, 3, 2)),
    ('DATEVALUE("2026-01-31") + 1', dt.date(2026, 2, 1)),
    ('ADDMONTHS(DATE(2026, 1, 31), 1)', dt.date(2026, 2, 28)),
    ('TEXT(DATETIMEVALUE("2026-03-02 15:30:00"))', "2026-03-02 15:30:00Z"),
    ('YEAR(TODAY()) * 100 + MONTH(TODAY())', 202603),
    ('ISPICKVAL({!p}, "Created")', True),
    ("'single' & \"double\"", "singledouble"),
    ("{!n} * 2 /* why: a comment */", 6),
])
def test_evaluates(expr, expected):
    assert ev(expr, n=3, s="Hello", p="Created") == expected


def test_text_comparison_is_case_sensitive():
    assert ev('{!s} = "hello"', s="Hello") is False


def test_null_arithmetic_is_null():
    assert ev("{!missing} + 1") is None


@pytest.mark.parametrize("expr, message", [
    ("HYPERLINK('x', 'y')", "function HYPERLINK() is not supported"),
    ("LEFT('a')", "LEFT() takes 2 arguments, got 1"),
    ("ISCHANGED('x')", "needs a field reference"),
    ("1 +", "syntax error at column"),
    ("", "the formula is empty"),
    ("CASE(1, 2, 3)", "CASE() takes 4..n arguments"),
])
def test_refuses(expr, message):
    with pytest.raises(formula.FormulaError) as exc:
        formula.parse(expr)
    assert message in exc.value.message


def test_references_lists_every_resource():
    ast = formula.parse('IF(ISBLANK({!$Record.Subject__c}), {!Default_Subject}, PRIORVALUE({!$Record.Subject__c}))')
    assert formula.references(ast) == ["$Record.Subject__c", "Default_Subject", "$Record.Subject__c"]


@pytest.mark.parametrize("logic, truth, expected", [
    ("and", [True, True, False], False),
    ("or", [False, False, True], True),
    ("1 AND (2 OR 3)", [True, False, True], True),
    ("1 AND (2 OR 3)", [False, True, True], False),
    ("(1 OR 2) AND NOT 3", [False, True, False], True),
    ("1 or 2 and 3", [True, False, False], True),
])
def test_condition_logic(logic, truth, expected):
    assert eval_logic(parse_logic(logic, 3), lambda i: truth[i]) is expected


@pytest.mark.parametrize("logic", ["1 AND 4", "1 AND (2", "1 XOR 2", "AND 1"])
def test_bad_condition_logic(logic):
    with pytest.raises(LogicError):
        parse_logic(logic, 3)
