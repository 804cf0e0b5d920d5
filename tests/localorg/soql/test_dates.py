"""Date literals: ranges on 2024-05-15 (a Wednesday), on date and datetime fields, in the org time zone."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from slotforce.localorg.errors import InvalidField, MalformedQuery, NotImplementedByLocalOrg
from slotforce.localorg.soql.dates import date_range

D = dt.date
TODAY = D(2024, 5, 15)


@pytest.mark.parametrize("name, n, expected", [
    ("TODAY", None, (D(2024, 5, 15), D(2024, 5, 16))),
    ("YESTERDAY", None, (D(2024, 5, 14), D(2024, 5, 15))),
    ("TOMORROW", None, (D(2024, 5, 16), D(2024, 5, 17))),
    ("THIS_WEEK", None, (D(2024, 5, 12), D(2024, 5, 19))),  # weeks start on Sunday
    ("LAST_WEEK", None, (D(2024, 5, 5), D(2024, 5, 12))),
    ("NEXT_WEEK", None, (D(2024, 5, 19), D(2024, 5, 26))),
    ("THIS_MONTH", None, (D(2024, 5, 1), D(2024, 6, 1))),
    ("LAST_MONTH", None, (D(2024, 4, 1), D(2024, 5, 1))),
    ("NEXT_MONTH", None, (D(2024, 6, 1), D(2024, 7, 1))),
    ("THIS_QUARTER", None, (D(2024, 4, 1), D(2024, 7, 1))),
    ("LAST_QUARTER", None, (D(2024, 1, 1), D(2024, 4, 1))),
    ("NEXT_QUARTER", None, (D(2024, 7, 1), D(2024, 10, 1))),
    ("THIS_YEAR", None, (D(2024, 1, 1), D(2025, 1, 1))),
    ("LAST_YEAR", None, (D(2023, 1, 1), D(2024, 1, 1))),
    ("NEXT_YEAR", None, (D(2025, 1, 1), D(2026, 1, 1))),
    ("LAST_N_DAYS", 1, (D(2024, 5, 14), D(2024, 5, 16))),  # yesterday and today, as Salesforce does
    ("LAST_90_DAYS", None, (D(2024, 2, 15), D(2024, 5, 16))),
    ("NEXT_N_DAYS", 2, (D(2024, 5, 15), D(2024, 5, 18))),
    ("N_DAYS_AGO", 3, (D(2024, 5, 12), D(2024, 5, 13))),
    ("LAST_N_WEEKS", 2, (D(2024, 4, 28), D(2024, 5, 12))),
    ("NEXT_N_WEEKS", 1, (D(2024, 5, 19), D(2024, 5, 26))),
    ("N_WEEKS_AGO", 1, (D(2024, 5, 5), D(2024, 5, 12))),
    ("LAST_N_MONTHS", 6, (D(2023, 11, 1), D(2024, 5, 1))),
    ("NEXT_N_MONTHS", 8, (D(2024, 6, 1), D(2025, 2, 1))),
    ("N_MONTHS_AGO", 5, (D(2023, 12, 1), D(2024, 1, 1))),
    ("LAST_N_QUARTERS", 2, (D(2023, 10, 1), D(2024, 4, 1))),
    ("NEXT_N_QUARTERS", 3, (D(2024, 7, 1), D(2025, 4, 1))),
    ("N_QUARTERS_AGO", 2, (D(2023, 10, 1), D(2024, 1, 1))),
    ("LAST_N_YEARS", 2, (D(2022, 1, 1), D(2024, 1, 1))),
    ("NEXT_N_YEARS", 1, (D(2025, 1, 1), D(2026, 1, 1))),
    ("N_YEARS_AGO", 1, (D(2023, 1, 1), D(2024, 1, 1))),
])
def test_date_literal_range(name, n, expected):
    assert date_range(name, n, TODAY) == expected


def subjects(org, soql, **kw):
    return sorted(r["Subject"] for r in org.records(soql, **kw))


def test_today_on_a_datetime_field(crm):
    assert subjects(crm, "SELECT Subject FROM Event WHERE StartDateTime = TODAY") == ["Intro"]


def test_today_follows_the_org_time_zone(crm):
    # 2024-05-20T23:30Z is already the 21st in Berlin.
    soql = "SELECT Subject FROM Event WHERE StartDateTime = N_DAYS_AGO:0"
    berlin = ZoneInfo("Europe/Berlin")
    assert subjects(crm, soql, today=D(2024, 5, 21), tz=berlin) == ["Demo"]
    assert subjects(crm, soql, today=D(2024, 5, 21), tz=dt.timezone.utc) == []


def test_date_literal_on_a_date_field(crm):
    assert subjects(crm, "SELECT Subject FROM Event WHERE ActivityDate = THIS_MONTH") == ["Demo", "Intro"]
    assert subjects(crm, "SELECT Subject FROM Event WHERE ActivityDate = LAST_MONTH") == ["Follow-up"]


def test_comparisons_use_the_range_ends(crm):
    assert subjects(crm, "SELECT Subject FROM Event WHERE StartDateTime < THIS_MONTH") == ["Follow-up"]
    assert subjects(crm, "SELECT Subject FROM Event WHERE StartDateTime > TODAY") == ["Demo"]
    assert subjects(crm, "SELECT Subject FROM Event WHERE StartDateTime >= TODAY") == ["Demo", "Intro"]
    assert subjects(crm, "SELECT Subject FROM Event WHERE StartDateTime <= TODAY") == ["Follow-up", "Intro"]
    assert subjects(crm, "SELECT Subject FROM Event WHERE StartDateTime != TODAY") == ["Demo", "Follow-up"]


def test_next_n_days_and_in_with_literals(crm):
    assert subjects(crm, "SELECT Subject FROM Event WHERE StartDateTime = NEXT_N_DAYS:7") == ["Demo", "Intro"]
    soql = "SELECT Subject FROM Event WHERE ActivityDate IN (LAST_MONTH, TOMORROW)"
    assert subjects(crm, soql) == ["Follow-up"]


def test_unknown_date_literal_is_malformed(crm):
    with pytest.raises(MalformedQuery) as e:
        crm.query("SELECT Id FROM Event WHERE ActivityDate = SOMEDAY")
    assert "unexpected token: 'SOMEDAY'" in e.value.message


def test_fiscal_literals_are_not_implemented(crm):
    with pytest.raises(NotImplementedByLocalOrg) as e:
        crm.query("SELECT Id FROM Event WHERE ActivityDate = THIS_FISCAL_YEAR")
    assert "fiscal" in e.value.message


def test_literal_needing_n_without_it_is_malformed(crm):
    with pytest.raises(MalformedQuery):
        crm.query("SELECT Id FROM Event WHERE ActivityDate = LAST_N_DAYS")


def test_date_literal_on_a_text_field_is_invalid(crm):
    with pytest.raises(InvalidField):
        crm.query("SELECT Id FROM Event WHERE Subject = TODAY")
