"""The formula language subset flows may use: parse once at deploy, evaluate per interview.

Anything outside the subset (an unknown function, a wrong argument count) is a FormulaError at
deploy time, so a flow never runs with a formula the local org would evaluate approximately.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from lark import Lark, Transformer
from lark.exceptions import LarkError, UnexpectedInput

from . import values


class FormulaError(Exception):
    """A formula the local org cannot parse or does not support; `column` is 1-based when known."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("formula.lark")).read_text()
    return Lark(grammar, parser="lalr", maybe_placeholders=False)


def _unquote(text: str) -> str:
    body = text[1:-1]
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _ToAst(Transformer):
    """Parse tree -> tuples: ("num", v) ("str", s) ("lit", v) ("ref", path) ("call", NAME, args)
    ("bin", op, l, r) ("neg", x) ("not", x)."""

    def number(self, items):
        text = str(items[0])
        return ("num", int(text) if text.isdigit() else float(text))

    def string(self, items):
        return ("str", _unquote(str(items[0])))

    def merge(self, items):
        return ("ref", str(items[0])[2:-1].strip())

    def name(self, items):
        word = str(items[0])
        upper = word.upper()
        if upper == "TRUE":
            return ("lit", True)
        if upper == "FALSE":
            return ("lit", False)
        if upper == "NULL":
            return ("lit", None)
        # Flow formulas reference resources as {!Name}; a bare name is accepted the same way.
        return ("ref", word)

    def call(self, items):
        fn = str(items[0]).upper()
        return ("call", fn, [a for a in items[1:] if a is not None])

    def or_op(self, items):
        return ("bin", "||", items[0], items[1])

    def and_op(self, items):
        return ("bin", "&&", items[0], items[1])

    def compare(self, items):
        op = str(items[1])
        op = {"==": "=", "<>": "!="}.get(op, op)
        return ("bin", op, items[0], items[2])

    def concat(self, items):
        return ("bin", "&", items[0], items[1])

    def arith(self, items):
        return ("bin", str(items[1]), items[0], items[2])

    def pow(self, items):
        return ("bin", "^", items[0], items[1])

    def neg(self, items):
        return ("neg", items[0])

    def not_op(self, items):
        return ("not", items[0])


# name -> (min args, max args or None for any). Special forms that need the field reference
# itself rather than its value: ISPICKVAL, ISCHANGED, PRIORVALUE.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "IF": (3, 3), "AND": (1, None), "OR": (1, None), "NOT": (1, 1), "CASE": (4, None),
    "ISBLANK": (1, 1), "ISNULL": (1, 1), "BLANKVALUE": (2, 2), "NULLVALUE": (2, 2),
    "ISPICKVAL": (2, 2), "ISCHANGED": (1, 1), "PRIORVALUE": (1, 1), "ISNEW": (0, 0),
    "TEXT": (1, 1), "VALUE": (1, 1), "LEN": (1, 1), "LEFT": (2, 2), "RIGHT": (2, 2),
    "MID": (3, 3), "FIND": (2, 3), "CONTAINS": (2, 2), "BEGINS": (2, 2), "LOWER": (1, 1),
    "UPPER": (1, 1), "TRIM": (1, 1), "SUBSTITUTE": (3, 3), "LPAD": (2, 3), "RPAD": (2, 3),
    "BR": (0, 0),
    "ABS": (1, 1), "ROUND": (2, 2), "FLOOR": (1, 1), "CEILING": (1, 1), "MAX": (1, None),
    "MIN": (1, None), "MOD": (2, 2),
    "NOW": (0, 0), "TODAY": (0, 0), "DATEVALUE": (1, 1), "DATETIMEVALUE": (1, 1),
    "DATE": (3, 3), "YEAR": (1, 1), "MONTH": (1, 1), "DAY": (1, 1), "ADDMONTHS": (2, 2),
}
_NEEDS_REFERENCE = {"ISPICKVAL": 0, "ISCHANGED": 0, "PRIORVALUE": 0}


def parse(expression: str) -> tuple:
    """The AST of `expression`, or FormulaError naming what is wrong and where."""
    text = expression.strip()
    if not text:
        raise FormulaError("the formula is empty")
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise FormulaError(f"syntax error at column {exc.column}: {str(exc).splitlines()[0]}",
                           column=exc.column) from None
    except LarkError as exc:
        raise FormulaError(f"syntax error: {exc}") from None
    ast = _ToAst().transform(tree)
    _check(ast)
    return ast


def _check(node: tuple) -> None:
    kind = node[0]
    if kind == "call":
        fn, args = node[1], node[2]
        if fn not in FUNCTIONS:
            raise FormulaError(f"function {fn}() is not supported by the local org's formula subset "
                               f"(supported: {', '.join(sorted(FUNCTIONS))})")
        lo, hi = FUNCTIONS[fn]
        if len(args) < lo or (hi is not None and len(args) > hi):
            want = str(lo) if lo == hi else f"{lo}..{hi if hi is not None else 'n'}"
            raise FormulaError(f"{fn}() takes {want} arguments, got {len(args)}")
        if fn in _NEEDS_REFERENCE and args[0][0] != "ref":
            raise FormulaError(f"{fn}() needs a field reference like {{!$Record.Field__c}} as its first argument")
        if fn == "CASE" and len(args) % 2 != 0:
            raise FormulaError("CASE() needs an expression, value/result pairs and an else result")
        for a in args:
            _check(a)
    elif kind == "bin":
        _check(node[2])
        _check(node[3])
    elif kind in ("neg", "not"):
        _check(node[1])


def references(node: tuple) -> list[str]:
    """Every resource path the formula reads (for deploy-time validation)."""
    out: list[str] = []

    def walk(n):
        if n[0] == "ref":
            out.append(n[1])
        elif n[0] == "call":
            for a in n[2]:
                walk(a)
        elif n[0] == "bin":
            walk(n[2])
            walk(n[3])
        elif n[0] in ("neg", "not"):
            walk(n[1])

    walk(node)
    return out


class Env:
    """What a formula can see. The interpreter subclasses this per interview."""

    def resolve(self, path: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def prior(self, path: str) -> Any:
        raise FormulaError("PRIORVALUE() is available only in record-triggered flows on update")

    def is_changed(self, path: str) -> bool:
        raise FormulaError("ISCHANGED() is available only in record-triggered flows on update")

    def is_new(self) -> bool:
        return False

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


def evaluate(node: tuple, env: Env) -> Any:
    kind = node[0]
    if kind in ("num", "str", "lit"):
        return node[1]
    if kind == "ref":
        return env.resolve(node[1])
    if kind == "neg":
        v = evaluate(node[1], env)
        return None if v is None else -v
    if kind == "not":
        return not _truth(evaluate(node[1], env))
    if kind == "bin":
        return _binary(node[1], node[2], node[3], env)
    if kind == "call":
        return _call(node[1], node[2], env)
    raise FormulaError(f"cannot evaluate {kind}")  # pragma: no cover


def _truth(v: Any) -> bool:
    return bool(v) if v is not None else False


def _text(v: Any) -> str:
    return "" if v is None else values.to_text(v)


def _binary(op: str, left: tuple, right: tuple, env: Env) -> Any:
    if op == "&&":
        return _truth(evaluate(left, env)) and _truth(evaluate(right, env))
    if op == "||":
        return _truth(evaluate(left, env)) or _truth(evaluate(right, env))
    a, b = evaluate(left, env), evaluate(right, env)
    if op == "&":
        return _text(a) + _text(b)
    if op == "=":
        return values.equal(a, b, case_sensitive=True)
    if op == "!=":
        return not values.equal(a, b, case_sensitive=True)
    if op in ("<", ">", "<=", ">="):
        c = values.compare(a, b)
        if c is None:
            return False
        return {"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[op]
    if a is None or b is None:
        return None
    if op == "+":
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        return values.add(a, b)
    if op == "-":
        return values.subtract(a, b)
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise FormulaError("division by zero")
        return a / b
    if op == "^":
        return a ** b
    raise FormulaError(f"operator {op} is not supported")  # pragma: no cover


def _round(x: float, digits: int) -> float | int:
    q = Decimal(1).scaleb(-int(digits))
    r = Decimal(str(x)).quantize(q, rounding=ROUND_HALF_UP)
    return int(r) if digits <= 0 else float(r)


def _call(fn: str, args: list[tuple], env: Env) -> Any:
    ev: Callable[[tuple], Any] = lambda a: evaluate(a, env)  # noqa: E731
    if fn == "IF":
        return ev(args[1]) if _truth(ev(args[0])) else ev(args[2])
    if fn == "AND":
        return all(_truth(ev(a)) for a in args)
    if fn == "OR":
        return any(_truth(ev(a)) for a in args)
    if fn == "NOT":
        return not _truth(ev(args[0]))
    if fn == "CASE":
        subject = ev(args[0])
        pairs = args[1:-1]
        for i in range(0, len(pairs), 2):
            if values.equal(subject, ev(pairs[i]), case_sensitive=True):
                return ev(pairs[i + 1])
        return ev(args[-1])
    if fn == "ISPICKVAL":
        return values.equal(env.resolve(args[0][1]), ev(args[1]), case_sensitive=True)
    if fn == "ISCHANGED":
        return env.is_changed(args[0][1])
    if fn == "PRIORVALUE":
        return env.prior(args[0][1])
    if fn == "ISNEW":
        return env.is_new()
    if fn == "NOW":
        return env.now()
    if fn == "TODAY":
        return env.now().date()
    if fn == "BR":
        return "\n"

    vals = [ev(a) for a in args]
    v = vals[0] if vals else None
    if fn in ("ISBLANK", "ISNULL"):
        return values.is_blank(v)
    if fn in ("BLANKVALUE", "NULLVALUE"):
        return vals[1] if values.is_blank(v) else v
    if fn == "TEXT":
        return _text(v)
    if fn == "VALUE":
        if values.is_blank(v):
            return None
        try:
            f = float(str(v).strip())
        except ValueError:
            raise FormulaError(f"VALUE(): {v!r} is not a number") from None
        return int(f) if f.is_integer() and "." not in str(v) else f
    if fn == "LEN":
        return len(_text(v))
    if fn == "LEFT":
        return _text(v)[: max(int(vals[1] or 0), 0)]
    if fn == "RIGHT":
        n = max(int(vals[1] or 0), 0)
        return _text(v)[-n:] if n else ""
    if fn == "MID":
        start = max(int(vals[1] or 1), 1) - 1
        return _text(v)[start: start + max(int(vals[2] or 0), 0)]
    if fn == "FIND":
        start = int(vals[2]) - 1 if len(vals) > 2 and vals[2] is not None else 0
        search, text = _text(v), _text(vals[1])
        if not search:
            return 0
        return text.find(search, max(start, 0)) + 1
    if fn == "CONTAINS":
        return _text(vals[1]) in _text(v)
    if fn == "BEGINS":
        return _text(v).startswith(_text(vals[1]))
    if fn == "LOWER":
        return _text(v).lower()
    if fn == "UPPER":
        return _text(v).upper()
    if fn == "TRIM":
        return _text(v).strip()
    if fn == "SUBSTITUTE":
        old = _text(vals[1])
        return _text(v).replace(old, _text(vals[2])) if old else _text(v)
    if fn in ("LPAD", "RPAD"):
        text, width = _text(v), int(vals[1] or 0)
        pad = _text(vals[2]) if len(vals) > 2 else " "
        if len(text) >= width or not pad:
            return text[:width]
        fill = (pad * width)[: width - len(text)]
        return fill + text if fn == "LPAD" else text + fill
    if any(x is None for x in vals) and fn not in ("MAX", "MIN"):
        return None
    if fn == "ABS":
        return abs(v)
    if fn == "ROUND":
        return _round(v, int(vals[1]))
    if fn == "FLOOR":
        return math.floor(v)
    if fn == "CEILING":
        return math.ceil(v)
    if fn in ("MAX", "MIN"):
        present = [x for x in vals if x is not None]
        if not present:
            return None
        return max(present) if fn == "MAX" else min(present)
    if fn == "MOD":
        return math.fmod(v, vals[1]) if vals[1] else None
    if fn == "DATEVALUE":
        return values.to_date(v)
    if fn == "DATETIMEVALUE":
        return values.to_datetime(v)
    if fn == "DATE":
        try:
            return dt.date(int(vals[0]), int(vals[1]), int(vals[2]))
        except ValueError as exc:
            raise FormulaError(f"DATE(): {exc}") from None
    if fn in ("YEAR", "MONTH", "DAY"):
        d = values.to_date(v)
        return {"YEAR": d.year, "MONTH": d.month, "DAY": d.day}[fn]
    if fn == "ADDMONTHS":
        return values.add_months(v, int(vals[1]))
    raise FormulaError(f"function {fn}() is not supported")  # pragma: no cover
