"""Run a SOQL query on the local org's SQLite and shape the rows the way the REST API returns them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from slotforce.localorg.access import read_access
from slotforce.localorg.errors import NotImplementedByLocalOrg
from slotforce.localorg.schema import Schema
from slotforce.localorg.soql import functions, nodes
from slotforce.localorg.soql.compiler import ChildOut, FieldOut, Plan, TypeofOut, compile_query
from slotforce.localorg.soql.parser import parse

# SQLite's default limit on host parameters is 32766; stay far below it per child batch.
_CHILD_BATCH = 500


@dataclass
class QueryResult:
    """`records` as the REST API nests them; `total_size` is the full count (for COUNT(): the count)."""

    records: list[dict]
    total_size: int


def execute_query(conn: sqlite3.Connection, schema: Schema, soql: str | nodes.Query, *,
                  include_deleted: bool = False, api_version: str = "62.0",
                  today: dt.date | None = None, tz: dt.tzinfo | None = None,
                  user_id: str | None = None) -> QueryResult:
    """Run `soql` (text, or a nodes.Query built in code) against `conn` (tables per schema.py).

    `include_deleted` is queryAll. `today`/`tz` pin what date literals mean (tests; the default
    is now in the org time zone, see dates.py); `user_id` is the running user (USING SCOPE mine; WITH
    SECURITY_ENFORCED / USER_MODE check its access, access.py). Raises the SalesforceError subclasses of
    errors.py (MalformedQuery, InvalidField, InvalidType, InvalidQueryFilterOperator,
    NotImplementedByLocalOrg) with Salesforce's messages.
    """
    try:
        if isinstance(soql, nodes.Query):  # built in code (the Flow runtime): no text to quote in errors
            query, soql = soql, ""
        else:
            query = parse(soql)
        plan = compile_query(schema, soql, query, include_deleted=include_deleted, today=today, tz=tz,
                             user_id=user_id, access_of=lambda: read_access(conn, user_id))
    except RecursionError:  # the parser and logic.py bound nesting; this is the last guard
        raise _too_complex("it nests too deeply") from None
    return run_plan(conn, schema, plan, api_version=api_version)


def stream_query(conn: sqlite3.Connection, schema: Schema, soql: str, *, include_deleted: bool = False,
                 api_version: str = "62.0", today: dt.date | None = None, tz: dt.tzinfo | None = None,
                 user_id: str | None = None, fetch: int = 2000) -> Iterator[dict]:
    """execute_query's records one by one, read from SQLite `fetch` rows at a time, so a large result is
    never all in memory (Bulk API query jobs). Queries with subqueries, aggregates or COUNT() are shaped
    all at once, as execute_query shapes them. The caller holds the org's lock while it iterates."""
    try:
        plan = compile_query(schema, soql, parse(soql), include_deleted=include_deleted, today=today, tz=tz,
                             user_id=user_id, access_of=lambda: read_access(conn, user_id))
    except RecursionError:
        raise _too_complex("it nests too deeply") from None
    if plan.kind != "records" or plan.children:
        yield from run_plan(conn, schema, plan, api_version=api_version).records
        return
    functions.register(conn, plan.tz)
    shaper = _Shaper(schema, api_version)
    try:
        cursor = conn.execute(plan.sql, plan.params)
    except sqlite3.OperationalError as e:
        if not str(e).startswith(_SQLITE_LIMITS):
            raise
        raise _too_complex(f"SQLite: {e}") from None
    try:
        while rows := cursor.fetchmany(fetch):
            for row in rows:
                yield shaper.record(plan, row)
    finally:
        cursor.close()


# SQLite's own limits (depth of parentheses and expressions, number of parameters): the compiler
# stays within them (logic.py), so reaching one means a query shape it did not foresee.
_SQLITE_LIMITS = ("parser stack overflow", "Expression tree is too large", "too many SQL variables",
                  "too many terms", "too many columns")


def _too_complex(why: str) -> NotImplementedByLocalOrg:
    return NotImplementedByLocalOrg(f"This query is too complex for the local org ({why}): "
                                    f"split it into simpler queries.")


def run_plan(conn: sqlite3.Connection, schema: Schema, plan: Plan, *,
             api_version: str = "62.0") -> QueryResult:
    try:
        return _run_plan(conn, schema, plan, api_version=api_version)
    except sqlite3.OperationalError as e:
        if not str(e).startswith(_SQLITE_LIMITS):
            raise
        raise _too_complex(f"SQLite: {e}") from None


def _run_plan(conn: sqlite3.Connection, schema: Schema, plan: Plan, *,
              api_version: str = "62.0") -> QueryResult:
    functions.register(conn, plan.tz)
    if plan.kind == "count":
        (count,) = conn.execute(plan.sql, plan.params).fetchone()
        return QueryResult([], int(count))
    rows = conn.execute(plan.sql, plan.params).fetchall()
    if plan.kind == "aggregate":
        records = [_aggregate_record(plan, row) for row in rows]
        return QueryResult(records, len(records))
    shaper = _Shaper(schema, api_version)
    records = [shaper.record(plan, row) for row in rows]
    for child in plan.children:
        _attach_children(conn, shaper, child, records, [row[0] for row in rows])
    return QueryResult(records, len(records))


def _aggregate_record(plan: Plan, row) -> dict:
    record: dict = {"attributes": {"type": "AggregateResult"}}
    for item in plan.items:
        record[item.key] = item.convert(row[item.index])
    return record


class _Shaper:
    def __init__(self, schema: Schema, api_version: str) -> None:
        self.schema = schema
        self.base = f"/services/data/v{api_version}/sobjects"

    def attributes(self, type_name: str, record_id: str) -> dict:
        return {"type": type_name, "url": f"{self.base}/{type_name}/{record_id}"}

    def record(self, plan: Plan, row) -> dict:
        record = {"attributes": self.attributes(plan.sobject.name, row[0])}
        self._fill(record, plan.items, row)
        return record

    def _fill(self, target: dict, items: list, row) -> None:
        for item in items:
            if isinstance(item, FieldOut):
                target[item.key] = item.convert(row[item.index])
                continue
            parent_id = row[item.id_index]
            if parent_id is None:
                target[item.key] = None
                continue
            if isinstance(item, TypeofOut):
                target[item.key] = self._typeof(item, parent_id, row)
                continue
            type_name = item.type_name
            if type_name is None:
                sobject = self.schema.by_prefix(parent_id)
                type_name = sobject.name if sobject else "Name"
            parent = {"attributes": self.attributes(type_name, parent_id)}
            self._fill(parent, item.items, row)
            target[item.key] = parent


    def _typeof(self, item: TypeofOut, parent_id: str, row) -> dict:
        sobject = self.schema.by_prefix(parent_id)
        type_name = sobject.name if sobject else "Name"
        parent = {"attributes": self.attributes(type_name, parent_id)}
        self._fill(parent, item.branches.get(type_name, item.otherwise), row)
        return parent


def _attach_children(conn, shaper: _Shaper, child: ChildOut, records: list[dict], ids: list[str]) -> None:
    plan = child.plan
    by_parent: dict[str, list[dict]] = {}
    for start in range(0, len(ids), _CHILD_BATCH):
        batch = ids[start:start + _CHILD_BATCH]
        params = dict(plan.params)
        names = []
        for i, record_id in enumerate(batch):
            params[f"parent{i}"] = record_id
            names.append(f":parent{i}")
        sql = plan.sql.replace("{PARENT_IDS}", ", ".join(names))
        for row in conn.execute(sql, params):
            bucket = by_parent.setdefault(row[1], [])
            if plan.limit is None or len(bucket) < plan.limit:
                bucket.append(shaper.record(plan, row))
    for record, record_id in zip(records, ids):
        found = by_parent.get(record_id)
        record[child.key] = ({"totalSize": len(found), "done": True, "records": found}
                             if found else None)
