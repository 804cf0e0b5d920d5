"""Date functions: CALENDAR_YEAR(), DAY_ONLY(), HOUR_IN_DAY(convertTimezone()) ... in WHERE, GROUP BY, SELECT."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from slotforce.localorg.errors import MalformedQuery


def test_group_by_calendar_month_with_expr_names(crm):
    recs = crm.records("SELECT CALENDAR_MONTH(StartDateTime), COUNT(Id) FROM Event "
                       "GROUP BY CALENDAR_MONTH(StartDateTime) ORDER BY CALENDAR_MONTH(StartDateTime)")
    assert [(r["expr0"], r["expr1"]) for r in recs] == [(4, 1), (5, 2)]


def test_date_function_alias(crm):
    recs = crm.records("SELECT CALENDAR_YEAR(ActivityDate) y, COUNT(Id) n FROM Event GROUP BY CALENDAR_YEAR(ActivityDate)")
    assert recs == [{"attributes": {"type": "AggregateResult"}, "y": 2024, "n": 3}]


@pytest.mark.parametrize("function, expected", [
    ("CALENDAR_YEAR", 2024), ("CALENDAR_QUARTER", 2), ("CALENDAR_MONTH", 5), ("DAY_IN_MONTH", 20),
    ("DAY_IN_WEEK", 2), ("DAY_IN_YEAR", 141), ("HOUR_IN_DAY", 23), ("WEEK_IN_MONTH", 3), ("WEEK_IN_YEAR", 21),
])
def test_each_date_function_in_where(crm, function, expected):
    # Demo starts 2024-05-20T23:30Z, a Monday (DAY_IN_WEEK: Sunday = 1).
    soql = f"SELECT Subject FROM Event WHERE Subject = 'Demo' AND {function}(StartDateTime) = {expected}"
    assert [r["Subject"] for r in crm.records(soql)] == ["Demo"]


def test_day_only_compares_with_dates_and_date_literals(crm):
    soql = "SELECT Subject FROM Event WHERE DAY_ONLY(StartDateTime) = 2024-05-20"
    assert [r["Subject"] for r in crm.records(soql)] == ["Demo"]
    soql = "SELECT Subject FROM Event WHERE DAY_ONLY(StartDateTime) = TODAY"
    assert [r["Subject"] for r in crm.records(soql)] == ["Intro"]


def test_convert_timezone_uses_the_org_time_zone(crm):
    soql = ("SELECT Subject FROM Event WHERE Subject = 'Demo' AND "
            "HOUR_IN_DAY(convertTimezone(StartDateTime)) = 1 AND DAY_IN_MONTH(convertTimezone(StartDateTime)) = 21")
    assert crm.records(soql, tz=ZoneInfo("Europe/Berlin"), today=dt.date(2024, 5, 15))[0]["Subject"] == "Demo"
    assert crm.records(soql, tz=dt.timezone.utc) == []


def test_ungrouped_date_function_is_malformed(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Account")
    assert "Field must be grouped or aggregated: CALENDAR_YEAR(CreatedDate)" in e.value.message


def test_date_function_on_a_text_field_is_malformed(crm):
    with pytest.raises(MalformedQuery):
        crm.query("SELECT Id FROM Account WHERE CALENDAR_YEAR(Name) = 2024")
    with pytest.raises(MalformedQuery):
        crm.query("SELECT Id FROM Event WHERE HOUR_IN_DAY(ActivityDate) = 1")
