"""FORMAT() and toLabel(): stored values as the org's one locale and its picklist labels show them.

The local org has one locale, en_US (Organization.DefaultLocaleSidKey, every user's LocaleSidKey),
one currency (USD, shown as `$`) and no translations. FORMAT() follows the SOQL reference's
examples for en_US: dates `4/10/2025`, datetimes `4/10/2025, 3:31 PM` in the org time zone
(dates.org_time_zone()), currency `$44,000.00`; numbers are grouped by thousands with the field's
decimal places, percents end in `%`, times read `3:31 PM`.

toLabel() answers a picklist value's label from describe (the value itself when it is not one of
the field's values, as for an unrestricted picklist), each value's label for a multi-select
picklist, and a record type's Name as it is (Name is its label).
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from slotforce.localorg.schema import Field

FORMATTED_TYPES = frozenset({"int", "double", "currency", "percent", "date", "datetime", "time"})


def _clock(hour: int, minute: int) -> str:
    return f"{hour % 12 or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def formatter(f: Field, tz: dt.tzinfo) -> Callable[[object], object]:
    """Stored value -> the text FORMAT() answers for a field (or an aggregate) of describe type f.type."""
    kind, scale = f.type, max(f.scale, 0)

    def number(v) -> str:
        text = f"{abs(float(v)):,.{scale}f}" if kind != "int" else f"{abs(int(v)):,}"
        sign = "-" if float(v) < 0 else ""
        if kind == "currency":
            return f"{sign}${text}"
        return f"{sign}{text}{'%' if kind == 'percent' else ''}"

    def date(v) -> str:
        d = dt.date.fromisoformat(str(v)[:10])
        return f"{d.month}/{d.day}/{d.year}"

    def datetime(v) -> str:
        utc = dt.datetime.strptime(str(v)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
        local = utc.astimezone(tz)
        return f"{local.month}/{local.day}/{local.year}, {_clock(local.hour, local.minute)}"

    def time(v) -> str:
        return _clock(int(str(v)[0:2]), int(str(v)[3:5]))

    shape = {"date": date, "datetime": datetime, "time": time}.get(kind, number)
    return lambda v: None if v is None else shape(v)


def labeller(f: Field) -> Callable[[object], object]:
    """Stored picklist value -> its label (toLabel())."""
    labels = {p.value: p.label for p in f.picklist_values}
    if f.type == "multipicklist":
        return lambda v: None if v is None else ";".join(labels.get(x, x) for x in str(v).split(";"))
    return lambda v: None if v is None else labels.get(v, v)


def label_cases(f: Field) -> list[tuple[str, str]]:
    """(value, label) pairs whose label differs: what toLabel(f) in WHERE compares through."""
    return [(p.value, p.label) for p in f.picklist_values if p.label != p.value]
