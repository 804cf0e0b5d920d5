"""Field mapping values: templates, types, truncation, picklists, only-when-empty."""

from slotforce.sync.settings import FieldMapping
from slotforce.sync.writes import field_values, render_text

from .factories import booking, describes

LEAD = describes()["Lead"]
EVENT = describes()["Event"]


def m(field, type, value, when="every_booking"):
    return FieldMapping(field=field, type=type, value=value, when=when)


def change(**kw):
    return booking(answers={"company": "Acme", "Notes": "Call me"}, form_answers={"region": "EMEA"},
                   utm={"source": "newsletter", "campaign": "spring"}, **kw)


def test_templates():
    c = change()
    assert render_text("static text", c) == "static text"
    assert render_text("{company}", c) == "Acme"
    assert render_text("{notes}", c) == "Call me"  # question names are case-insensitive
    assert render_text("{form:region}", c) == "EMEA"
    assert render_text("{utm:source}/{utm:campaign}", c) == "newsletter/spring"
    assert render_text("{unknown}", c) is None
    assert render_text("{company} via {unknown}", c) == "Acme via {unknown}"


def test_types_and_dates():
    values, dropped = field_values([
        m("Meeting_Type__c", "text", "{company}"),
        m("No_Show__c", "checkbox", False),
        m("Meeting_Date__c", "datetime", "booking_start_date"),
        m("Last_Meeting_Day__c", "date", "booking_created_date"),
        m("Phone", "phone", "+49 30 1234"),
        m("Notes__c", "textarea", "{notes}"),
    ], change(), LEAD)
    assert dropped == []
    assert values == {"Meeting_Type__c": "Acme", "No_Show__c": False, "Meeting_Date__c": "2024-05-01T10:00:00.000Z",
                      "Last_Meeting_Day__c": "2024-04-30", "Phone": "+49 30 1234", "Notes__c": "Call me"}


def test_truncated_to_describe_length():
    values, _ = field_values([m("Source_Detail__c", "text", "x" * 50)], change(), LEAD)
    assert values["Source_Detail__c"] == "x" * 20


def test_picklist_only_active_values_case_fixed():
    values, dropped = field_values([m("Meeting_Status__c", "picklist", "no show")], change(), LEAD)
    assert values == {"Meeting_Status__c": "No Show"}
    values, dropped = field_values([m("Meeting_Status__c", "picklist", "Done")], change(), LEAD)
    assert values == {} and "not an active picklist value" in dropped[0].reason


def test_missing_field_and_wrong_type_are_dropped_not_fatal():
    values, dropped = field_values([m("Gone__c", "text", "x"), m("Score__c", "text", "x"),
                                    m("Meeting_Type__c", "text", "ok")], change(), LEAD)
    assert values == {"Meeting_Type__c": "ok"}
    assert [d.field for d in dropped] == ["Gone__c", "Score__c"]


def test_field_empty_reads_the_current_value():
    maps = [m("Meeting_Type__c", "text", "new", "field_empty"), m("No_Show__c", "checkbox", True, "field_empty")]
    values, _ = field_values(maps, change(), LEAD, {"Meeting_Type__c": "kept", "No_Show__c": False})
    assert values == {"No_Show__c": True}  # false counts as empty, as in Cal.com
    values, _ = field_values(maps, change(), LEAD, {"meeting_type__c": None})
    assert values["Meeting_Type__c"] == "new"


def test_custom_type_writes_text_whatever_the_field():
    values, _ = field_values([m("Subject", "custom", "Hello {company}")], change(), EVENT)
    assert values == {"Subject": "Hello Acme"}


def test_cancel_date_and_unknown_created_date():
    c = change(action="Canceled", occurred_at="2024-05-02T08:00:00Z", booking_created_at=None)
    values, dropped = field_values([m("Canceled_On__c", "date", "booking_cancel_date"),
                                    m("Meeting_Date__c", "datetime", "booking_created_date")], c, None)
    assert values == {"Canceled_On__c": "2024-05-02"}
    assert dropped[0].field == "Meeting_Date__c"
