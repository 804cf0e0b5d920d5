"""Recent traffic for the status page: bookings per minute, counts per event type, the oldest pending change.

Built from one `Outbox.activity` read (grouped by minute in SQL). The window is the last `hours`
whole minutes up to the current one (`?hours=` on /status and /status.json, 1 to 24, default 3),
with every minute present, so a quiet minute is a zero on the chart, not a gap. `bookings_chart`
draws it (service/charts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup

from slotforce.service.charts import Series, minute_chart
from slotforce.store import Activity, Outbox

DEFAULT_HOURS = 3
MAX_HOURS = 24
MINUTE = timedelta(minutes=1)
# name on the chart, Minute field, colour (Salesforce Lightning's brand blue, success green, error red)
SERIES = (("accepted", "#0176d3"), ("landed", "#2e844a"), ("failed", "#ba0517"))


class BadHours(ValueError):
    """`?hours=` is not a whole number from 1 to MAX_HOURS; the message says so."""


def parse_hours(text: str | None) -> int:
    """The `?hours=` parameter: DEFAULT_HOURS when absent, else a whole number from 1 to MAX_HOURS."""
    if text is None or text == "":
        return DEFAULT_HOURS
    if not text.isdigit() or not 1 <= int(text) <= MAX_HOURS:
        raise BadHours(f"hours must be a whole number from 1 to {MAX_HOURS} (the default is {DEFAULT_HOURS}); "
                       f"got {text[:40]!r}")
    return int(text)


@dataclass(frozen=True)
class Minute:
    at: datetime  # the minute's start, UTC
    accepted: int = 0  # booking changes stored
    landed: int = 0  # done, with the Booking Action in Salesforce
    failed: int = 0  # failed for good


@dataclass(frozen=True)
class EventTypeCounts:
    event_type: str
    accepted: int
    landed: int
    failed: int
    pending: int  # pending or being sent now, whenever it arrived
    oldest_pending_at: datetime | None


@dataclass(frozen=True)
class RecentActivity:
    hours: int
    since: datetime
    minutes: list[Minute]
    event_types: list[EventTypeCounts]  # busiest first

    @property
    def oldest_pending_at(self) -> datetime | None:
        return min((t.oldest_pending_at for t in self.event_types if t.oldest_pending_at), default=None)

    def oldest_pending_age(self, now: datetime) -> timedelta | None:
        oldest = self.oldest_pending_at
        return max(timedelta(0), now - oldest) if oldest else None

    def totals(self) -> Minute:
        return Minute(self.since, *(sum(getattr(m, k) for m in self.minutes) for k in ("accepted", "landed", "failed")))


def age_text(age: timedelta) -> str:
    """`45 s`, `3 min 12 s`, `2 h 5 min`, `3 d 4 h`: an age an operator reads at a glance."""
    seconds = int(age.total_seconds())
    for unit, size, smaller, smaller_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60), ("min", 60, "s", 1)):
        if seconds >= size:
            rest = seconds % size // smaller_size
            return f"{seconds // size} {unit}" + (f" {rest} {smaller}" if rest else "")
    return f"{seconds} s"


def window_start(now: datetime, hours: int) -> datetime:
    """The first minute of a window of `hours` whole minutes ending with the minute `now` is in."""
    return now.replace(second=0, microsecond=0) - MINUTE * (hours * 60 - 1)


def recent_activity(activity: Activity, since: datetime, hours: int) -> RecentActivity:
    """Fill the minutes since `since` (`hours * 60` of them) and add up each event type."""
    minutes = [Minute(since + MINUTE * i) for i in range(hours * 60)]
    index = {m.at: i for i, m in enumerate(minutes)}
    per_type: dict[str, list[int]] = {}
    for at, event_type, accepted, landed, failed in activity.minutes:
        i = index.get(at)
        if i is None:
            continue
        m = minutes[i]
        minutes[i] = Minute(at, m.accepted + accepted, m.landed + landed, m.failed + failed)
        sums = per_type.setdefault(event_type, [0, 0, 0])
        sums[0], sums[1], sums[2] = sums[0] + accepted, sums[1] + landed, sums[2] + failed
    for event_type in activity.unfinished:
        per_type.setdefault(event_type, [0, 0, 0])
    types = [EventTypeCounts(t, a, d, f, *activity.unfinished.get(t, (0, None))) for t, (a, d, f) in per_type.items()]
    types.sort(key=lambda t: (-(t.accepted + t.pending), t.event_type))
    return RecentActivity(hours=hours, since=since, minutes=minutes, event_types=types)


def read_activity(outbox: Outbox, now: datetime, hours: int, org: str | None = None) -> RecentActivity:
    since = window_start(now, hours)
    return recent_activity(outbox.activity(since, org=org), since, hours)


def bookings_chart(activity: RecentActivity) -> Markup:
    """The SVG of accepted, landed and failed booking changes per minute."""
    totals = activity.totals()
    desc = (f"Booking changes per minute over the last {activity.hours} hour(s) from "
            f"{activity.since:%Y-%m-%d %H:%M} UTC: {totals.accepted} accepted, {totals.landed} landed in "
            f"Salesforce, {totals.failed} failed.")
    return minute_chart("Bookings per minute", desc, activity.since,
                        [Series(name, color, [getattr(m, name) for m in activity.minutes]) for name, color in SERIES],
                        element_id="bookings-chart")
