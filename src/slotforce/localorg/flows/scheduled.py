"""When a scheduled path of a record-triggered flow falls due (FlowScheduledPath), as pure functions.

A time-based path runs `offsetNumber` Minutes/Hours/Days/Months after the save that started it
(timeSource RecordTriggerEvent) or after — before, when negative — a Date or Date/Time field of the
record (RecordField; a Date counts from midnight in the org's time zone; a blank field schedules
nothing); an asynchronous path (pathType AsyncAfterCommit) as soon as the save has committed.
"""

from __future__ import annotations

import calendar
import datetime as dt

from . import values
from .data import get_field
from .model import ScheduledPath


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """Calendar months; a day past the end of the month becomes its last day (Jan 31 + 1 = Feb 28/29)."""
    total = when.month - 1 + months
    year, month = when.year + total // 12, total % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def due_time(path: ScheduledPath, record: dict, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime | None:
    """When `path` runs for `record` saved at `now`; None when its record field is blank."""
    if path.path_type == "AsyncAfterCommit":
        return now
    if path.time_source == "RecordField":
        raw = get_field(record, path.record_field or "")
        if raw is None:
            return None
        if isinstance(raw, dt.datetime) or (isinstance(raw, str) and "T" in raw):
            base = values.to_datetime(raw)
        else:
            day = values.to_date(raw)
            base = dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(dt.timezone.utc)
    else:
        base = now
    n = path.offset_number
    if path.offset_unit == "Months":
        return add_months(base, n)
    unit = {"Minutes": "minutes", "Hours": "hours", "Days": "days"}[path.offset_unit]
    return base + dt.timedelta(**{unit: n})


def first_run(schedule: tuple[str, str, str]) -> dt.datetime:
    """A schedule-triggered flow's first run: startDate at startTime (UTC, as Flow saves it: 00:00:00.000Z)."""
    _, day, time_ = schedule
    when = dt.datetime.fromisoformat(f"{day}T{time_.rstrip('Z')}")
    return when.replace(tzinfo=dt.timezone.utc)


def next_run(schedule: tuple[str, str, str], after: dt.datetime) -> dt.datetime | None:
    """The first run of `schedule` strictly after `after`; None when a Once schedule has passed."""
    first = first_run(schedule)
    if first > after:
        return first
    step = {"Daily": dt.timedelta(days=1), "Weekly": dt.timedelta(weeks=1)}.get(schedule[0])
    if step is None:
        return None
    periods = (after - first) // step + 1
    return first + periods * step
