"""Flow values: converting between the API's JSON shapes and typed Python, comparing, adding.

Inside the interpreter: text is str, numbers int/float, Boolean bool, Date datetime.date, DateTime an
aware UTC datetime.datetime, records dicts keyed by the field's API name. At the edges (records read
from or written to the org) values use the REST shapes described in schema.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from ..values import format_datetime_seconds, parse_datetime

UTC = dt.timezone.utc


class ValueError_(ValueError):
    """A value that cannot become the type a field or variable needs."""


def to_datetime(v: Any) -> dt.datetime | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day, tzinfo=UTC)
    text = str(v).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return to_datetime(dt.date.fromisoformat(text))
    parsed = parse_datetime(text)  # the org's own reading of a DateTime, so flows and saves agree
    if parsed is None:
        raise ValueError_(f"{v!r} is not a date/time (expected YYYY-MM-DDTHH:MM:SS.000+0000)")
    return parsed


def to_date(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC).date()
    if isinstance(v, dt.date):
        return v
    text = str(v).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError_(f"{v!r} is not a date (expected YYYY-MM-DD)") from None


def to_number(v: Any) -> int | float | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    try:
        f = float(str(v).strip())
    except ValueError:
        raise ValueError_(f"{v!r} is not a number") from None
    return int(f) if f.is_integer() and "." not in str(v) and "e" not in str(v).lower() else f


def to_boolean(v: Any) -> bool | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    text = str(v).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise ValueError_(f"{v!r} is not a Boolean")


def to_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dict):
        return v.get("Id") or str(v)
    if isinstance(v, list):
        return "; ".join(to_text(x) or "" for x in v)
    return str(v)


# Field describe type -> the flow data type its values behave as.
FIELD_KIND = {
    "boolean": "Boolean", "int": "Number", "double": "Number", "currency": "Number", "percent": "Number",
    "date": "Date", "datetime": "DateTime",
}


def coerce(data_type: str | None, v: Any) -> Any:
    """`v` as a value of flow data type `data_type` (String, Number, Currency, Boolean, Date,
    DateTime, Picklist, Multipicklist; anything else passes through)."""
    if data_type in ("Number", "Currency"):
        return to_number(v)
    if data_type == "Boolean":
        return to_boolean(v)
    if data_type == "Date":
        return to_date(v)
    if data_type == "DateTime":
        return to_datetime(v)
    if data_type in ("String", "Picklist", "Multipicklist"):
        return to_text(v) if not isinstance(v, str) else v
    return v


def from_field(field_type: str, v: Any) -> Any:
    """A value read from a record (REST/SQLite shape) as its typed Python value."""
    return coerce(FIELD_KIND.get(field_type, "String"), v) if v is not None else None


def to_field(field_type: str, v: Any) -> Any:
    """A typed value as the REST JSON shape for a field of describe type `field_type`."""
    kind = FIELD_KIND.get(field_type, "String")
    v = coerce(kind, v)
    if v is None:
        return None
    if kind == "DateTime":
        return format_datetime_seconds(v)
    if kind == "Date":
        return v.isoformat()
    if kind == "Number" and field_type == "int":
        return int(v)
    return v


def is_blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    if isinstance(v, (list, tuple)):
        return len(v) == 0
    return False


def _align(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring a literal (usually text from the XML) to the type of the other side."""
    for x, y, swap in ((a, b, False), (b, a, True)):
        if isinstance(x, dt.datetime) and isinstance(y, (str, dt.date)) and not isinstance(y, dt.datetime):
            y = to_datetime(y)
        elif isinstance(x, dt.date) and not isinstance(x, dt.datetime) and isinstance(y, str):
            y = to_date(y)
        elif isinstance(x, bool) and isinstance(y, str):
            y = to_boolean(y)
        elif isinstance(x, (int, float)) and not isinstance(x, bool) and isinstance(y, str):
            y = to_number(y)
        else:
            continue
        return (y, x) if swap else (x, y)
    return a, b


def equal(a: Any, b: Any, *, case_sensitive: bool) -> bool:
    if is_blank(a) and is_blank(b) and not isinstance(a, list) and not isinstance(b, list):
        return True
    if a is None or b is None:
        return False
    if isinstance(a, dict) or isinstance(b, dict):
        a = a.get("Id") if isinstance(a, dict) else a
        b = b.get("Id") if isinstance(b, dict) else b
    try:
        a, b = _align(a, b)
    except ValueError_:
        return False
    if isinstance(a, str) and isinstance(b, str):
        if _looks_like_id(a) and _looks_like_id(b):
            return a[:15] == b[:15]
        return a == b if case_sensitive else a.lower() == b.lower()
    return a == b


def _looks_like_id(s: str) -> bool:
    return len(s) in (15, 18) and s.isalnum() and any(c.isdigit() for c in s[:5])


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1, or None when either side is null or they cannot be ordered."""
    if a is None or b is None:
        return None
    try:
        a, b = _align(a, b)
    except ValueError_:
        return None
    try:
        return (a > b) - (a < b)
    except TypeError:
        return None


def add(a: Any, b: Any) -> Any:
    if isinstance(a, dt.datetime) and isinstance(b, (int, float)):
        return a + dt.timedelta(days=b)
    if isinstance(a, dt.date) and isinstance(b, (int, float)):
        return a + dt.timedelta(days=int(b))
    if isinstance(b, (dt.date, dt.datetime)) and isinstance(a, (int, float)):
        return add(b, a)
    return a + b


def subtract(a: Any, b: Any) -> Any:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return (a - b).total_seconds() / 86400
    if isinstance(a, dt.date) and isinstance(b, dt.date) and not isinstance(a, dt.datetime):
        return (a - b).days
    if isinstance(a, (dt.date, dt.datetime)) and isinstance(b, (int, float)):
        return add(a, -b)
    return a - b


def add_months(v: Any, months: int) -> Any:
    if v is None:
        return None
    d = v if isinstance(v, dt.date) else to_date(v)
    total = d.month - 1 + months
    year, month = d.year + total // 12, total % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)
