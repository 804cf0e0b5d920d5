"""What the flow runtime needs from the org: a query, four DML verbs and the governor counters.

The runtime never touches storage itself. The org's store implements OrgAccess (see adapter.py);
tests implement it in memory. Values crossing this boundary use the REST JSON shapes of schema.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import LimitExceeded  # a breached governor limit: no fault path catches it
from ..schema import Schema


@dataclass
class Limits:
    """Per-transaction governor counters (Apex/Flow limits: 100 SOQL, 150 DML statements, 10,000 rows)."""

    soql: int = 0
    soql_rows: int = 0
    dml: int = 0
    dml_rows: int = 0
    max_soql: int = 100
    max_soql_rows: int = 50_000
    max_dml: int = 150
    max_dml_rows: int = 10_000

    def charge_soql(self, rows: int = 0) -> None:
        self.soql += 1
        if self.soql > self.max_soql:
            raise LimitExceeded(f"Too many SOQL queries: {self.soql}")
        self.charge_soql_rows(rows)

    def charge_soql_rows(self, rows: int) -> None:
        self.soql_rows += rows
        if self.soql_rows > self.max_soql_rows:
            raise LimitExceeded(f"Too many query rows: {self.soql_rows}")

    def charge_dml(self, rows: int) -> None:
        self.dml += 1
        if self.dml > self.max_dml:
            raise LimitExceeded(f"Too many DML statements: {self.dml}")
        self.dml_rows += rows
        if self.dml_rows > self.max_dml_rows:
            raise LimitExceeded(f"Too many DML rows: {self.dml_rows}")


@dataclass
class Query:
    """One SELECT: `where` is a tree of ("and"|"or", [...]) / ("not", x) / ("cond", field, op, value)
    with op in = != < > <= >= LIKE IN NOT IN and a typed value (str, int/float, bool, date, aware
    datetime; None for null; a list for IN / NOT IN)."""

    sobject: str
    fields: list[str]
    where: tuple | None = None
    order_by: tuple[str, str] | None = None  # (field, "ASC"|"DESC")
    limit: int | None = None

    def to_soql(self) -> str:
        soql = f"SELECT {', '.join(self.fields)} FROM {self.sobject}"
        if self.where is not None:
            where = _soql_where(self.where)
            if where:
                soql += f" WHERE {where}"
        if self.order_by:
            soql += f" ORDER BY {self.order_by[0]} {self.order_by[1]}"
        if self.limit is not None:
            soql += f" LIMIT {int(self.limit)}"
        return soql

    def key(self) -> str:
        return self.to_soql()


class LikePattern(str):
    """Text for LIKE matched literally, with a wildcard before and/or after it (Contains, StartsWith, EndsWith)."""

    def __new__(cls, text: str, *, before: bool, after: bool) -> "LikePattern":
        obj = super().__new__(cls, ("%" if before else "") + text + ("%" if after else ""))
        obj.text, obj.before, obj.after = text, before, after
        return obj


def soql_literal(v: Any) -> str:
    if isinstance(v, LikePattern):
        body = v.text.replace("\\", "\\\\").replace("'", "\\'").replace("%", "\\%").replace("_", "\\_")
        return "'" + ("%" if v.before else "") + body + ("%" if v.after else "") + "'"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(soql_literal(x) for x in v) + ")"
    # Date and datetime literals are unquoted in SOQL.
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    text = str(v)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _soql_where(node: tuple) -> str:
    kind = node[0]
    if kind == "cond":
        _, fld, op, value = node
        return f"{fld} {op} {soql_literal(value)}"
    if kind == "not":
        return f"(NOT {_soql_where(node[1])})"
    parts = [_soql_where(n) for n in node[1]]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return "(" + f" {kind.upper()} ".join(parts) + ")"


class OrgAccess(Protocol):
    """The org as the flow runtime sees it, inside one transaction."""

    schema: Schema
    limits: Limits

    def query(self, query: Query) -> list[dict]:
        """Records (REST shapes, field API names as keys). Does not charge limits: the runtime does."""

    def insert(self, sobject: str, records: list[dict]) -> list[str]:
        """Insert all or none (a SalesforceError fails the whole statement); runs that object's
        triggers (flows) inside the same transaction. Returns the new ids in order."""

    def update(self, sobject: str, records: list[dict]) -> None:
        """Update by Id, all or none; runs triggers."""

    def delete(self, sobject: str, ids: list[str]) -> None:
        """Delete all or none; runs triggers."""
