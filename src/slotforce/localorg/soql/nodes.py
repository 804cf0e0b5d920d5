"""The SOQL syntax tree: plain dataclasses that parse() returns and compile() reads.

Names keep the spelling the query used; the compiler resolves them against the Schema.
Every node that can be blamed in an error carries `pos` = (row, column), 1-based, as
Salesforce reports them ("ERROR at Row:1:Column:8").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Union

Pos = tuple[int, int]
NOWHERE: Pos = (0, 0)


# --- values -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    """A quoted string, number, boolean or null; `kind` in string|int|decimal|boolean|null.

    For strings `value` is the decoded text; `like_pattern` keeps `\\%` and `\\_` apart from
    the wildcards `%` and `_`, as a SQLite LIKE pattern with ESCAPE '\\'.
    """

    kind: str  # also currency (USD5000: `value` the number, `currency` the ISO code)
    value: object
    pos: Pos = NOWHERE
    like_pattern: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class DateValue:
    """An unquoted date (`2024-05-01`) or datetime (`2024-05-01T10:00:00Z`, kept in UTC)."""

    kind: str  # date | datetime
    value: dt.date | dt.datetime
    pos: Pos = NOWHERE


@dataclass(frozen=True)
class DateLiteral:
    """A relative date range such as TODAY or LAST_N_DAYS:7 (`n` is None when it takes none)."""

    name: str
    n: int | None = None
    pos: Pos = NOWHERE


Value = Union[Literal, DateValue, DateLiteral]


# --- field references and functions -------------------------------------------------------

@dataclass(frozen=True)
class FieldRef:
    """A field or a parent relationship path: ("Account", "Owner", "Email")."""

    path: tuple[str, ...]
    pos: Pos = NOWHERE

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class FunctionCall:
    """COUNT(), COUNT(Id), MAX(CreatedDate), and functions the org refuses (FORMAT, toLabel...)."""

    name: str
    args: tuple[object, ...] = ()
    pos: Pos = NOWHERE

    @property
    def upper(self) -> str:
        return self.name.upper()


AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"})
# Date functions (SOQL reference, "Date Functions"): UTC unless the field is wrapped in
# convertTimezone(); in SELECT only in aggregate queries, where they must be grouped.
DATE_FUNCTIONS = frozenset({"CALENDAR_YEAR", "CALENDAR_QUARTER", "CALENDAR_MONTH", "DAY_IN_MONTH",
                            "DAY_IN_WEEK", "DAY_IN_YEAR", "DAY_ONLY", "HOUR_IN_DAY", "WEEK_IN_MONTH",
                            "WEEK_IN_YEAR"})


# --- SELECT items ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SelectField:
    field: FieldRef
    alias: str | None = None  # only in aggregate queries (GROUP BY Name n)


@dataclass(frozen=True)
class SelectFunction:
    function: FunctionCall
    alias: str | None = None


@dataclass(frozen=True)
class SelectSubquery:
    """A child relationship subquery: `(SELECT Id FROM Contacts)`."""

    query: "Query"


@dataclass(frozen=True)
class SelectTypeof:
    """TYPEOF What WHEN Account THEN Name, Phone ... [ELSE Name] END: fields per type of the parent."""

    relationship: str
    pos: Pos = NOWHERE
    whens: tuple[tuple[str, Pos, tuple[FieldRef, ...]], ...] = ()  # (type, where named, fields)
    otherwise: tuple[FieldRef, ...] = ()  # ELSE fields


SelectItem = Union[SelectField, SelectFunction, SelectSubquery, SelectTypeof]


# --- conditions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    """`left op value` for op in = != < <= > >= LIKE (`<>` is read as `!=`)."""

    left: FieldRef | FunctionCall
    op: str
    value: Value
    pos: Pos = NOWHERE


@dataclass(frozen=True)
class InList:
    """`left [NOT] IN (values)`, or INCLUDES / EXCLUDES on a multi-select picklist."""

    left: FieldRef | FunctionCall
    values: tuple[Value, ...]
    negated: bool = False
    op: str = "IN"  # IN | INCLUDES | EXCLUDES
    pos: Pos = NOWHERE


@dataclass(frozen=True)
class InSubquery:
    """A semi-join (`Id IN (SELECT AccountId FROM Contact)`) or, negated, an anti-join."""

    left: FieldRef
    query: "Query"
    negated: bool = False
    pos: Pos = NOWHERE


@dataclass(frozen=True)
class And:
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Condition", ...]
    pos: Pos = NOWHERE


@dataclass(frozen=True)
class Not:
    item: "Condition"


Condition = Union[Comparison, InList, InSubquery, And, Or, Not]


# --- the query --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderItem:
    expr: FieldRef | FunctionCall
    descending: bool = False
    nulls: str | None = None  # FIRST | LAST | None (the default for the direction)


@dataclass(frozen=True)
class Query:
    select: tuple[SelectItem, ...]
    sobject: str
    sobject_pos: Pos = NOWHERE
    sobject_alias: str | None = None  # FROM Contact c
    where: Condition | None = None
    group_by: tuple[FieldRef | FunctionCall, ...] = ()  # fields and date functions
    group_by_function: FunctionCall | None = None  # ROLLUP(...)/CUBE(...): refused
    having: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    # Valid SOQL the local org does not implement, kept so the refusal can say which.
    using_scope: str | None = None
    with_clause: str | None = None
    for_clause: str | None = None  # FOR UPDATE / VIEW / REFERENCE: accepted and ignored
    update_clause: str | None = None  # UPDATE TRACKING / VIEWSTAT: Knowledge only, refused
    parent_prefix: str | None = None  # FROM Account.Contacts: "Account"
