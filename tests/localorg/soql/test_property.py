"""Property (issue 12.1): SOQL drawn from the org's own grammar answers rows or a Salesforce 4xx, quickly.

Hypothesis builds sentences of grammar.lark; names come from the seeded objects (so many
queries compile and run), values from the edges of each type. The run is bounded (examples and
a per-example deadline) to stay a few seconds of `make test`.
"""

import re
import string

from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.lark import from_lark

from slotforce.localorg.errors import SalesforceError
from slotforce.localorg.soql import parser

from .conftest import Org, load_crm

ORG = load_crm(Org())
NAMES = ["Id", "Name", "Email", "LastName", "Birthdate", "CreatedDate", "NumberOfEmployees", "AnnualRevenue",
         "IsActive", "Industry", "Account", "Owner", "Contacts", "Events", "Who", "What", "Contact", "User",
         "Event", "Lead", "StartDateTime", "AccountId", "OwnerId", "Description", "c", "null", "true", "false",
         "TODAY", "LAST_N_DAYS", "NEXT_N_YEARS", "THIS_FISCAL_YEAR", "COUNT", "MAX", "SUM", "CALENDAR_YEAR",
         "convertTimezone", "toLabel", "FORMAT", "FIELDS", "ALL", "STANDARD", "ROLLUP", "SECURITY_ENFORCED",
         "USER_MODE", "SYSTEM_MODE", "CUBE", "GROUPING", "TRACKING", "LeadSource", "Status", "everything", "mine",
         "Foo__c"]
def _spaced(token: str) -> str:
    return f" {token} "  # the grammar ignores whitespace, so strategies add it around words


VALUES = {
    "STRING": st.one_of(st.sampled_from(["''", "'a'", "'%'", "'\\\\'", "'\\u00e9'", "'\\ud800'", "'x\\'y'",
                                         "'003000000000001AAA'", "'abc'"]),
                        st.text(string.printable.replace("'", "").replace("\\", ""), max_size=8)
                        .map(lambda t: f"'{t}'")),
    "NUMBER": st.sampled_from(["0", "1", "-1", "1.5", ".5", "99999999999999999999999", "2147483648",
                               "1" * 400]),
    "INT": st.sampled_from(["0", "1", "200", "2000", "2001", "2147483648", "99999999999999999999"]).map(_spaced),
    "DATE": st.sampled_from(["2024-05-15", "0001-01-01", "9999-12-31", "2024-02-30"]),
    "DATETIME": st.sampled_from(["2024-05-15T10:00:00Z", "2024-05-15T10:00:00.123+02:00", "9999-12-31T23:59:59Z"]),
    "NAME": st.sampled_from(NAMES).map(_spaced),
    "COMPARE": st.sampled_from(["=", "!=", "<>", "<", "<=", ">", ">="]),
    "WS": st.just(" "),
}


def _keyword(pattern: str) -> st.SearchStrategy:
    word = re.sub(r"\\b$", "", pattern)
    return st.sampled_from([word.upper(), word.lower(), word.title()]).map(_spaced)


def _explicit() -> dict:
    out = dict(VALUES)
    for term in parser._LARK.terminals:
        if term.name in out:
            continue
        pattern = term.pattern.value
        if term.pattern.type == "re" and re.fullmatch(r"[a-z_]+\\b", pattern):
            out[term.name] = _keyword(pattern)
    return out


OBJECTS = ["Contact", "Account", "Event", "User", "Contacts", "Events"]


def _with_objects(drawn: tuple) -> str:
    """Most FROMs name a real object (or child relationship), so drawn queries reach the compiler."""
    soql, picks = drawn
    names = iter(picks)
    return re.sub(r"(?i)(\bfrom\s+)(\w+)", lambda m: m.group(1) + next(names, m.group(2)), soql)


QUERIES = st.tuples(from_lark(parser._LARK, start="start", explicit=_explicit()),
                    st.lists(st.sampled_from(OBJECTS), min_size=4, max_size=4)).map(_with_objects)


@settings(max_examples=120, deadline=2000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(QUERIES)
def test_grammar_sentences_never_crash(soql):
    try:
        ORG.query(soql)
    except SalesforceError as e:
        assert 400 <= e.status < 500, (soql, e)
        assert e.to_json()["errorCode"] and e.message


@settings(max_examples=100, deadline=2000, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["AND", "OR"]), st.booleans(), st.booleans(),
                          st.sampled_from(["Name = 'x'", "Email != null", "Birthdate = LAST_N_DAYS:3",
                                           "AccountId IN (SELECT Id FROM Account)", "IsActive = null"])),
                min_size=1, max_size=120))
def test_deep_and_long_conditions_never_crash(parts):
    cond = "Name = 'y'"
    for op, wrap, negate, leaf in parts:
        cond = f"{leaf} {op} {'NOT ' if negate else ''}({cond})" if wrap else f"{cond} {op} {leaf}"
    try:
        ORG.query("SELECT Id FROM Contact WHERE " + cond)
    except SalesforceError as e:
        assert 400 <= e.status < 500, e


# issue 12.2: the functions and clauses the org answers since (toLabel, FORMAT, GROUPING, ROLLUP/CUBE,
# WITH SECURITY_ENFORCED / USER_MODE), drawn over readable and unreadable fields of a Standard User.
def _restricted_org() -> tuple[Org, str]:
    from slotforce.localorg.schema import Field, PicklistValue

    org = load_crm(Org())
    org.schema.get("Account").add_field(Field("Tier__c", "picklist", length=255, custom=True,
                                              picklist_values=[PicklistValue("G", "Gold")]))
    org.conn.execute('ALTER TABLE "Account" ADD COLUMN "Tier__c" TEXT')
    profile = org.insert("Profile", Name="Standard User")
    return org, org.insert("User", Username="s@example.com", ProfileId=profile, Alias="s")


RESTRICTED, SALES_USER = _restricted_org()
_FIELDS = st.sampled_from(["Industry", "Tier__c", "Name", "Type", "AnnualRevenue", "CreatedDate", "Owner.Name",
                           "Parent.Tier__c", "Id", "Website"])
_ITEM = st.tuples(st.sampled_from(["toLabel({})", "FORMAT({})", "GROUPING({})", "COUNT({})", "MAX({})", "{}",
                                   "FORMAT(MIN({}))", "CALENDAR_YEAR({})"]), _FIELDS,
                  st.sampled_from(["", " a", " b"])).map(lambda t: t[0].format(t[1]) + t[2])


@settings(max_examples=80, deadline=2000, derandomize=True)
@given(st.lists(_ITEM, min_size=1, max_size=3), st.sampled_from(["", " WITH USER_MODE", " WITH SECURITY_ENFORCED"]),
       st.sampled_from(["", " GROUP BY {0}", " GROUP BY ROLLUP({0})", " GROUP BY CUBE({0}, {1})"]),
       st.sampled_from(["", " WHERE toLabel({0}) = 'Gold'", " WHERE {0} != null"]),
       st.sampled_from(["", " HAVING GROUPING({0}) = 1", " HAVING COUNT(Id) > 1"]),
       st.sampled_from(["", " ORDER BY {1}", " ORDER BY GROUPING({0}) DESC", " ORDER BY toLabel({0})"]),
       _FIELDS, _FIELDS)
def test_functions_and_access_never_crash(items, with_, group, where, having, order, f0, f1):
    soql = (f"SELECT {', '.join(items)} FROM Account{where}{with_}{group}{having if group else ''}{order}"
            .format(f0, f1))
    try:
        RESTRICTED.query(soql, user_id=SALES_USER)
    except SalesforceError as e:
        assert 400 <= e.status < 500, (soql, e)
        assert e.to_json()["errorCode"] and e.message
