"""SOQL text: the one place literals are quoted, plus small builders for the engine's queries.

Every value that reaches a SOQL string goes through `quote` (or `like_pattern` for LIKE), so an
email like `o'brien@x.com` or `100%@x.com` can never change the meaning of a query. Field and
object names are not values: they come from settings and describe, and `field_name` refuses
anything that is not an API name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Salesforce's quoted-string escapes (SOQL and SOSL Reference, "Quoted String Escape Sequences").
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_ESCAPE_RE = re.compile("[\\\\'\"\n\r\t\b\f]")
# LIKE adds two wildcard escapes; they are only legal inside LIKE patterns.
_LIKE_RE = re.compile("[%_]")

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")

MAX_LITERAL = 4000  # Salesforce refuses longer string literals


class SoqlValueError(ValueError):
    """A value or name cannot be put into SOQL safely."""


def escape(value: str) -> str:
    """The body of a SOQL string literal (without quotes)."""
    if len(value) > MAX_LITERAL:
        raise SoqlValueError(f"SOQL string literal is {len(value)} characters; Salesforce allows {MAX_LITERAL}")
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], value)


def quote(value: object) -> str:
    """A SOQL literal for a Python value: strings quoted and escaped, None as null, bools bare."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"'{escape(str(value))}'"


def like_pattern(text: str, *, prefix: str = "", suffix: str = "") -> str:
    """A quoted LIKE pattern: `text` matched literally, `prefix`/`suffix` may hold wildcards."""
    body = _LIKE_RE.sub(lambda m: "\\" + m.group(0), escape(text))
    return f"'{prefix}{body}{suffix}'"


def in_list(values: Iterable[object]) -> str:
    """`('a','b')` for IN; duplicates removed, order kept so queries are stable across runs."""
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(quote(v), None)
    if not seen:
        raise SoqlValueError("IN list is empty; callers must skip the condition instead")
    return "(" + ",".join(seen) + ")"


def field_name(name: str) -> str:
    """An API name (optionally a dotted relationship path) checked before it is put into SOQL."""
    if not _API_NAME.match(name or ""):
        raise SoqlValueError(f"{name!r} is not a Salesforce field API name")
    return name


def select(fields: Iterable[str], sobject: str, where: str | None = None, *, tail: str = "") -> str:
    names: dict[str, None] = {}
    for f in fields:
        if f.startswith("("):  # a child subquery built by the caller
            names.setdefault(f, None)
        else:
            names.setdefault(field_name(f), None)
    text = f"SELECT {', '.join(names)} FROM {field_name(sobject)}"
    if where:
        text += f" WHERE {where}"
    if tail:
        text += f" {tail}"
    return text


def any_of(conditions: Iterable[str]) -> str:
    parts = [c for c in conditions if c]
    if not parts:
        raise SoqlValueError("no conditions to OR together")
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
