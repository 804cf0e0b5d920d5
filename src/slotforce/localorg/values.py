"""Field values shared by records, rules, SOQL, describe and flows: type groups, DateTime text in and out.

It imports nothing of the local org, so every part can use it without an import cycle.
"""

from __future__ import annotations

import datetime as dt
import re

# Describe types, grouped as the checks that read them group them.
TEXT_TYPES = frozenset({"string", "textarea", "email", "url", "phone", "picklist", "multipicklist", "combobox",
                        "encryptedstring"})
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
DOUBLE_TYPES = frozenset({"double", "currency", "percent"})  # the number types with a scale (xsd:double)

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def parse_datetime(text: str) -> dt.datetime | None:
    """An aware UTC datetime from Salesforce's accepted forms (Z, +hh:mm, +hhmm, none = UTC)."""
    m = _DATETIME_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        value = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0),
                            int((frac or "0")[:6].ljust(6, "0")), tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        value -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value


def format_datetime_seconds(value: dt.datetime) -> str:
    """Salesforce's stored form: UTC, to the second. Its DateTime fields (audit fields included) have
    a precision of one second, so milliseconds sent are dropped and every value reads `.000`.
    A naive `value` is local time (datetime.astimezone's reading)."""
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + ".000+0000"


def format_datetime_millis(value: dt.datetime) -> str:
    """A SOQL DateTime literal as compared with stored values: UTC, milliseconds kept
    ('2024-01-01T10:00:00.500+0000'). A naive `value` is already UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
