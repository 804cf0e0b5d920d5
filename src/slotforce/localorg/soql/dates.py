"""SOQL date literals (TODAY, LAST_N_DAYS:7, THIS_QUARTER...) as [start, end) date ranges.

The org's time zone decides what "today" is: `SLOTFORCE_ORG_TIMEZONE` (an IANA name), UTC when
unset. Weeks start on Sunday (the en_US locale). Quarters and years are calendar ones; the
fiscal literals are refused because the local org has no fiscal year settings.

Where Salesforce's documentation and its behaviour differ, behaviour wins: LAST_N_DAYS:n covers
today and the n days before it (LAST_N_DAYS:1 = yesterday and today); NEXT_N_DAYS:n covers today
and the n days after it; LAST_90_DAYS / NEXT_90_DAYS are LAST_N_DAYS:90 / NEXT_N_DAYS:90.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from slotforce.localorg.errors import NotImplementedByLocalOrg

# Literals that need no number and those that take `:n` (SOQL reference, "Date Formats and
# Date Literals"); anything else is not a date literal at all.
FIXED = frozenset({
    "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK",
    "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS",
    "THIS_QUARTER", "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR",
})
WITH_N = frozenset({
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS", "N_WEEKS_AGO",
    "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO", "LAST_N_QUARTERS", "NEXT_N_QUARTERS",
    "N_QUARTERS_AGO", "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO",
})
FISCAL = frozenset({
    "THIS_FISCAL_QUARTER", "LAST_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER", "THIS_FISCAL_YEAR",
    "LAST_FISCAL_YEAR", "NEXT_FISCAL_YEAR", "LAST_N_FISCAL_QUARTERS", "NEXT_N_FISCAL_QUARTERS",
    "N_FISCAL_QUARTERS_AGO", "LAST_N_FISCAL_YEARS", "NEXT_N_FISCAL_YEARS", "N_FISCAL_YEARS_AGO",
})


# Ranges reaching past what a date can hold are cut here: LAST_N_DAYS:999999999 is "every date
# until today". A day's margin keeps local midnight in UTC representable in any time zone.
LOWEST = dt.date(1, 1, 2)
HIGHEST = dt.date(9999, 12, 30)


def org_time_zone() -> dt.tzinfo:
    """The time zone date literals are computed in (see the module docstring)."""
    return ZoneInfo(os.environ.get("SLOTFORCE_ORG_TIMEZONE") or "UTC")


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)  # Sunday


def _month_start(day: dt.date, shift: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: dt.date, shift: int = 0) -> dt.date:
    first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return _month_start(first, 3 * shift)


def _year_start(day: dt.date, shift: int = 0) -> dt.date:
    return dt.date(day.year + shift, 1, 1)


def date_range(name: str, n: int | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days [start, end) that literal `name` (with `n` for the `:n` ones) covers on `today`.

    Bounds are kept within LOWEST..HIGHEST (see there).

    Raises NotImplementedByLocalOrg for the fiscal literals and KeyError for unknown names
    (the caller knows where in the query the name was and reports it).
    """
    day = dt.timedelta(days=1)
    if name in FISCAL:
        raise NotImplementedByLocalOrg(
            f"Date literal {name} is not supported by the local org (it has no fiscal year "
            f"settings): use the calendar literal (e.g. THIS_QUARTER) or explicit dates.")
    if name == "LAST_90_DAYS":
        name, n = "LAST_N_DAYS", 90
    elif name == "NEXT_90_DAYS":
        name, n = "NEXT_N_DAYS", 90
    simple = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
    }
    if name in simple:
        return simple[name]
    units = {"WEEK": (_week_start, None), "MONTH": (_month_start, 1),
             "QUARTER": (_quarter_start, 1), "YEAR": (_year_start, 1)}
    for unit, (start_of, _) in units.items():
        def at(shift: int, start_of=start_of, unit=unit) -> dt.date:
            try:
                if unit == "WEEK":
                    return start_of(today) + dt.timedelta(weeks=shift)
                return start_of(today, shift)
            except (OverflowError, ValueError):
                return HIGHEST if shift > 0 else LOWEST
        if name == f"THIS_{unit}":
            return at(0), at(1)
        if name == f"LAST_{unit}":
            return at(-1), at(0)
        if name == f"NEXT_{unit}":
            return at(1), at(2)
        if name == f"LAST_N_{unit}S":
            return at(-n), at(0)
        if name == f"NEXT_N_{unit}S":
            return at(1), at(1 + n)
        if name == f"N_{unit}S_AGO":
            return at(-n), at(-n + 1)
    if name == "LAST_N_DAYS":
        return _days(today, -n), today + day
    if name == "NEXT_N_DAYS":
        return today, _days(today, n + 1)
    if name == "N_DAYS_AGO":
        return _days(today, -n), _days(today, 1 - n)
    raise KeyError(name)


def _days(day: dt.date, shift: int) -> dt.date:
    try:
        return min(max(day + dt.timedelta(days=shift), LOWEST), HIGHEST)
    except OverflowError:
        return HIGHEST if shift > 0 else LOWEST


def local_midnight_utc(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """00:00 of `day` in the org's time zone, as a UTC datetime (datetime fields are stored in UTC)."""
    day = min(max(day, LOWEST), HIGHEST)
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.timezone.utc)
