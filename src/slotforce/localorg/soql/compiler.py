"""Syntax tree + Schema -> one SQLite statement per query, and the plan to shape its rows.

Storage follows the convention in schema.py. Parent paths become LEFT JOINs on the lookup
column (polymorphic ones join every target object and pick by the id's key prefix); child
subqueries become a second statement over all parent ids; semi-/anti-joins become
`IN (SELECT ...)`. Every value from the query is a named SQL parameter; identifiers in the SQL
come only from the Schema, never from the query text, so the query cannot inject SQL.

Two-valued logic, as SOQL has it: `!=` and NOT IN match nulls (`Email != 'a@b.c'` keeps rows
without an Email), and NOT (...) of a comparison on a null value is true.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field as dc_field
from typing import Callable

from slotforce.localorg.access import EVERYTHING, ReadAccess
from slotforce.localorg.errors import (
    InsufficientQueryAccess, InvalidField, InvalidQueryFilterOperator, InvalidType, MalformedQuery,
    NotImplementedByLocalOrg, NumberOutsideValidRange, SalesforceError,
)
from slotforce.localorg.schema import Field, Schema, SObject, compound_key
from slotforce.localorg.soql import dates, formatting, logic
from slotforce.localorg.soql import nodes as n
from slotforce.localorg.soql.parser import located
from slotforce.localorg.store import email_domain_sql, to_18
from slotforce.localorg.values import DOUBLE_TYPES, ID_TYPES, NUMBER_TYPES, TEXT_TYPES, format_datetime_millis

# What a polymorphic relationship (Who, What) exposes without TYPEOF: the "Name" entity's fields.
NAME_ENTITY_FIELDS = ("Id", "Name", "Type", "Alias", "Email", "FirstName", "LastName", "IsActive",
                      "Title", "Phone", "Username", "UserRoleId", "ProfileId", "RecordTypeId")
MAX_OFFSET = 2000
MAX_NUMBER = 10**18  # number fields hold at most 18 digits
_SOQL_TYPE_NAMES = {"int": "integer", "double": "double", "currency": "double", "percent": "double",
                    "boolean": "boolean", "date": "date", "datetime": "dateTime", "id": "id",
                    "reference": "id", "time": "time"}
CUSTOM_HINT = ("If you are attempting to use a custom field, be sure to append the '__c' after the "
               "custom field name. Please reference your WSDL or the describe call for the "
               "appropriate names.")
# USING SCOPE values of the SOQL reference besides everything and mine.
_OTHER_SCOPES = frozenset({"delegated", "mine_and_my_groups", "minerecentlyviewed", "my_territory",
                           "my_team_territory", "team", "allprivate", "scopingrule", "application"})
# Functions SOQL knows; any other name before "(" is a syntax error, not a missing feature.
_KNOWN_FUNCTIONS = n.AGGREGATES | n.DATE_FUNCTIONS | {
    "FIELDS", "FORMAT", "TOLABEL", "CONVERTCURRENCY", "CONVERTTIMEZONE", "DISTANCE", "GEOLOCATION",
    "FISCAL_MONTH", "FISCAL_QUARTER", "FISCAL_YEAR", "GROUPING", "ROLLUP", "CUBE"}
RELATIONSHIP_HINT = ("If you are attempting to use a custom relationship, be sure to append the "
                     "'__r' after the custom relationship name. Please reference your WSDL or the "
                     "describe call for the appropriate names.")
OBJECT_HINT = ("If you are attempting to use a custom object, be sure to append the '__c' after "
               "the entity name. Please reference your WSDL or the describe call for the "
               "appropriate names.")


def convert_for(type_: str) -> Callable[[object], object]:
    """Stored value -> JSON value for a describe type (booleans are 0/1 in SQLite)."""
    if type_ == "boolean":
        return lambda v: None if v is None else bool(v)
    if type_ == "int":
        return lambda v: None if v is None else int(v)
    if type_ in DOUBLE_TYPES:
        return lambda v: None if v is None else float(v)
    if type_ in ("address", "location"):
        return lambda v: None if v is None else json.loads(v)
    return _same


def compound_sql(sobject: SObject, compound: Field, table_alias: str) -> str:
    """A compound field (BillingAddress) as SQL: a JSON object of its components, keys sorted as
    Salesforce shapes an address; NULL when every component is."""
    parts = sorted((compound_key(compound, p), f'{table_alias}."{p.column}"') for p in sobject.components(compound))
    if not parts:
        return "NULL"
    empty = " AND ".join(f"{col} IS NULL" for _, col in parts)
    pairs = ", ".join(f"'{key}', {col}" for key, col in parts)
    return f"CASE WHEN {empty} THEN NULL ELSE json_object({pairs}) END"


def _same(v):
    return v


_PLAIN_COLUMN = re.compile(r'\w+\."\w+"')


def suffix_domain(like_pattern: str) -> str | None:
    """For `'%' + literal` (no other wildcard) whose literal holds an '@': the literal from that '@'
    ('%n@x.com' -> '@x.com'). A stored email has one '@' (records.py checks the shape), so it ends
    with the literal only if its own domain part is this: the domain index finds the candidates and
    the LIKE, kept beside it, decides. None for any other pattern."""
    if not like_pattern.startswith("%"):
        return None
    like_pattern = "%" + like_pattern.lstrip("%")  # '%%@x.com' is '%@x.com'
    literal, i = [], 1
    while i < len(like_pattern):
        ch = like_pattern[i]
        if ch == "\\" and i + 1 < len(like_pattern):
            literal.append(like_pattern[i + 1])
            i += 2
            continue
        if ch in "%_":
            return None
        literal.append(ch)
        i += 1
    text = "".join(literal)
    return text[text.index("@"):] if "@" in text else None


def is_long_text(f: Field) -> bool:
    return f.type == "textarea" and f.length > 255


# --- the plan -------------------------------------------------------------------------------

@dataclass
class FieldOut:
    key: str
    index: int
    convert: Callable


@dataclass
class ParentOut:
    """A parent relationship in the result: `"Account": {...}` or None when the lookup is empty."""

    key: str
    id_index: int
    type_name: str | None  # None for polymorphic: decided per row by the id's key prefix
    items: list = dc_field(default_factory=list)


@dataclass
class TypeofOut:
    """TYPEOF What ...: the parent as in ParentOut, its fields chosen by its type (`branches`, else `otherwise`)."""

    key: str
    id_index: int
    branches: dict[str, list] = dc_field(default_factory=dict)  # object name -> FieldOut
    otherwise: list = dc_field(default_factory=list)


@dataclass
class ChildOut:
    """A child subquery in the result: `"Contacts": {"totalSize": n, ...}` or None."""

    key: str
    plan: "Plan"
    parent_field: str  # the child's lookup column pointing at the parent


@dataclass
class Plan:
    """What execute.py runs: `sql` with `params`, then shapes rows as `kind` says.

    kind = records (Salesforce records, `items` describe each), count (`SELECT COUNT()`), or
    aggregate (AggregateResult rows, `items` are FieldOut). Child plans have `{PARENT_IDS}` in
    their SQL and a hidden column 1 holding the parent id; `limit` is then per parent.
    """

    kind: str
    sobject: SObject
    sql: str
    params: dict
    items: list
    children: list[ChildOut] = dc_field(default_factory=list)
    limit: int | None = None
    tz: dt.tzinfo | None = None  # for convertTimezone()


# --- compiling ----------------------------------------------------------------------------

@dataclass
class _Join:
    alias: str  # for polymorphic joins: "" (see targets)
    id_sql: str  # the parent's Id (NULL when the lookup is empty or dangling)
    sobject: SObject | None  # None for polymorphic
    targets: list[tuple[SObject, str]]  # polymorphic: (object, alias)
    fk_sql: str


class _Params:
    """Named SQL parameters; a value used twice is bound once (SQLite allows 32,766 per statement)."""

    def __init__(self) -> None:
        self.values: dict = {}
        self._names: dict = {}

    def add(self, value) -> str:
        key = (type(value), value)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = f"p{len(self.values)}"
            self.values[name] = value
        return f":{name}"


@dataclass
class _Operand:
    sql: str
    field: Field
    text: str  # as written, for messages
    pos: n.Pos
    aggregate: bool = False


class Compiler:
    """Compiles one SOQL statement (and its subqueries) against a Schema."""

    def __init__(self, schema: Schema, soql: str, *, include_deleted: bool = False,
                 today: dt.date | None = None, tz: dt.tzinfo | None = None,
                 user_id: str | None = None, access_of: Callable[[], ReadAccess] | None = None) -> None:
        self.schema = schema
        self.user_id = user_id  # the running user: USING SCOPE mine
        self.access_of = access_of  # the running user's read access (WITH SECURITY_ENFORCED / USER_MODE)
        self.mode: str | None = None  # SECURITY_ENFORCED | USER_MODE while compiling such a query
        self.access: ReadAccess = EVERYTHING
        self.soql = soql
        self.include_deleted = include_deleted
        self.tz = tz or dates.org_time_zone()
        self.today = today or dt.datetime.now(self.tz).date()
        self.params = _Params()
        self._scopes = 0

    # errors point at the query text like Salesforce's do
    def error(self, cls: type[SalesforceError], pos: n.Pos, message: str) -> SalesforceError:
        return cls(located(self.soql, pos, message))

    def compile(self, query: n.Query) -> Plan:
        mode = (query.with_clause or "").upper()
        if mode in ENFORCING_MODES:
            self.mode = mode
            self.access = self.access_of() if self.access_of else EVERYTHING
        plan = _Scope(self, query).compile_top()
        plan.tz = self.tz
        return plan


# WITH clauses that check the running user's object and field read access (access.py). SECURITY_ENFORCED
# checks what SELECT and FROM name ("not clauses like WHERE or ORDER BY"), answering Apex's
# "Insufficient permissions: secure query included inaccessible field"; USER_MODE checks every clause
# and answers as the user's own view of the schema does: the field or object does not exist.
ENFORCING_MODES = ("SECURITY_ENFORCED", "USER_MODE")
INACCESSIBLE = "Insufficient permissions: secure query included inaccessible field"


class _Scope:
    """One SELECT: its object, its joins, its clauses."""

    def __init__(self, compiler: Compiler, query: n.Query, *, sobject: SObject | None = None,
                 role: str = "top") -> None:
        self.c = compiler
        self.q = query
        self.role = role  # top | child | semi
        compiler._scopes += 1
        self.prefix = f"q{compiler._scopes}"
        self.alias = f"{self.prefix}t0"
        if sobject is None:
            sobject = compiler.schema.get(query.sobject)
            if sobject is None or not sobject.queryable:
                raise compiler.error(InvalidType, query.sobject_pos,
                                     f"sObject type '{query.sobject}' is not supported. {OBJECT_HINT}")
        self.sobject = sobject
        self._in_select = False  # compiling SELECT items (what WITH SECURITY_ENFORCED checks)
        if compiler.mode and not (compiler.mode == "SECURITY_ENFORCED" and role == "semi"):
            if not compiler.access.object_readable(sobject):
                raise self._no_access(query.sobject_pos, f"sObject type '{query.sobject}' is not supported. "
                                      f"{OBJECT_HINT}", InvalidType)
        self.joins: dict[tuple[str, ...], _Join] = {}
        self.join_sql: list[str] = []
        self.columns: list[str] = []
        self._grouped: dict[str, Field] = {}  # GROUP BY expressions (SQL) -> field; HAVING may use only these
        self._group_raw: list[str] = []  # GROUP BY expressions as selected (no collation)
        self._group_sql: list[str] = []
        self._absent: set[str] = set()  # while compiling one ROLLUP/CUBE grouping set: the fields rolled up

    # --- shared helpers ---
    def err(self, cls, pos, message):
        return self.c.error(cls, pos, message)

    def column(self, sql: str) -> int:
        self.columns.append(sql)
        return len(self.columns) - 1

    # --- WITH SECURITY_ENFORCED / USER_MODE ---
    def _no_access(self, pos, user_mode_message: str, user_mode_error=InvalidField) -> SalesforceError:
        if self.c.mode == "SECURITY_ENFORCED":
            return InsufficientQueryAccess(INACCESSIBLE)  # Apex's message, which names no place
        return self.err(user_mode_error, pos, user_mode_message)

    def _check_read(self, obj: SObject, f: Field, ref: n.FieldRef, *, relationship: bool = False) -> None:
        """Under an enforcing WITH: refuse a field (or a lookup crossed) the running user cannot read."""
        if not self._enforced() or self.c.access.field_readable(obj, f):
            return
        if relationship:
            raise self._no_access(ref.pos, f"Didn't understand relationship '{f.relationship_name}' in field "
                                           f"path. {RELATIONSHIP_HINT}")
        raise self._no_access(ref.pos, f"No such column '{ref.path[-1]}' on entity '{obj.name}'. {CUSTOM_HINT}")

    def _enforced(self) -> bool:
        """Whether access is checked here: every clause in USER_MODE, SELECT items in SECURITY_ENFORCED."""
        return self.c.mode == "USER_MODE" or (self.c.mode == "SECURITY_ENFORCED" and self._in_select)

    def _readable(self, obj: SObject, f: Field) -> bool:
        return self.c.mode is None or self.c.access.field_readable(obj, f)

    def _refuse_unsupported(self) -> None:
        q = self.q
        if q.using_scope:
            self._scope_filter()
        if q.with_clause and q.with_clause.endswith(" ="):
            raise self.err(NotImplementedByLocalOrg, q.sobject_pos,
                           f"WITH {q.with_clause[:-2]} = ... (the UserProfileFeed filter) is not supported by the "
                           f"local org: it keeps no Chatter feeds.")
        if q.with_clause and q.with_clause.upper() not in ("SYSTEM_MODE", *ENFORCING_MODES):
            raise self.err(NotImplementedByLocalOrg, q.sobject_pos,
                           f"WITH {q.with_clause} is not supported by the local org (it knows WITH "
                           f"SECURITY_ENFORCED, USER_MODE and SYSTEM_MODE).")
        if q.update_clause:
            # UPDATE TRACKING / VIEWSTAT "report on Salesforce Knowledge article searches and views": they
            # take article version objects (FAQ__kav, KnowledgeArticleVersion), which the org has none of.
            raise self.err(MalformedQuery, q.sobject_pos,
                           f"UPDATE {q.update_clause} is only allowed on Salesforce Knowledge article "
                           f"versions (KnowledgeArticleVersion, *__kav), not on {self.sobject.name}")

    def _scope_filter(self) -> list[str]:
        """USING SCOPE everything (no filter) or mine (the running user's records)."""
        scope = self.q.using_scope.lower()
        if scope == "everything":
            return []
        owner = self.sobject.field("OwnerId")
        if scope == "mine" and owner is not None and self.c.user_id:
            return [f'{self.alias}."{owner.column}" = {self.c.params.add(self.c.user_id)}']
        if scope == "mine":
            raise self.err(MalformedQuery, self.q.sobject_pos,
                           f"USING SCOPE mine needs an object with owners; {self.sobject.name} has no OwnerId")
        if scope in _OTHER_SCOPES:
            raise self.err(NotImplementedByLocalOrg, self.q.sobject_pos,
                           f"USING SCOPE {self.q.using_scope} is not supported by the local org: it has "
                           f"no teams, queues, territories or delegation (use everything or mine).")
        raise self.err(MalformedQuery, self.q.sobject_pos, f"unexpected token: '{self.q.using_scope}'")

    # --- fields and relationship paths ---
    def resolve(self, ref: n.FieldRef) -> tuple[str, Field, list]:
        """SQL for a field path, its Field, and the chain of (relationship key, join) it crosses."""
        path = list(ref.path)
        obj = self.sobject
        own_names = {obj.name.lower(), (self.q.sobject_alias or obj.name).lower(), self.q.sobject.lower()}
        if len(path) > 1 and path[0].lower() in own_names and obj.relationship(path[0]) is None:
            path = path[1:]  # `Contact.Name FROM Contact`, `c.Name FROM Contact c`: the queried object
        if len(path) > 6:
            raise self.err(MalformedQuery, ref.pos,
                           f"'{ref.text}': SOQL follows parent relationships at most 5 levels deep")
        chain: list[tuple[str, _Join]] = []
        table_alias = self.alias
        key: tuple[str, ...] = ()
        for seg in path[:-1]:
            if obj is None:  # past a polymorphic relationship: only its fields, no deeper paths
                raise self.err(InvalidField, ref.pos,
                               f"Didn't understand relationship '{seg}' in field path. {RELATIONSHIP_HINT}")
            rel = obj.relationship(seg)
            if rel is None:
                raise self.err(InvalidField, ref.pos,
                               f"Didn't understand relationship '{seg}' in field path. {RELATIONSHIP_HINT}")
            self._check_read(obj, rel, ref, relationship=True)
            key = key + (seg.lower(),)
            join = self.joins.get(key) or self._join(key, rel, f'{table_alias}."{rel.column}"', ref)
            chain.append((rel.relationship_name, join))
            obj = join.sobject
            table_alias = join.alias
        name = path[-1]
        if chain and chain[-1][1].sobject is None:
            return self._polymorphic_field(chain, name, ref)
        f = obj.field(name)
        if f is None:
            raise self.err(InvalidField, ref.pos,
                           f"No such column '{name}' on entity '{obj.name}'. {CUSTOM_HINT}")
        if chain and self._enforced() and not self.c.access.object_readable(obj):
            raise self._no_access(ref.pos, f"Didn't understand relationship '{chain[-1][0]}' in field path. "
                                           f"{RELATIONSHIP_HINT}")
        self._check_read(obj, f, ref)
        if not f.stored:
            return compound_sql(obj, f, table_alias), f, chain
        return f'{table_alias}."{f.column}"', f, chain

    def _join(self, key, rel: Field, fk_sql: str, ref: n.FieldRef) -> _Join:
        targets = [self.c.schema.get(t) for t in rel.reference_to]
        targets = [t for t in targets if t is not None]
        if not targets:
            raise self.err(InvalidField, ref.pos,
                           f"Didn't understand relationship '{rel.relationship_name}' in field path. "
                           f"{RELATIONSHIP_HINT}")
        if len(self.joins) >= 35:
            raise self.err(MalformedQuery, ref.pos,
                           "A SOQL query cannot have more than 35 child-to-parent relationships.")
        number = len(self.joins) + 1
        if rel.polymorphic or len(rel.reference_to) > 1:
            aliased = []
            for i, target in enumerate(targets):
                alias = f"{self.prefix}j{number}_{i}"
                self.join_sql.append(f'LEFT JOIN "{target.table}" {alias} ON {alias}."Id" = {fk_sql}')
                aliased.append((target, alias))
            id_sql = "COALESCE(" + ", ".join(f'{a}."Id"' for _, a in aliased) + ")" \
                if len(aliased) > 1 else f'{aliased[0][1]}."Id"'
            join = _Join("", id_sql, None, aliased, fk_sql)
        else:
            alias = f"{self.prefix}j{number}"
            target = targets[0]
            self.join_sql.append(f'LEFT JOIN "{target.table}" {alias} ON {alias}."Id" = {fk_sql}')
            join = _Join(alias, f'{alias}."Id"', target, [], fk_sql)
        self.joins[key] = join
        return join

    def _polymorphic_field(self, chain, name: str, ref: n.FieldRef):
        join = chain[-1][1]
        rel_name = chain[-1][0]
        canonical = next((f for f in NAME_ENTITY_FIELDS if f.lower() == name.lower()), None)
        if canonical is None:
            raise self.err(InvalidField, ref.pos,
                           f"No such column '{name}' on entity 'Name'. {CUSTOM_HINT} (The local org "
                           f"does not implement TYPEOF: polymorphic relationship '{rel_name}' offers "
                           f"only {', '.join(NAME_ENTITY_FIELDS)}.)")
        if canonical == "Type":
            # the Name entity's Type: the object's name, but "Queue" for a group (only queues own records)
            whens = " ".join(f"WHEN '{_safe(t.key_prefix)}' THEN '{'Queue' if t.name == 'Group' else _safe(t.name)}'"
                             for t, _ in join.targets)
            sql = f"CASE substr({join.id_sql}, 1, 3) {whens} END"
            return sql, Field(name="Type", type="picklist", length=255), chain
        found = [(t, a, t.field(canonical)) for t, a in join.targets]
        typed = next((f for _, _, f in found if f is not None), None)
        if typed is None:  # a field of the Name entity that none of the targets has (What.Email): null
            return "NULL", Field(name=canonical, type="string", length=255), chain
        whens = " ".join(f"WHEN '{_safe(t.key_prefix)}' THEN {a}.\"{f.column}\""
                         for t, a, f in found if f is not None)
        sql = f"CASE substr({join.fk_sql}, 1, 3) {whens} END"
        out = Field(name=typed.name, type=typed.type, length=typed.length)
        return sql, out, chain

    # --- the statement ---
    def compile_top(self) -> Plan:
        self._refuse_unsupported()
        q = self.q
        functions = [i for i in q.select if isinstance(i, n.SelectFunction) and i.function.upper != "FIELDS"]
        for item in functions:
            if item.function.upper not in n.AGGREGATES | n.DATE_FUNCTIONS | VALUE_FUNCTIONS | {"GROUPING"}:
                raise self._unsupported_function(item.function)
        count_only = [i for i in functions if i.function.upper == "COUNT" and not i.function.args]
        if count_only:
            if len(q.select) > 1:
                raise self.err(MalformedQuery, count_only[0].function.pos,
                               "COUNT() must be the only element in the SELECT list.")
            return self._count_plan()
        if q.group_by or q.group_by_function or any(_has_aggregate(i.function) for i in functions):
            return self._aggregate_plan()
        return self._records_plan()

    def _unsupported_function(self, f: n.FunctionCall) -> SalesforceError:
        name = f.upper
        if name not in _KNOWN_FUNCTIONS:  # LeadSourceCOUNT(Name): SOQL has no such function
            return self.err(MalformedQuery, (f.pos[0], f.pos[1] + len(f.name)), "unexpected token: '('")
        if name == "CONVERTCURRENCY":
            return self.err(MalformedQuery, f.pos,
                            "convertCurrency() is valid only in multicurrency orgs; the local org has one "
                            "currency: select the field itself.")
        if name == "FIELDS":
            hint = "FIELDS() works in the SELECT list of a query without aggregates."
        elif name in ("FORMAT", "TOLABEL", "CONVERTCURRENCY"):
            hint = "select the field itself; the local org has one locale, one currency, no translations."
        elif name in ("DISTANCE", "GEOLOCATION"):
            hint = "select the location's Latitude and Longitude components and compute distances in your code."
        elif name.startswith("FISCAL_"):
            hint = "the local org has no fiscal year settings; use the CALENDAR_ functions."
        elif name == "CONVERTTIMEZONE":
            hint = "convertTimezone() works only inside a date function, e.g. HOUR_IN_DAY(convertTimezone(CreatedDate))."
        else:
            hint = "select the field itself and compute in your code."
        return self.err(NotImplementedByLocalOrg, f.pos,
                        f"Function {f.name}() is not supported by the local org: {hint}")

    def _from_where(self, extra_where: list[str] | None = None) -> str:
        """FROM ... JOIN ... and WHERE ... (compile WHERE before reading joins: it may add some)."""
        conditions = []
        if self.q.where is not None:
            conditions.append(self.condition(self.q.where))
        if not self.c.include_deleted or self.role == "semi":
            conditions.insert(0, f'{self.alias}."IsDeleted" = 0')
        if self.q.using_scope:
            conditions.extend(self._scope_filter())
        conditions.extend(extra_where or [])
        return " WHERE " + " AND ".join(conditions) if conditions else ""

    def _tail(self, order: list[str], limit_in_sql: bool = True) -> str:
        q = self.q
        sql = ""
        if order:
            sql += " ORDER BY " + ", ".join(order)
        if q.offset is not None and q.offset > MAX_OFFSET:
            raise NumberOutsideValidRange(f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        if limit_in_sql and (q.limit is not None or q.offset is not None):
            sql += f" LIMIT {int(q.limit) if q.limit is not None else -1}"
            if q.offset is not None:
                sql += f" OFFSET {int(q.offset)}"
        return sql

    def _statement(self, where: str, group: str = "", having: str = "", tail: str = "") -> str:
        joins = (" " + " ".join(self.join_sql)) if self.join_sql else ""
        return (f"SELECT {', '.join(self.columns)} FROM \"{self.sobject.table}\" {self.alias}"
                f"{joins}{where}{group}{having}{tail}")

    def _count_plan(self) -> Plan:
        where = self._from_where()
        group = self._group_by_sql()
        having = f" HAVING {self.condition(self.q.having, having=True)}" if self.q.having else ""
        self.columns = ["1"]
        inner = self._statement(where, group, having, self._tail(self._order_by(aggregate=bool(group))))
        return Plan("count", self.sobject, f"SELECT COUNT(*) FROM ({inner})", self.c.params.values, [])

    # records -------------------------------------------------------------------------------
    def _expand_fields(self) -> list:
        """FIELDS(ALL | STANDARD | CUSTOM) -> the object's fields in describe order."""
        out = []
        for item in self.q.select:
            if not (isinstance(item, n.SelectFunction) and item.function.upper == "FIELDS"):
                out.append(item)
                continue
            f = item.function
            arg = f.args[0] if len(f.args) == 1 else None
            kind = arg.path[0].upper() if isinstance(arg, n.FieldRef) and len(arg.path) == 1 else None
            if kind not in ("ALL", "STANDARD", "CUSTOM"):
                raise self.err(MalformedQuery, f.pos, "FIELDS() takes ALL, STANDARD or CUSTOM")
            if kind != "STANDARD" and (self.q.limit is None or self.q.limit > 200):
                raise self.err(MalformedQuery, f.pos,
                               f"The SOQL FIELDS function must have a LIMIT of at most 200 with FIELDS({kind})")
            out.extend(n.SelectField(n.FieldRef((fld.name,), f.pos)) for fld in self.sobject.fields.values()
                       if (kind == "ALL" or fld.custom == (kind == "CUSTOM")) and self._readable(self.sobject, fld))
        return out

    def _records_plan(self, parent_field: str | None = None) -> Plan:
        q = self.q
        self.column(f'{self.alias}."Id"')
        if parent_field:
            self.column(f'{self.alias}."{parent_field}"')
        items: list = []
        children: list[ChildOut] = []
        seen: set = set()
        self._in_select = True
        for item in self._expand_fields():
            if isinstance(item, n.SelectTypeof):
                items.append(self._typeof(item))
                continue
            if isinstance(item, n.SelectSubquery):
                if self.role != "top":
                    raise self.err(MalformedQuery, item.query.sobject_pos,
                                   "Nesting of child relationship subqueries is not supported by "
                                   "the local org (one level, as in the REST API before v58.0).")
                children.append(self._child(item.query))
                continue
            if isinstance(item, n.SelectFunction):  # toLabel(f), FORMAT(f): the field, shown differently
                ref, wrap = self._value_function(item.function)
                alias = item.alias
            else:
                ref, wrap, alias = item.field, None, None
            sql, f, chain = self.resolve(ref)
            if wrap is not None:
                wrap = wrap(f, ref)
            target = items
            parent_key: tuple = ()
            for rel_name, join in chain if alias is None else ():  # an alias puts the value at the top
                parent_key += (rel_name,)
                node = next((i for i in target if isinstance(i, ParentOut) and i.key == rel_name), None)
                if node is None:
                    type_name = join.sobject.name if join.sobject is not None else None
                    node = ParentOut(rel_name, self.column(join.id_sql), type_name)
                    target.append(node)
                target = node.items
            key = alias or f.name
            if (parent_key, key) in seen:
                if wrap is not None or (parent_key, key, "shown") in seen:
                    raise self.err(MalformedQuery, ref.pos, f"duplicate field selected: {key}")
                continue  # a field selected twice appears once
            seen.add((parent_key, key))
            if wrap is not None:
                seen.add((parent_key, key, "shown"))
            target.append(FieldOut(key, self.column(sql), wrap or convert_for(f.type)))
        self._in_select = False
        where = self._from_where([f'{self.alias}."{parent_field}" IN ({{PARENT_IDS}})']
                                 if parent_field else None)
        order = self._order_by()
        sql = self._statement(where, tail=self._tail(order, limit_in_sql=parent_field is None))
        return Plan("records", self.sobject, sql, self.c.params.values, items, children,
                    limit=q.limit if parent_field else None)

    # --- toLabel() and FORMAT() on a field ---
    def _value_function(self, f: n.FunctionCall):
        """toLabel(field) / FORMAT(field): the field, and how to make its converter once it is resolved."""
        arg = f.args[0] if len(f.args) == 1 else None
        if isinstance(arg, n.FunctionCall):  # FORMAT(convertCurrency(x)) and other nesting
            raise self._unsupported_function(arg)
        if not isinstance(arg, n.FieldRef):
            raise self.err(MalformedQuery, f.pos, f"{f.name}() takes one field")
        if f.upper == "TOLABEL":
            return arg, lambda fld, ref: self._labeller(fld, ref)
        return arg, lambda fld, ref: self._formatter(fld, ref)

    def _labeller(self, fld: Field, ref: n.FieldRef):
        if fld.type in ("picklist", "multipicklist"):
            return formatting.labeller(fld)
        if fld.name == "Name" and len(ref.path) > 1 and ref.path[-2].lower() == "recordtype":
            return _same  # toLabel(RecordType.Name): no translations, Name is the label
        raise self.err(MalformedQuery, ref.pos,
                       f"toLabel() works on picklist fields and RecordType.Name; '{ref.text}' is {fld.type}")

    def _formatter(self, fld: Field, ref) -> Callable:
        if fld.type not in formatting.FORMATTED_TYPES:
            shown = ref.text if isinstance(ref, n.FieldRef) else f"{ref.name}()"
            raise self.err(NotImplementedByLocalOrg, ref.pos,
                           f"FORMAT() of a {fld.type} value ('{shown}') is not supported by the local org: "
                           f"it formats number, currency, percent, date, datetime and time fields.")
        return formatting.formatter(fld, self.c.tz)

    def _typeof(self, item: n.SelectTypeof) -> TypeofOut:
        """TYPEOF rel WHEN Type THEN fields ... [ELSE fields] END over the polymorphic join of `rel`."""
        rel = self.sobject.relationship(item.relationship)
        if rel is None or not (rel.polymorphic or len(rel.reference_to) > 1):
            raise self.err(MalformedQuery, item.pos,
                           f"TYPEOF works on polymorphic relationships; '{item.relationship}' is not one")
        self.resolve(n.FieldRef((item.relationship, "Id"), item.pos))  # makes the join
        join = self.joins[(item.relationship.lower(),)]
        out = TypeofOut(rel.relationship_name, self.column(join.id_sql))
        by_name = {t.name.lower(): (t, alias) for t, alias in join.targets}
        for type_name, pos, refs in item.whens:
            found = by_name.get(type_name.lower())
            if found is None:
                raise self.err(MalformedQuery, pos,
                               f"TYPEOF {item.relationship}: '{type_name}' is not an object "
                               f"{item.relationship} can point to ({', '.join(t.name for t, _ in join.targets)})")
            target, alias = found
            fields = out.branches.setdefault(target.name, [])
            for ref in refs:
                if len(ref.path) > 1:
                    raise self.err(NotImplementedByLocalOrg, ref.pos,
                                   f"Parent paths inside TYPEOF ('{ref.text}') are not supported by the local org.")
                f = target.field(ref.path[0])
                if f is None:
                    raise self.err(InvalidField, ref.pos,
                                   f"No such column '{ref.text}' on entity '{target.name}'. {CUSTOM_HINT}")
                self._check_read(target, f, ref)
                sql = f'{alias}."{f.column}"' if f.stored else compound_sql(target, f, alias)
                fields.append(FieldOut(f.name, self.column(sql), convert_for(f.type)))
        for ref in item.otherwise:
            sql, f, _ = self.resolve(n.FieldRef((item.relationship, *ref.path), ref.pos))
            out.otherwise.append(FieldOut(f.name, self.column(sql), convert_for(f.type)))
        return out

    def _child(self, sub: n.Query) -> ChildOut:
        rel = self.sobject.child_relationship(sub.sobject)
        child = self.c.schema.get(rel.child_sobject) if rel else None
        prefix = sub.parent_prefix
        if prefix and prefix.lower() not in {self.sobject.name.lower(), (self.q.sobject_alias or "").lower()}:
            rel = None  # FROM Contact.Contacts inside a query on Account
        if rel is None or child is None:
            raise self.err(InvalidType, sub.sobject_pos,
                           f"Didn't understand relationship '{sub.sobject}' in FROM part of query "
                           f"call. {RELATIONSHIP_HINT}")
        if sub.offset is not None:
            raise self.err(MalformedQuery, sub.sobject_pos,
                           "OFFSET is not allowed in a child relationship subquery.")
        if sub.group_by or sub.group_by_function or any(
                isinstance(i, n.SelectFunction) and _has_aggregate(i.function) for i in sub.select):
            raise self.err(MalformedQuery, sub.sobject_pos,
                           "Aggregate functions are not supported in a child relationship subquery.")
        scope = _Scope(self.c, sub, sobject=child, role="child")
        scope._refuse_unsupported()
        plan = scope._records_plan(parent_field=child.field(rel.field).column)
        return ChildOut(rel.relationship_name, plan, rel.field)

    def _order_by(self, aggregate: bool = False) -> list[str]:
        out = []
        for item in self.q.order_by:
            op = self.operand(item.expr, having=aggregate, purpose="sorted")
            if is_long_text(op.field) or op.field.type == "multipicklist":
                raise self.err(InvalidField, op.pos,
                               f"field '{op.text}' can not be sorted in a query call")
            nulls = item.nulls or ("LAST" if item.descending else "FIRST")
            collate = " COLLATE NOCASE" if op.field.storage == "TEXT" else ""
            out.append(f"{op.sql}{collate} {'DESC' if item.descending else 'ASC'} NULLS {nulls}")
        return out

    # aggregates ----------------------------------------------------------------------------
    def _group_by_sql(self) -> str:
        exprs = []
        rollup = self.q.group_by_function
        refs = self.q.group_by
        if rollup is not None:
            refs = self._rollup_fields(rollup)
        for ref in refs:
            if isinstance(ref, n.FunctionCall) and ref.upper not in n.DATE_FUNCTIONS:
                if ref.upper not in _KNOWN_FUNCTIONS:  # GROUP BY FOO(Name): no such function
                    raise self._unsupported_function(ref)
                raise self.err(MalformedQuery, ref.pos, f"{ref.name}() cannot be used in GROUP BY: group by "
                               f"fields or date functions")
            if isinstance(ref, n.FunctionCall):
                op = self.date_function(ref)
                self._grouped[op.sql] = op.field
                self._group_raw.append(op.sql)
                exprs.append(op.sql)
                continue
            sql, f, _ = self.resolve(ref)
            if is_long_text(f) or not f.stored:
                raise self.err(InvalidField, ref.pos, f"field '{ref.text}' can not be grouped in a query call")
            self._grouped[sql] = f
            self._group_raw.append(sql)
            exprs.append(sql + (" COLLATE NOCASE" if f.storage == "TEXT" else ""))
        self._group_sql = exprs
        return " GROUP BY " + ", ".join(exprs) if exprs else ""

    def _rollup_fields(self, rollup: n.FunctionCall) -> tuple:
        """GROUP BY ROLLUP(a, b) / CUBE(a, b): its fields ("up to three fields", SOQL reference)."""
        if not rollup.args or len(rollup.args) > 3:
            raise self.err(MalformedQuery, rollup.pos,
                           f"GROUP BY {rollup.name.upper()}() takes one to three fields")
        names = [a.text.lower() if isinstance(a, n.FieldRef) else repr(a.args).lower() for a in rollup.args]
        if len(set(names)) < len(names):
            raise self.err(MalformedQuery, rollup.pos, f"GROUP BY {rollup.name.upper()}() names a field twice")
        for arg in rollup.args:
            if not (isinstance(arg, n.FieldRef) or (isinstance(arg, n.FunctionCall) and arg.upper in n.DATE_FUNCTIONS)):
                raise self.err(MalformedQuery, rollup.pos, f"GROUP BY {rollup.name.upper()}() takes fields")
        return rollup.args

    def _aggregate_plan(self) -> Plan:
        group = self._group_by_sql()
        items: list[FieldOut] = []
        unnamed = 0
        self._in_select = True
        for item in self.q.select:
            if isinstance(item, n.SelectSubquery):
                raise self.err(MalformedQuery, item.query.sobject_pos,
                               "Child relationship subqueries are not allowed in an aggregate query.")
            if isinstance(item, n.SelectTypeof):
                raise self.err(MalformedQuery, item.pos, "TYPEOF is not allowed in an aggregate query.")
            if isinstance(item, n.SelectField):
                sql, f, _ = self.resolve(item.field)
                if sql not in self._grouped:
                    raise self.err(MalformedQuery, item.field.pos,
                                   f"Field must be grouped or aggregated: {item.field.text}")
                items.append(FieldOut(item.alias or f.name, self.column(sql), convert_for(f.type)))
                continue
            fn = item.function
            wrap = None
            inner = fn.args[0] if fn.upper in VALUE_FUNCTIONS and len(fn.args) == 1 else None
            if isinstance(inner, n.FieldRef):  # toLabel(Industry) / FORMAT(CloseDate) of a grouped field
                sql, f, _ = self.resolve(inner)
                if sql not in self._grouped:
                    raise self.err(MalformedQuery, inner.pos, f"Field must be grouped or aggregated: {inner.text}")
                convert = self._labeller(f, inner) if fn.upper == "TOLABEL" else self._formatter(f, inner)
                items.append(FieldOut(item.alias or f.name, self.column(sql), convert))
                continue
            if fn.upper in VALUE_FUNCTIONS:
                if fn.upper == "TOLABEL" or not isinstance(inner, n.FunctionCall):
                    raise self.err(MalformedQuery, fn.pos, f"{fn.name}() takes one field"
                                   + (" or aggregate" if fn.upper == "FORMAT" else ""))
                op = self.operand(inner, having=True, purpose="selected")
                wrap = self._formatter(op.field, inner)
            elif fn.upper in n.DATE_FUNCTIONS:
                op = self.date_function(fn)
                if op.sql not in self._grouped:
                    raise self.err(MalformedQuery, fn.pos, f"Field must be grouped or aggregated: {op.text}")
            elif fn.upper == "GROUPING":
                op = self.operand(fn, having=True, purpose="selected")
            else:
                op = self.aggregate(fn)
            if item.alias:
                key = item.alias
            else:
                key = f"expr{unnamed}"
                unnamed += 1
            items.append(FieldOut(key, self.column(op.sql), wrap or convert_for(op.field.type)))
        self._in_select = False
        where = self._from_where()
        if self.q.group_by_function is not None:
            return Plan("aggregate", self.sobject, self._grouping_sets_statement(where), self.c.params.values, items)
        having = f" HAVING {self.condition(self.q.having, having=True)}" if self.q.having else ""
        tail = self._tail(self._order_by(aggregate=True))
        return Plan("aggregate", self.sobject, self._statement(where, group, having, tail),
                    self.c.params.values, items)

    def _grouping(self, f: n.FunctionCall) -> _Operand:
        """GROUPING(field): 1 on a row that totals that field, else 0 (a placeholder until the set is known)."""
        rollup = self.q.group_by_function
        arg = f.args[0] if len(f.args) == 1 else None
        if rollup is None:
            raise self.err(MalformedQuery, f.pos, "GROUPING() works only with GROUP BY ROLLUP or GROUP BY CUBE")
        sql = self.resolve(arg)[0] if isinstance(arg, n.FieldRef) else (
            self.date_function(arg).sql if isinstance(arg, n.FunctionCall) and arg.upper in n.DATE_FUNCTIONS else None)
        if sql not in self._group_raw:
            raise self.err(MalformedQuery, f.pos, f"GROUPING() takes a field of the GROUP BY {rollup.name.upper()}()")
        return _Operand(f"{{GROUPING:{self._group_raw.index(sql)}}}", Field(name="expr", type="int"),
                        "GROUPING()", f.pos, True)

    def _grouping_sets_statement(self, where: str) -> str:
        """ROLLUP / CUBE as one SELECT per grouping set, UNION ALL, ordered outside.

        SQLite has no ROLLUP. Each set groups by its fields; the rolled-up ones read NULL (the
        subtotal rows Salesforce answers) and GROUPING() 1. HAVING and ORDER BY are compiled again
        for each set with the rolled-up fields as NULL. Without ORDER BY, rows come as the SOQL
        reference's example lists them: by each field in turn, its subtotal after its groups, the
        grand total last. The grand total of no rows is no row.
        """
        rollup = self.q.group_by_function
        k = len(self._group_raw)
        if rollup.upper == "ROLLUP":
            sets = [tuple(range(i)) for i in range(k, -1, -1)]
        else:
            sets = [tuple(i for i in range(k) if mask >> (k - 1 - i) & 1) for mask in range(2**k - 1, -1, -1)]
        n_cols = len(self.columns)
        parts, order_spec = [], []
        joins = (" " + " ".join(self.join_sql)) if self.join_sql else ""
        for grouped in sets:
            self._absent = {self._group_raw[i] for i in range(k) if i not in grouped}
            flags = {f"{{GROUPING:{i}}}": "0" if i in grouped else "1" for i in range(k)}
            cols = ["NULL" if c in self._absent else _fill(c, flags) for c in self.columns]
            order_spec = []
            if self.q.order_by:
                for item in self.q.order_by:
                    op = self.operand(item.expr, having=True, purpose="sorted")
                    nulls = item.nulls or ("LAST" if item.descending else "FIRST")
                    cols.append("NULL" if op.sql in self._absent else _fill(op.sql, flags))
                    order_spec.append((op.field.storage == "TEXT", item.descending, nulls))
            else:
                for i in range(k):
                    cols.append("0" if i in grouped else "1")
                    order_spec.append((False, False, "FIRST"))
                    cols.append("NULL" if i not in grouped else self._group_raw[i])
                    order_spec.append((True, False, "FIRST"))
            having = [self.condition(self.q.having, having=True)] if self.q.having else []
            having = [_fill(h, flags) for h in having]
            # the grand total groups by a constant: one group over all rows, none over no rows
            group = " GROUP BY " + (", ".join(self._group_sql[i] for i in grouped) if grouped else "''")
            parts.append(f"SELECT {', '.join(f'{c} AS c{j}' for j, c in enumerate(cols))} FROM "
                         f"\"{self.sobject.table}\" {self.alias}{joins}{where}{group}"
                         + (" HAVING " + " AND ".join(f"({h})" for h in having) if having else ""))
        self._absent = set()
        order = ", ".join(f"c{n_cols + j}{' COLLATE NOCASE' if text else ''} {'DESC' if desc else 'ASC'} NULLS {nulls}"
                          for j, (text, desc, nulls) in enumerate(order_spec))
        outer = (f"SELECT {', '.join(f'c{j}' for j in range(n_cols))} FROM ({' UNION ALL '.join(parts)})"
                 f"{' ORDER BY ' + order if order else ''}")
        return outer + self._tail([])

    def aggregate(self, f: n.FunctionCall) -> _Operand:
        name = f.upper
        if name not in n.AGGREGATES:
            raise self._unsupported_function(f)
        if name == "COUNT" and not f.args:
            return _Operand("COUNT(*)", Field(name="expr", type="int"), "COUNT()", f.pos, True)
        if len(f.args) != 1 or not isinstance(f.args[0], n.FieldRef):
            raise self.err(MalformedQuery, f.pos, f"{name}() takes one field")
        ref = f.args[0]
        sql, fld, _ = self.resolve(ref)
        text = f"{f.name}({ref.text})"
        if is_long_text(fld):
            raise self.err(InvalidField, ref.pos, f"field {ref.text} does not support aggregate operator {name}")
        if name in ("SUM", "AVG") and fld.type not in NUMBER_TYPES:
            raise self.err(MalformedQuery, ref.pos,
                           f"field {ref.text} does not support aggregate operator {name}")
        if name in ("MIN", "MAX") and fld.type == "boolean":
            raise self.err(MalformedQuery, ref.pos,
                           f"field {ref.text} does not support aggregate operator {name}")
        collate = " COLLATE NOCASE" if fld.storage == "TEXT" else ""
        if name == "COUNT":
            return _Operand(f"COUNT({sql})", Field(name="expr", type="int"), text, f.pos, True)
        if name == "COUNT_DISTINCT":
            return _Operand(f"COUNT(DISTINCT {sql}{collate})", Field(name="expr", type="int"), text, f.pos, True)
        if name == "AVG":
            return _Operand(f"AVG({sql})", Field(name="expr", type="double"), text, f.pos, True)
        if name == "SUM":
            return _Operand(f"SUM({sql})", Field(name="expr", type=fld.type, scale=fld.scale), text, f.pos, True)
        return _Operand(f"{name}({sql}{collate})", Field(name="expr", type=fld.type, length=fld.length,
                                                         scale=fld.scale), text, f.pos, True)

    def date_function(self, f: n.FunctionCall) -> _Operand:
        """CALENDAR_YEAR(CreatedDate) and friends: UTC, or the org time zone inside convertTimezone()."""
        name = f.upper
        arg = f.args[0] if len(f.args) == 1 else None
        local = isinstance(arg, n.FunctionCall) and arg.upper == "CONVERTTIMEZONE"
        if local:
            arg = arg.args[0] if len(arg.args) == 1 else None
        if not isinstance(arg, n.FieldRef):
            raise self.err(MalformedQuery, f.pos, f"{f.name}() takes one date or dateTime field")
        sql, fld, _ = self.resolve(arg)
        text = f"{f.name}({'convertTimezone(' + arg.text + ')' if local else arg.text})"
        if fld.type not in ("date", "datetime"):
            raise self.err(MalformedQuery, arg.pos,
                           f"{f.name}() takes a date or dateTime field; '{arg.text}' is {fld.type}")
        if fld.type == "date" and (local or name in ("HOUR_IN_DAY", "DAY_ONLY")):
            raise self.err(MalformedQuery, arg.pos,
                           f"{'convertTimezone()' if local else f.name + '()'} takes a dateTime field; "
                           f"'{arg.text}' is a date")
        if fld.type == "date":
            x = sql
        elif local:
            x = f"soql_local({sql})"  # functions.py, in the org time zone
        else:
            x = f"substr({sql}, 1, 19)"  # stored as UTC 'YYYY-MM-DDTHH:MM:SS.000+0000'
        part = {"CALENDAR_YEAR": "%Y", "CALENDAR_MONTH": "%m", "DAY_IN_MONTH": "%d",
                "DAY_IN_YEAR": "%j", "HOUR_IN_DAY": "%H"}
        if name in part:
            expr = f"CAST(strftime('{part[name]}', {x}) AS INTEGER)"
        elif name == "CALENDAR_QUARTER":
            expr = f"((CAST(strftime('%m', {x}) AS INTEGER) + 2) / 3)"
        elif name == "DAY_IN_WEEK":  # 1 = Sunday
            expr = f"(CAST(strftime('%w', {x}) AS INTEGER) + 1)"
        elif name == "WEEK_IN_MONTH":  # days 1-7 are week 1
            expr = f"((CAST(strftime('%d', {x}) AS INTEGER) + 6) / 7)"
        elif name == "WEEK_IN_YEAR":  # January 1-7 is week 1
            expr = f"((CAST(strftime('%j', {x}) AS INTEGER) + 6) / 7)"
        else:  # DAY_ONLY
            return _Operand(f"date({x})", Field(name="expr", type="date"), text, f.pos)
        return _Operand(expr, Field(name="expr", type="int"), text, f.pos)

    # conditions ------------------------------------------------------------------------------
    def operand(self, expr, *, having: bool = False, purpose: str = "filtered") -> _Operand:
        if isinstance(expr, n.FunctionCall):
            if expr.upper in n.AGGREGATES:
                if not having:
                    where = "ORDER BY of a query without aggregates" if purpose == "sorted" else "WHERE"
                    raise self.err(MalformedQuery, expr.pos,
                                   f"Aggregate functions are not allowed in {where}: filter groups "
                                   f"with HAVING, and sort by them only in aggregate queries.")
                return self.aggregate(expr)
            if expr.upper in n.DATE_FUNCTIONS:
                op = self.date_function(expr)
                if having and op.sql not in self._grouped:
                    raise self.err(MalformedQuery, expr.pos, f"Field must be grouped or aggregated: {op.text}")
                if op.sql in self._absent:
                    op.sql = "NULL"
                return op
            if expr.upper == "GROUPING":
                if not having:
                    raise self.err(MalformedQuery, expr.pos, "GROUPING() works in SELECT, HAVING and ORDER BY "
                                   "of a GROUP BY ROLLUP or CUBE query")
                return self._grouping(expr)
            if expr.upper == "TOLABEL" and purpose != "sorted":
                return self._label_operand(expr, having=having)
            if expr.upper in VALUE_FUNCTIONS and purpose == "sorted":
                raise self.err(MalformedQuery, expr.pos, f"{expr.name}() cannot be used in ORDER BY")
            raise self._unsupported_function(expr)
        sql, f, _ = self.resolve(expr)
        if having and sql not in self._grouped:
            raise self.err(MalformedQuery, expr.pos, f"Field must be grouped or aggregated: {expr.text}")
        if sql in self._absent:
            sql = "NULL"  # rolled up in this grouping set
        if purpose == "filtered" and (is_long_text(f) or f.type == "encryptedstring"):
            raise self.err(InvalidField, expr.pos, f"field '{expr.text}' can not be filtered in a query call")
        if not f.stored:  # a compound field is compared only through DISTANCE(), which the local org lacks
            raise self.err(InvalidField, expr.pos, f"field '{expr.text}' can not be {purpose} in a query call")
        return _Operand(sql, f, expr.text, expr.pos)

    def _label_operand(self, f: n.FunctionCall, *, having: bool) -> _Operand:
        """toLabel(Status) in WHERE: the label each stored value shows (SOQL reference, toLabel())."""
        arg = f.args[0] if len(f.args) == 1 else None
        if not isinstance(arg, n.FieldRef):
            raise self.err(MalformedQuery, f.pos, "toLabel() takes one field")
        op = self.operand(arg, having=having)
        if op.field.type != "picklist":
            if op.field.type == "multipicklist":
                raise self.err(NotImplementedByLocalOrg, f.pos, "toLabel() of a multi-select picklist in a filter "
                               "is not supported by the local org: filter on the values with INCLUDES.")
            self._labeller(op.field, arg)  # RecordType.Name, or the error for other types
            raise self.err(MalformedQuery, f.pos, "You can't filter on the translated name value from a record "
                           "type: filter on its Name or Id instead.")
        cases = formatting.label_cases(op.field)
        sql = op.sql
        if cases:
            whens = " ".join(f"WHEN {self.c.params.add(v)} THEN {self.c.params.add(lbl)}" for v, lbl in cases)
            sql = f"(CASE {op.sql} {whens} ELSE {op.sql} END)"
        return _Operand(sql, Field(name=op.field.name, type="string", length=255), f"toLabel({arg.text})", f.pos)

    def condition(self, cond, *, having: bool = False) -> str:
        """SQL for a WHERE or HAVING condition (logic.py bounds its depth)."""
        def leaf(pred, in_or: bool) -> str:
            return self._predicate(pred, having=having, in_or=in_or)

        def mergeable(ref: n.FieldRef) -> bool:
            return self.resolve(ref)[1].type != "multipicklist"

        try:
            return logic.compile_condition(cond, leaf, mergeable)
        except logic.TooDeep as e:
            raise self.err(NotImplementedByLocalOrg, e.pos,
                           "Conditions nested this deeply (AND inside OR inside AND ...) are not "
                           "supported by the local org: its SQL would nest more than "
                           f"{logic.MAX_SQL_DEPTH} levels; flatten the condition.") from None

    def _predicate(self, cond, *, having: bool, in_or: bool) -> str:
        if isinstance(cond, n.InSubquery):
            if having:
                raise self.err(MalformedQuery, cond.pos, "Semi join sub-selects are not allowed in HAVING.")
            if in_or:
                raise self.err(MalformedQuery, cond.pos,
                               "Semi join sub-selects are not allowed with the 'OR' operator")
            return self._semi_join(cond)
        op = self.operand(cond.left, having=having)
        if isinstance(cond, n.InList):
            return self._in_list(op, cond)
        return self._comparison(op, cond.op, cond.value)

    def _type_error(self, op: _Operand, value) -> SalesforceError:
        f = op.field
        if f.storage == "TEXT" and f.type not in ("date", "datetime", "time"):
            kind = "id" if f.type in ID_TYPES else "string"
            return self.err(InvalidField, value.pos,
                            f"value of filter criterion for field '{op.text}' must be of type "
                            f"{kind} and should be enclosed in quotes")
        return self.err(InvalidField, value.pos,
                        f"value of filter criterion for field '{op.text}' must be of type "
                        f"{_SOQL_TYPE_NAMES.get(f.type, f.type)} and should not be enclosed in quotes")

    def _value(self, op: _Operand, value) -> object:
        """The SQL parameter for `value` compared with `op`, checked against the field's type."""
        f = op.field
        t = f.type
        if isinstance(value, n.DateLiteral):
            raise self._type_error(op, value)
        if isinstance(value, n.Literal) and value.kind == "null":
            return None
        if isinstance(value, n.Literal) and value.kind == "currency":
            raise self.err(MalformedQuery, value.pos,
                           f"Currency ISO code values ({value.currency}{value.value}) are valid only in "
                           f"multicurrency orgs; the local org has one currency: compare with {value.value}.")
        if t in ID_TYPES:
            if not (isinstance(value, n.Literal) and value.kind == "string"):
                raise self._type_error(op, value)
            if value.value == "":
                return None
            try:
                return to_18(value.value)
            except ValueError:
                raise self.err(InvalidQueryFilterOperator, value.pos,
                               f"invalid ID field: {value.value}") from None
        if t in TEXT_TYPES:
            if not (isinstance(value, n.Literal) and value.kind == "string"):
                raise self._type_error(op, value)
            return value.value
        if t == "boolean":
            if not (isinstance(value, n.Literal) and value.kind == "boolean"):
                raise self._type_error(op, value)
            return 1 if value.value else 0
        if t in NUMBER_TYPES:
            if not (isinstance(value, n.Literal) and value.kind in ("int", "decimal")):
                raise self._type_error(op, value)
            if not abs(value.value) < MAX_NUMBER:  # also NaN/inf from a huge decimal
                raise self.err(NumberOutsideValidRange, value.pos,
                               f"Number outside the valid range for field '{op.text}': Salesforce numbers "
                               f"have at most 18 digits")
            return value.value
        if t == "date":
            if not (isinstance(value, n.DateValue) and value.kind == "date"):
                raise self._type_error(op, value)
            return value.value.isoformat()
        if t == "datetime":
            if not (isinstance(value, n.DateValue) and value.kind == "datetime"):
                raise self._type_error(op, value)
            return format_datetime_millis(value.value)
        raise self.err(NotImplementedByLocalOrg, op.pos,
                       f"Filtering on {t} field '{op.text}' is not supported by the local org.")

    def _comparison(self, op: _Operand, operator: str, value) -> str:
        f = op.field
        if isinstance(value, n.DateLiteral) and operator != "LIKE":
            return self._date_literal(op, operator, value)
        if operator == "LIKE":
            if f.type not in TEXT_TYPES or f.type == "multipicklist":
                raise self.err(InvalidQueryFilterOperator, op.pos,
                               f"invalid operator on {_SOQL_TYPE_NAMES.get(f.type, f.type)} field "
                               f"'{op.text}': LIKE works on text fields only")
            if not (isinstance(value, n.Literal) and value.kind == "string"):
                if isinstance(value, n.Literal) and value.kind == "null":
                    return "0"  # LIKE null matches nothing
                raise self._type_error(op, value)
            pattern = value.like_pattern if value.like_pattern is not None else value.value
            if not pattern.isascii() and not f.case_sensitive:
                return f"soql_like({op.sql}, {self.c.params.add(pattern)})"  # see functions.py
            like = f"{op.sql} LIKE {self.c.params.add(pattern)} ESCAPE '\\'"
            domain = suffix_domain(pattern) if f.type == "email" and _PLAIN_COLUMN.fullmatch(op.sql) else None
            if domain is not None:  # '%@example.com': a search of the domain index (store.py), not a scan
                return f"({email_domain_sql(op.sql)} = {self.c.params.add(domain)} COLLATE NOCASE AND {like})"
            return like
        param = self._value(op, value)
        if param is None and f.type == "boolean" and operator in ("=", "!="):
            # SOQL reference, "Use null in WHERE": on a Boolean field `= null` is `= false`, `!= null` `= true`.
            return f"{op.sql} = {0 if operator == '=' else 1}"
        if param is None:
            if operator == "=":
                return f"{op.sql} IS NULL"
            if operator == "!=":
                return f"{op.sql} IS NOT NULL"
            raise self.err(InvalidQueryFilterOperator, value.pos,
                           f"invalid operator '{operator}' for null on field '{op.text}': use = or !=")
        if f.type == "boolean" and operator not in ("=", "!="):
            raise self.err(InvalidQueryFilterOperator, op.pos,
                           f"invalid operator on boolean field '{op.text}': use = or !=")
        p = self.c.params.add(param)
        collate = _collation(f)
        if _needs_unicode_fold(f, [param]):
            return f"soql_fold({op.sql}) {'IS NOT' if operator == '!=' else operator} soql_fold({p})"
        if operator == "!=":
            return f"{op.sql} IS NOT {p}{collate}"
        return f"{op.sql} {operator} {p}{collate}"

    def _range(self, op: _Operand, lit: n.DateLiteral) -> tuple[str, str]:
        if op.field.type not in ("date", "datetime"):
            raise self._type_error(op, lit)
        name = lit.name
        known = name in dates.FIXED or name in dates.WITH_N or name in dates.FISCAL
        if not known:
            raise self.err(MalformedQuery, lit.pos, f"unexpected token: '{name}'")
        if (name in dates.WITH_N or name.startswith(("LAST_N_", "NEXT_N_", "N_"))) != (lit.n is not None):
            raise self.err(MalformedQuery, lit.pos,
                           f"Date literal {name} {'needs' if lit.n is None else 'takes no'} ':n'")
        try:
            start, end = dates.date_range(name, lit.n, self.c.today)
        except NotImplementedByLocalOrg as e:
            raise self.err(NotImplementedByLocalOrg, lit.pos, e.message) from None
        if op.field.type == "date":
            return start.isoformat(), end.isoformat()
        return (format_datetime_millis(dates.local_midnight_utc(start, self.c.tz)),
                format_datetime_millis(dates.local_midnight_utc(end, self.c.tz)))

    def _date_literal(self, op: _Operand, operator: str, lit: n.DateLiteral) -> str:
        start, end = self._range(op, lit)
        s, e = self.c.params.add(start), self.c.params.add(end)
        col = op.sql
        return {
            "=": f"({col} >= {s} AND {col} < {e})",
            "!=": f"({col} IS NULL OR {col} < {s} OR {col} >= {e})",
            "<": f"{col} < {s}",
            "<=": f"{col} < {e}",
            ">": f"{col} >= {e}",
            ">=": f"{col} >= {s}",
        }[operator]

    def _in_list(self, op: _Operand, cond: n.InList) -> str:
        f = op.field
        if cond.op in ("INCLUDES", "EXCLUDES"):
            return self._includes(op, cond)
        if f.type == "multipicklist":
            raise self.err(InvalidQueryFilterOperator, op.pos,
                           f"invalid operator on multipicklist field '{op.text}': use INCLUDES or EXCLUDES")
        if any(isinstance(v, n.DateLiteral) for v in cond.values):
            ranges = []
            for v in cond.values:
                if isinstance(v, n.DateLiteral):
                    ranges.append(self._date_literal(op, "=", v))
                else:
                    ranges.append(self._comparison(op, "=", v))
            inner = "(" + " OR ".join(ranges) + ")"
            return f"NOT COALESCE({inner}, 0)" if cond.negated else inner
        values = [self._value(op, v) for v in cond.values]
        has_null = any(v is None for v in values)
        present = [v for v in values if v is not None]
        collate = _collation(f)
        parts = []
        if present:
            left = op.sql + collate
            placeholders = ", ".join(self.c.params.add(v) for v in present)
            if _needs_unicode_fold(f, present):
                left = f"soql_fold({op.sql})"
                placeholders = ", ".join(f"soql_fold({p.strip()})" for p in placeholders.split(","))
            parts.append(f"{left} {'NOT IN' if cond.negated else 'IN'} ({placeholders})")
        if cond.negated:
            null_part = f"{op.sql} IS NOT NULL" if has_null else f"{op.sql} IS NULL"
            if not present:
                return null_part
            return f"({parts[0]} AND {null_part})" if has_null else f"({null_part} OR {parts[0]})"
        if has_null:
            parts.append(f"{op.sql} IS NULL")
        return "(" + " OR ".join(parts) + ")"

    def _includes(self, op: _Operand, cond: n.InList) -> str:
        if op.field.type != "multipicklist":
            raise self.err(InvalidQueryFilterOperator, op.pos,
                           f"includes or excludes operator only valid on multipicklist field: '{op.text}'")
        alternatives = []
        for v in cond.values:
            if not (isinstance(v, n.Literal) and v.kind == "string"):
                raise self._type_error(op, v)
            terms = [t.strip() for t in v.value.split(";") if t.strip()]
            checks = []
            for term in terms:
                escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                p = self.c.params.add(f"%;{escaped};%")
                checks.append(f"(';' || REPLACE({op.sql}, '; ', ';') || ';') LIKE {p} ESCAPE '\\'")
            alternatives.append("(" + " AND ".join(checks or ["0"]) + ")")
        inner = "(" + " OR ".join(alternatives) + ")"
        return f"NOT COALESCE({inner}, 0)" if cond.op == "EXCLUDES" else inner

    def _semi_join(self, cond: n.InSubquery) -> str:
        if self.role == "semi":
            raise self.err(MalformedQuery, cond.pos, "Nesting of semi join sub-selects is not supported")
        op = self.operand(cond.left)
        left = op.field
        sub = cond.query
        if left.type not in ID_TYPES:
            raise self.err(MalformedQuery, cond.pos,
                           f"The left operand field in the where expression for outer query should "
                           f"be an id field, cannot use: '{op.text}'")
        if len(sub.select) != 1 or not isinstance(sub.select[0], n.SelectField):
            raise self.err(MalformedQuery, sub.sobject_pos,
                           "A semi join sub-select must select exactly one id field.")
        scope = _Scope(self.c, sub, role="semi")
        scope._refuse_unsupported()
        if scope.sobject.name == self.sobject.name:
            raise self.err(MalformedQuery, sub.sobject_pos,
                           "The inner and outer selects should not be on the same object type")
        ref = sub.select[0].field
        sql, right, _ = scope.resolve(ref)
        if right.type not in ID_TYPES:
            raise self.err(InvalidField, ref.pos,
                           f"semi join sub selects can only query id fields, cannot use: '{ref.text}'")
        left_targets = {self._owner_of(cond.left)} if left.type == "id" else set(left.reference_to)
        right_targets = {scope._owner_of(ref)} if right.type == "id" else set(right.reference_to)
        if not {t.lower() for t in left_targets} & {t.lower() for t in right_targets}:
            raise self.err(MalformedQuery, ref.pos,
                           f"The selected field '{ref.text}' in the subquery and the left operand "
                           f"field in the where expression in the outer query '{op.text}' should "
                           f"point to the same object type")
        scope.columns = [sql]
        where = scope._from_where([f"{sql} IS NOT NULL"])
        order = scope._order_by()
        inner = scope._statement(where, tail=scope._tail(order))
        keyword = "NOT IN" if cond.negated else "IN"
        if cond.negated:
            return f"({op.sql} IS NULL OR {op.sql} NOT IN ({inner}))"
        return f"{op.sql} {keyword} ({inner})"

    def _owner_of(self, ref: n.FieldRef) -> str:
        """The object a path's last field belongs to: the queried one, or the parent it ends at."""
        _, _, chain = self.resolve(ref)
        join = chain[-1][1] if chain else None
        return join.sobject.name if join and join.sobject else self.sobject.name


VALUE_FUNCTIONS = frozenset({"TOLABEL", "FORMAT"})  # a field's value shown differently (formatting.py)


def _has_aggregate(f: n.FunctionCall) -> bool:
    """Whether a SELECT function makes the query an aggregate one (COUNT(x), FORMAT(MIN(x)), GROUPING(x)...)."""
    if f.upper in n.AGGREGATES or f.upper in n.DATE_FUNCTIONS or f.upper == "GROUPING":
        return True
    return f.upper in VALUE_FUNCTIONS and any(isinstance(a, n.FunctionCall) and _has_aggregate(a) for a in f.args)


def _fill(sql: str, flags: dict[str, str]) -> str:
    for placeholder, value in flags.items():
        sql = sql.replace(placeholder, value)
    return sql


def _needs_unicode_fold(f: Field, values: list) -> bool:
    """SQLite's NOCASE folds ASCII only: compare non-ASCII text through soql_fold (no index)."""
    return (f.storage == "TEXT" and not f.case_sensitive and f.type not in ID_TYPES
            and any(isinstance(v, str) and not v.isascii() for v in values))


def _collation(f: Field) -> str:
    """Text compares case-insensitively, except fields describe marks case-sensitive (unique ids)."""
    if f.storage != "TEXT":
        return ""
    return " COLLATE BINARY" if f.case_sensitive else " COLLATE NOCASE"


def _safe(text: str) -> str:
    """Key prefixes and object names come from the Schema; refuse anything that could break SQL."""
    if not text.replace("_", "").isalnum():
        raise ValueError(f"unexpected name in schema: {text!r}")
    return text


def compile_query(schema: Schema, soql: str, query: n.Query, *, include_deleted: bool = False,
                  today: dt.date | None = None, tz: dt.tzinfo | None = None,
                  user_id: str | None = None, access_of: Callable[[], ReadAccess] | None = None) -> Plan:
    """The Plan for `query` (parsed from `soql`, which error messages quote)."""
    return Compiler(schema, soql, include_deleted=include_deleted, today=today, tz=tz,
                    user_id=user_id, access_of=access_of).compile(query)
