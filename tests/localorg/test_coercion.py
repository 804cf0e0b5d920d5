"""Value coercion of record saves (no server): the forms Salesforce's JSON deserializer accepts."""

import pytest

from slotforce.localorg import errors
from slotforce.localorg.records import coerce
from slotforce.localorg.schema import Field, PicklistValue


@pytest.mark.parametrize("given, stored", [
    ("2024-05-01T14:30:00Z", "2024-05-01T14:30:00.000+0000"),
    ("2024-05-01T16:30:00+02:00", "2024-05-01T14:30:00.000+0000"),
    ("2024-05-01T09:30:00.250-0500", "2024-05-01T14:30:00.000+0000"),  # to the second
    ("2024-05-01T14:30:59.999Z", "2024-05-01T14:30:59.000+0000"),  # truncated, never rounded up
    ("2024-05-01T14:30:00", "2024-05-01T14:30:00.000+0000"),
    ("2024-05-01T14:30:00.000+0000", "2024-05-01T14:30:00.000+0000"),
])
def test_datetimes_are_stored_in_utc(given, stored):
    """schema.py storage convention: datetime as 'YYYY-MM-DDTHH:MM:SS.000+0000' UTC (simple-salesforce sends +00:00)."""
    assert coerce(Field("Start__c", "datetime"), given) == stored


def test_bad_dates_are_json_parser_errors():
    """wire-formats §2.2 JSON_PARSER_ERROR: 'Cannot deserialize instance of date from VALUE_STRING value ...'."""
    with pytest.raises(errors.JsonParserError) as exc:
        coerce(Field("D__c", "date"), "2024-02-30")
    assert "instance of date from VALUE_STRING value 2024-02-30" in exc.value.message


@pytest.mark.parametrize("type_, given, stored", [
    ("boolean", "TRUE", True), ("boolean", False, False), ("int", "42", 42), ("int", 7.0, 7),
    ("double", "3.25", 3.25), ("currency", 10, 10.0), ("string", 12, "12"), ("string", "", None),
    ("reference", "001A0000006Vm9r", "001A0000006Vm9rIAC"),
])
def test_accepted_forms(type_, given, stored):
    f = Field("F", type_, length=255, precision=18, scale=2 if type_ == "currency" else 0,
              reference_to=["Account"])
    assert coerce(f, given) == stored


def test_restricted_multipicklist_checks_each_value():
    f = Field("M__c", "multipicklist", length=255, restricted_picklist=True,
              picklist_values=[PicklistValue("A", "A"), PicklistValue("B", "B")])
    assert coerce(f, "A;B") == "A;B"
    with pytest.raises(errors.InvalidOrNullForRestrictedPicklist):
        coerce(f, "A;C")


def test_numbers_outside_precision():
    with pytest.raises(errors.SalesforceError) as exc:
        coerce(Field("Amount", "currency", precision=5, scale=2), 1000.0)
    assert exc.value.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
