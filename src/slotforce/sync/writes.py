"""Field mappings -> field values: templating, types, truncation, picklists, "only when empty".

Pure: takes the booking change, the mapping list, the target's describe (when known) and the
record's current values; returns the values to write and the fields dropped with the reason.
A dropped field never stops the booking; the drop is recorded in the trace and the sync error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slotforce.sync.booking import BookingChange
from slotforce.sync.describe import FieldInfo, SObjectInfo
from slotforce.sync.settings import UTM_NAMES, FieldMapping

_TOKEN = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Dropped:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field} ({self.reason})"


def sf_datetime(value: datetime) -> str:
    """Salesforce's datetime wire format, always UTC."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def render_text(template: str, change: BookingChange) -> str | None:
    """`{question}`, `{form:field}`, `{utm:source}` replaced; None when no token resolved.

    Static text (no tokens) is returned as is. Unresolved tokens in a partly resolved value
    stay literal, as Cal.com does, so an admin sees which question was missing.
    """
    tokens = _TOKEN.findall(template)
    if not tokens:
        return template
    resolved = 0

    def lookup(token: str) -> str | None:
        kind, _, name = token.partition(":")
        if name and kind == "form":
            return _get_ci(change.form_answers, name)
        if name and kind == "utm":
            return getattr(change.utm, name, None) if name in UTM_NAMES else None
        return _get_ci(change.answers, token)

    def sub(m: re.Match[str]) -> str:
        nonlocal resolved
        value = lookup(m.group(1).strip())
        if value is None:
            return m.group(0)
        resolved += 1
        return value

    text = _TOKEN.sub(sub, template)
    return text if resolved else None


def _get_ci(d: dict[str, str], key: str) -> str | None:
    if key in d:
        return d[key]
    low = key.lower()
    for k, v in d.items():
        if k.lower() == low:
            return v
    return None


def date_value(name: str, change: BookingChange) -> datetime | None:
    if name == "booking_start_date":
        return change.start
    if name == "booking_created_date":
        return change.booking_created_at
    if name == "booking_cancel_date":
        return change.occurred_at
    return None


def _empty(value: Any) -> bool:
    # like Cal.com: false and 0 count as empty, so a checkbox "only when empty" writes when unchecked
    return not value


def field_values(
    mappings: list[FieldMapping],
    change: BookingChange,
    info: SObjectInfo | None,
    current: dict[str, Any] | None = None,
    *,
    honour_when: bool = True,
) -> tuple[dict[str, Any], list[Dropped]]:
    """Values to write for `mappings` on one record of `info`'s object."""
    values: dict[str, Any] = {}
    dropped: list[Dropped] = []
    current_ci = {k.lower(): v for k, v in (current or {}).items()}
    for m in mappings:
        f: FieldInfo | None = info.get(m.field) if info else None
        name = f.name if f else m.field
        if info is not None and f is None:
            dropped.append(Dropped(m.field, f"{info.name} has no field {m.field}"))
            continue
        if f is not None and not (f.updateable or f.createable):
            dropped.append(Dropped(name, "not writable by the integration user"))
            continue
        if honour_when and m.when == "field_empty" and not _empty(current_ci.get(name.lower())):
            continue  # not a drop: the admin asked to keep an existing value
        value, problem = _value_for(m, f, change)
        if problem:
            dropped.append(Dropped(name, problem))
            continue
        values[name] = value
    return values, dropped


def _value_for(m: FieldMapping, f: FieldInfo | None, change: BookingChange) -> tuple[Any, str | None]:
    sf_type = f.type if f else None
    if m.type == "checkbox" or sf_type == "boolean":
        if sf_type not in (None, "boolean"):
            return None, f"{sf_type} field cannot take a checkbox value"
        if isinstance(m.value, bool):
            return m.value, None
        return str(m.value).strip().lower() == "true", None
    if m.type in ("date", "datetime") or sf_type in ("date", "datetime"):
        if not isinstance(m.value, str) or sf_type not in (None, "date", "datetime"):
            return None, f"{sf_type} field cannot take a date"
        when = date_value(m.value, change)
        if when is None:
            return None, f"{m.value} is not known for this booking"
        kind = sf_type or m.type
        return (when.date().isoformat() if kind == "date" else sf_datetime(when)), None
    text = render_text(str(m.value), change)
    if text is None:
        return None, f"no booking value for {m.value}"
    if text == "":
        return None, f"{m.value} is empty for this booking"
    if f is None or m.type == "custom" and f.type not in ("picklist", "multipicklist"):
        return _truncate(text, f), None
    if f.type in ("picklist", "multipicklist"):
        if not f.picklist:
            return text, None
        if text in f.picklist:
            return text, None
        for v in f.picklist:  # same value in another case is what the admin meant
            if v.lower() == text.lower():
                return v, None
        return None, f"{text!r} is not an active picklist value"
    if f.is_text:
        return _truncate(text, f), None
    return None, f"{f.type} fields are not written by mappings"


def _truncate(text: str, f: FieldInfo | None) -> str:
    if f is not None and f.length and len(text) > f.length:
        return text[: f.length]
    return text


def truncate(text: str | None, length: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= length else text[:length]
