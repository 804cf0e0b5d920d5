"""SOQL text -> syntax tree (nodes.py), with Salesforce's MALFORMED_QUERY messages on bad input."""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

from lark import Lark, Token, Tree, v_args
from lark.visitors import Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from slotforce.localorg.errors import (MalformedQuery, NotImplementedByLocalOrg, NumberOutsideValidRange,
                                       SalesforceError)
from slotforce.localorg.values import parse_datetime
from slotforce.localorg.soql import nodes as n

MAX_LITERAL_LENGTH = 4000
MAX_SOQL_LENGTH = 100_000  # "SOQL and SOSL Limits": 100,000 characters by default
MAX_INT = 2**31 - 1  # LIMIT, OFFSET and date-literal n are Java ints in Salesforce

_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text()
_LARK = Lark(_GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True,
             maybe_placeholders=True)

# Escapes valid in any quoted string (SOQL reference, "Quoted String Escape Sequences").
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def located(soql: str, pos: n.Pos, message: str) -> str:
    """Salesforce's way of pointing at a query problem: the line, a caret, Row:Column, the message."""
    row, col = pos
    if row < 1:
        return message
    lines = soql.split("\n")
    line = lines[row - 1] if row - 1 < len(lines) else ""
    return f"\n{line}\n{' ' * max(col - 1, 0)}^\nERROR at Row:{row}:Column:{col}\n{message}"


def _pos_of(item) -> n.Pos:
    if isinstance(item, Token):
        return (item.line or 0, item.column or 0)
    meta = getattr(item, "meta", None)
    if meta is not None and not meta.empty:
        return (meta.line, meta.column)
    return n.NOWHERE


def _decode_string(token: Token) -> n.Literal:
    """Decode a quoted SOQL string; LIKE's `\\%` and `\\_` survive in `like_pattern` only."""
    raw = token.value[1:-1]
    value: list[str] = []
    like: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            value.append(ch)
            like.append("\\\\" if ch == "\\" else ch)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt.lower() in _ESCAPES or nxt in _ESCAPES:
            decoded = _ESCAPES.get(nxt.lower(), _ESCAPES.get(nxt))
            value.append(decoded)
            like.append("\\\\" if decoded == "\\" else decoded)
            i += 2
        elif nxt in "%_":
            value.append(nxt)
            like.append("\\" + nxt)
            i += 2
        elif nxt in "uU" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2:i + 6]):
            decoded, width = _unicode_escape(raw, i, token)
            value.append(decoded)
            like.append("\\\\" if decoded == "\\" else decoded)
            i += width
        else:
            raise _Located((token.line, token.column + 1 + i),
                           f"Invalid string literal '{token.value}'. Illegal character sequence "
                           f"'\\{nxt}' in string literal.")
    text = "".join(value)
    if len(text) > MAX_LITERAL_LENGTH:
        raise _Located((token.line, token.column),
                       f"String literal exceeds the maximum length of {MAX_LITERAL_LENGTH} characters")
    return n.Literal("string", text, (token.line, token.column), like_pattern="".join(like))


def _unicode_escape(raw: str, i: int, token: Token) -> tuple[str, int]:
    """`\\uXXXX` at raw[i]: a character and the escape's width; UTF-16 pairs join, lone halves are refused."""
    code = int(raw[i + 2:i + 6], 16)
    if 0xD800 <= code < 0xDC00:
        low = re.match(r"\\[uU]([dD][c-fC-F][0-9a-fA-F]{2})", raw[i + 6:i + 12])
        if low:
            return chr(0x10000 + ((code - 0xD800) << 10) + (int(low.group(1), 16) - 0xDC00)), 12
    if 0xD800 <= code < 0xE000:
        raise _Located((token.line, token.column + 1 + i),
                       f"Invalid string literal '{token.value}'. Illegal character sequence "
                       f"'{raw[i:i + 6]}' in string literal.")
    return chr(code), 6


def _parse_datetime(token: Token) -> n.DateValue:
    # The grammar has checked the shape; the org's own DateTime reading applies the offset.
    utc = parse_datetime(token.value.upper())
    if utc is None:
        raise _Located((token.line, token.column), f"invalid date: {token.value}")
    return n.DateValue("datetime", utc, (token.line, token.column))


class _Located(Exception):
    """A MALFORMED_QUERY found while building the tree; parse() adds the query text around it."""

    def __init__(self, pos: n.Pos, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


class _ToNodes(Transformer_NonRecursive):
    """Lark tree -> nodes.Query (one method per grammar rule that needs shaping).

    Not recursive, so 25,000 nested NOTs cannot exhaust Python's stack; same-operator chains
    are flattened and double negations dropped here (see nodes.And, nodes.Not).
    """

    def start(self, items):
        return items[0]

    @v_args(meta=True)
    def query(self, meta, items):
        parts: dict = {}
        for item in items:
            if item is None:
                continue
            kind, payload = item
            parts[kind] = payload
        select = parts["select"]
        sobject, sobject_pos, sobject_alias, parent_prefix = parts["from"]
        aggregate = "group_by" in parts or any(isinstance(i, n.SelectFunction) for i in select)
        for item in select:
            # `SELECT Id FORM Account` reads FORM as an alias; Salesforce blames FORM, and so do we.
            if isinstance(item, n.SelectField) and item.alias and not aggregate:
                raise _Located(_pos_of(item.alias), f"unexpected token: '{item.alias}'")
        select = [n.SelectField(i.field, str(i.alias)) if isinstance(i, n.SelectField) and i.alias
                  else i for i in select]
        return n.Query(
            select=tuple(select), sobject=sobject, sobject_pos=sobject_pos, sobject_alias=sobject_alias,
            where=parts.get("where"), group_by=tuple(parts.get("group_by", ())),
            group_by_function=parts.get("group_by_function"),
            having=parts.get("having"), order_by=tuple(parts.get("order_by", ())),
            limit=parts.get("limit"), offset=parts.get("offset"),
            using_scope=parts.get("using"), with_clause=parts.get("with"),
            for_clause=parts.get("for"), update_clause=parts.get("update"), parent_prefix=parent_prefix,
        )

    # --- clauses ---
    def select_clause(self, items):
        return ("select", items[1:])

    def select_field(self, items):
        return n.SelectField(items[0], items[1])  # alias kept as a Token until query() checks it

    def select_function(self, items):
        alias = items[1]
        return n.SelectFunction(items[0], str(alias) if alias is not None else None)

    def alias(self, items):
        return items[0]

    def select_subquery(self, items):
        return n.SelectSubquery(items[0])

    def typeof(self, items):
        whens, otherwise = [], ()
        for i, item in enumerate(items):
            if isinstance(item, Token) and item.type == "WHEN":
                whens.append((items[i + 1].value, _pos_of(items[i + 1]), tuple(items[i + 3])))
            elif isinstance(item, Token) and item.type == "ELSE":
                otherwise = tuple(items[i + 1])
        return n.SelectTypeof(items[1].value, _pos_of(items[0]), tuple(whens), otherwise)

    def field_list(self, items):
        return items

    def from_clause(self, items):
        first, child, alias = items[1], items[2], items[3]
        if child is not None:  # FROM Account.Contacts
            return ("from", (child.value, _pos_of(child), alias.value if alias else None, first.value))
        return ("from", (first.value, _pos_of(first), alias.value if alias else None, None))

    def using_clause(self, items):
        return ("using", items[2].value)

    def where_clause(self, items):
        return ("where", items[1])

    def with_clause(self, items):
        if items[2] is not None:  # WITH UserId = '005...': the feed filter of UserProfileFeed
            return ("with", f"{items[1].value} =")
        return ("with", items[1].value)

    def group_clause(self, items):
        exprs = items[2:]
        rollup = next((e for e in exprs if isinstance(e, n.FunctionCall) and e.upper in ("ROLLUP", "CUBE")), None)
        if rollup is not None:
            if len(exprs) > 1:  # "GROUP BY ROLLUP(field1), field2 is not valid" (SOQL reference)
                other = next(e for e in exprs if e is not rollup)
                raise _Located(_node_pos(other), f"GROUP BY {rollup.name.upper()}() cannot be combined with "
                               f"other GROUP BY fields: put them all inside the parentheses")
            return ("group_by_function", rollup)
        return ("group_by", exprs)

    def having_clause(self, items):
        return ("having", items[1])

    def order_clause(self, items):
        return ("order_by", items[2:])

    def order_item(self, items):
        expr, direction, nulls = items
        descending = direction is not None and direction.upper() == "DESC"
        return n.OrderItem(expr, descending, nulls)

    def direction(self, items):
        return items[0].value

    def nulls(self, items):
        return items[1].value.upper()

    def limit_clause(self, items):
        return ("limit", _int(items[1], "LIMIT"))

    def offset_clause(self, items):
        return ("offset", _int(items[1], "OFFSET"))

    def for_clause(self, items):
        return ("for", items[1].value.upper())

    def update_clause(self, items):
        return ("update", items[1].value.upper())

    # --- conditions ---
    def and_(self, items):
        return n.And(_flat(items, n.And))

    def or_(self, items):
        return n.Or(_flat(items, n.Or), _pos_of(items[1]))

    def not_(self, items):
        # SOQL's logic is two-valued (a null comparison is false), so NOT NOT x is x.
        inner = items[1]
        return inner.item if isinstance(inner, n.Not) else n.Not(inner)

    def comparison(self, items):
        left, op, value = items
        op = "!=" if op.value == "<>" else op.value
        return n.Comparison(left, op, value, _node_pos(left))

    def like(self, items):
        return n.Comparison(items[0], "LIKE", items[2], _node_pos(items[0]))

    def in_list(self, items):
        return n.InList(items[0], tuple(items[2:]), False, "IN", _node_pos(items[0]))

    def not_in_list(self, items):
        return n.InList(items[0], tuple(items[3:]), True, "IN", _node_pos(items[0]))

    def includes(self, items):
        return n.InList(items[0], tuple(items[2:]), False, "INCLUDES", _node_pos(items[0]))

    def excludes(self, items):
        return n.InList(items[0], tuple(items[2:]), False, "EXCLUDES", _node_pos(items[0]))

    def semi_join(self, items):
        return self._join(items[0], items[2], False)

    def anti_join(self, items):
        return self._join(items[0], items[3], True)

    @staticmethod
    def _join(left, query, negated):
        if not isinstance(left, n.FieldRef):
            raise _Located(_node_pos(left), "semi join sub-selects need a field on the left")
        return n.InSubquery(left, query, negated, left.pos)

    # --- operands and values ---
    def field_path(self, items):
        return n.FieldRef(tuple(t.value for t in items), _pos_of(items[0]))

    def function(self, items):
        name = items[0]
        args = tuple(a for a in items[1:] if a is not None)
        args = tuple(_decode_string(a) if isinstance(a, Token) and a.type == "STRING"
                     else (n.Literal("decimal", a.value, _pos_of(a)) if isinstance(a, Token) else a)
                     for a in args)
        return n.FunctionCall(name.value, args, _pos_of(name))

    def string(self, items):
        return _decode_string(items[0])

    def number(self, items):
        tok = items[0]
        text = tok.value
        if re.fullmatch(r"[+-]?\d+", text):
            return n.Literal("int", int(text), _pos_of(tok))
        return n.Literal("decimal", float(text), _pos_of(tok))

    def datetime(self, items):
        return _parse_datetime(items[0])

    def date(self, items):
        tok = items[0]
        try:
            value = dt.date.fromisoformat(tok.value)
        except ValueError:
            raise _Located(_pos_of(tok), f"invalid date: {tok.value}") from None
        return n.DateValue("date", value, _pos_of(tok))

    def currency(self, items):
        tok = items[0]
        number = tok.value[3:]
        value = int(number) if re.fullmatch(r"-?\d+", number) else float(number)
        return n.Literal("currency", value, _pos_of(tok), currency=tok.value[:3].upper())

    def word(self, items):
        tok = items[0]
        lower = tok.value.lower()
        if lower == "null":
            return n.Literal("null", None, _pos_of(tok))
        if lower in ("true", "false"):
            return n.Literal("boolean", lower == "true", _pos_of(tok))
        return n.DateLiteral(tok.value.upper(), None, _pos_of(tok))

    def date_literal_n(self, items):
        name, num = items
        if not re.fullmatch(r"\d+", num.value):
            raise _Located(_pos_of(num), f"unexpected token: '{num.value}'")
        return n.DateLiteral(name.value.upper(), _int(num, name.value.upper()), _pos_of(name))


def _flat(items, cls) -> tuple:
    """The conditions of an AND/OR chain, with parenthesised chains of the same operator merged."""
    out: list = []
    for item in items:
        if isinstance(item, Token):
            continue
        out.extend(item.items if isinstance(item, cls) else (item,))
    return tuple(out)


def _int(token: Token, what: str) -> int:
    value = int(token.value)
    if value > MAX_INT:
        raise NumberOutsideValidRange(f"The {what} value {token.value} is out of range: "
                                      f"the maximum is {MAX_INT}")
    return value


def _node_pos(node) -> n.Pos:
    return getattr(node, "pos", n.NOWHERE)


def _unexpected(soql: str, err: UnexpectedInput) -> SalesforceError:
    if re.search(r"\bWITH\s+DATA\s+CATEGORY\b", soql, re.I):
        return NotImplementedByLocalOrg("WITH DATA CATEGORY is not supported by the local org: it has "
                                        "no Salesforce Knowledge data categories.")
    if isinstance(err, UnexpectedToken) and err.token.type == "$END":
        lines = soql.rstrip().split("\n")
        pos = (len(lines), len(lines[-1]) + 1)
        return MalformedQuery(located(soql, pos, "unexpected token: '<EOF>'"))
    if isinstance(err, UnexpectedToken):
        text = err.token.value
        previous = (err.token_history or [None])[-1]
        if previous is not None and previous.type == "NAME" and _follows_a_name(soql, previous):
            # Two names in a row: the first was taken for an alias (`SELECT Id FORM Account`).
            # Salesforce blames that one.
            return MalformedQuery(located(soql, _pos_of(previous), f"unexpected token: '{previous.value}'"))
    elif isinstance(err, UnexpectedCharacters):
        m = re.compile(r"\w+|\S").match(soql, err.pos_in_stream)
        text = m.group(0) if m else soql[err.pos_in_stream:err.pos_in_stream + 1]
    else:
        text = "?"
    return MalformedQuery(located(soql, (err.line, err.column), f"unexpected token: '{text}'"))


def _follows_a_name(soql: str, token: Token) -> bool:
    before = soql[:token.start_pos].rstrip()
    return bool(before) and (before[-1].isalnum() or before[-1] == "_")


def _check_text(soql: str) -> None:
    """Refuse what no grammar should see: over-long statements and text that is not Unicode."""
    if len(soql) > MAX_SOQL_LENGTH:
        raise MalformedQuery(f"SOQL statements cannot be longer than {MAX_SOQL_LENGTH:,} characters "
                             f"(this one has {len(soql):,}).")
    bad = _SURROGATE.search(soql)
    if bad:
        row = soql.count("\n", 0, bad.start()) + 1
        col = bad.start() - (soql.rfind("\n", 0, bad.start()) + 1) + 1
        raise MalformedQuery(located(soql.encode("utf-8", "replace").decode(), (row, col),
                                     f"invalid character U+{ord(bad.group()):04X}: "
                                     f"a lone UTF-16 surrogate is not text"))


_SURROGATE = re.compile("[\ud800-\udfff]")


@functools.lru_cache(maxsize=512)
def parse(soql: str) -> n.Query:
    """Parse one SOQL statement into a nodes.Query, or raise MalformedQuery like Salesforce."""
    _check_text(soql)
    stripped = soql.lstrip()
    if stripped[:4].upper() == "FIND" and (len(stripped) == 4 or not stripped[4].isalnum()):
        raise NotImplementedByLocalOrg(
            "SOSL (FIND ...) is not supported by the local org: send SOQL to /query, "
            "or filter with LIKE in SOQL instead.")
    try:
        tree: Tree = _LARK.parse(soql)
    except UnexpectedInput as err:
        raise _unexpected(soql, err) from None
    try:
        return _ToNodes().transform(tree)
    except VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, _Located):
            raise MalformedQuery(located(soql, inner.pos, inner.message)) from None
        if isinstance(inner, SalesforceError):
            raise inner from None
        raise
