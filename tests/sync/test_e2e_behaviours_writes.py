"""Issue 5, behaviour 5 end to end (org without Flows): field mappings written to the Who record and the Event.

Values are read back over REST, so the types are what Salesforce stored: dates as YYYY-MM-DD,
datetimes as ...T10:00:00.000+0000, picklists as the active value's own spelling.
"""

from __future__ import annotations

from .e2e_kit import ADMIN, by_email, event_for, q, user, warm
from .factories import booking

ANSWERS = {"topic": "Pricing", "phone": "+49 30 1234567"}
FORM = {"notes": "Wants a demo", "router": "EMEA router", "link": "https://meet.example/abc"}
UTM = {"source": "newsletter", "medium": "Web", "campaign": "spring"}


def m(field, type_, value, when="every_booking"):
    return {"field": field, "type": type_, "value": value, "when": when}


EVERY_TYPE = [
    m("Meeting_Type__c", "text", "{topic}"),
    m("Description", "textarea", "From {utm:source}: {form:notes}"),
    m("Birthdate", "date", "booking_start_date"),
    m("Meeting_Date__c", "datetime", "booking_start_date"),
    m("Meeting_Created_At__c", "datetime", "booking_created_date"),
    m("Phone", "phone", "{phone}"),
    m("No_Show__c", "checkbox", False),
    m("Meeting_Status__c", "picklist", "scheduled"),  # matched case-insensitively to the active value
    m("LeadSource", "picklist", "{utm:medium}"),
    m("Router_Name__c", "custom", "{form:router}"),
]


def test_every_mapping_type_lands_on_a_new_and_an_existing_contact(org, sf):
    known = sf.Contact.create({"LastName": "Known", "Email": "known@acme.com", "No_Show__c": True,
                               "Meeting_Type__c": "Old"})["id"]
    eng = warm(sf, write_to_record=EVERY_TYPE)
    outs = eng.sync([booking(booking_uid=f"bk-{i}", attendee={"email": email}, organizer={"email": ADMIN},
                             answers=ANSWERS, form_answers=FORM, utm=UTM)
                     for i, email in enumerate(["known@acme.com", "new@acme.com"])])
    assert [o.status for o in outs] == ["pending", "pending"] and all(not o.dropped for o in outs)
    fields = ("Id, Meeting_Type__c, Description, Birthdate, Meeting_Date__c, Meeting_Created_At__c, Phone, "
              "No_Show__c, Meeting_Status__c, LeadSource, Router_Name__c")
    contacts = by_email(sf, "Contact", fields)
    assert contacts["known@acme.com"]["Id"] == known
    for email in ("known@acme.com", "new@acme.com"):
        c = contacts[email]
        assert c["Meeting_Type__c"] == "Pricing" and c["Description"] == "From newsletter: Wants a demo"
        assert (c["Birthdate"], c["Meeting_Date__c"]) == ("2024-05-01", "2024-05-01T10:00:00.000+0000")
        assert c["Meeting_Created_At__c"] == "2024-04-30T08:59:00.000+0000"
        assert (c["Phone"], c["No_Show__c"]) == ("+49 30 1234567", False)
        assert (c["Meeting_Status__c"], c["LeadSource"], c["Router_Name__c"]) == ("Scheduled", "Web", "EMEA router")


def test_every_mapping_type_lands_on_the_event(org, sf):
    event = event_for(sf)
    long_topic = "T" * 120
    eng = warm(sf, create_event_on="lead", write_to_event=[
        m("Meeting_Type__c", "text", "{topic}"),  # Text(75): cut to the describe length
        m("Description", "textarea", "Notes: {form:notes}"),
        m("ActivityDate", "date", "booking_start_date"),
        m("ReminderDateTime", "datetime", "booking_created_date"),
        m("IsReminderSet", "checkbox", True),
        m("ShowAs", "picklist", "free"),
        m("Meeting_Url__c", "text", "{form:link}"),
        m("Router_Name__c", "custom", "{utm:campaign}/{utm:source}"),
    ])
    [out] = eng.sync([booking(organizer={"email": ADMIN}, answers={"topic": long_topic}, form_answers=FORM, utm=UTM)])
    assert out.status == "pending" and not out.dropped, out.dropped
    [ev] = q(sf, "SELECT Id, Meeting_Type__c, Description, ActivityDate, ReminderDateTime, IsReminderSet, ShowAs, "
                 "Meeting_Url__c, Router_Name__c FROM Event")
    assert ev["Id"] == event and ev["Meeting_Type__c"] == "T" * 75
    assert (ev["Description"], ev["ActivityDate"]) == ("Notes: Wants a demo", "2024-05-01")
    assert (ev["ReminderDateTime"], ev["IsReminderSet"], ev["ShowAs"]) == ("2024-04-30T08:59:00.000+0000", True, "Free")
    assert (ev["Meeting_Url__c"], ev["Router_Name__c"]) == ("https://meet.example/abc", "spring/newsletter")


def test_truncation_to_the_who_records_describe_length(org, sf):
    eng = warm(sf, create_event_on="lead", write_to_record=[m("Meeting_Type__c", "text", "{topic}"),
                                                          m("Router_Name__c", "custom", "{topic}")])
    eng.sync([booking(organizer={"email": ADMIN}, answers={"topic": "x" * 300})])
    [lead] = q(sf, "SELECT Meeting_Type__c, Router_Name__c FROM Lead")
    assert (len(lead["Meeting_Type__c"]), len(lead["Router_Name__c"])) == (100, 75)


def test_field_empty_reads_the_current_value_and_only_fills_blanks(org, sf):
    sf.Lead.create({"LastName": "Known", "Company": "Acme", "Email": "pat@acme.com", "Meeting_Type__c": "Kept",
                    "No_Show__c": False, "Router_Name__c": "Old router"})
    eng = warm(sf, create_event_on="lead", write_to_record=[
        m("Meeting_Type__c", "text", "{topic}", "field_empty"),  # has a value: kept
        m("Description", "textarea", "{form:notes}", "field_empty"),  # blank: written
        m("No_Show__c", "checkbox", True, "field_empty"),  # false counts as empty (as in Cal.com)
        m("Router_Name__c", "text", "{form:router}"),  # every_booking: overwritten
    ])
    [out] = eng.sync([booking(organizer={"email": ADMIN}, answers=ANSWERS, form_answers=FORM)])
    assert out.status == "pending" and not out.dropped
    [lead] = q(sf, "SELECT Meeting_Type__c, Description, No_Show__c, Router_Name__c FROM Lead")
    assert lead == {**lead, "Meeting_Type__c": "Kept", "Description": "Wants a demo", "No_Show__c": True,
                    "Router_Name__c": "EMEA router"}
    # a new Lead gets every mapping, field_empty or not
    eng.sync([booking(booking_uid="bk-2", attendee={"email": "new@beta.io"}, organizer={"email": ADMIN},
                      answers=ANSWERS, form_answers=FORM)])
    [new] = q(sf, "SELECT Meeting_Type__c, Description FROM Lead WHERE Email = 'new@beta.io'")
    assert (new["Meeting_Type__c"], new["Description"]) == ("Pricing", "Wants a demo")


def test_values_that_do_not_resolve_or_fit_are_dropped_recorded_and_the_rest_written(org, sf):
    eng = warm(sf, create_event_on="lead", write_to_record=[
        m("Meeting_Status__c", "picklist", "Tentative"),  # not an active value of the picklist
        m("Description", "textarea", "{no_such_question}"),  # no token resolved
        m("Router_Name__c", "text", "{utm:term}"),  # no utm_term on this booking
        m("Meeting_Type__c", "text", "{topic} via {unknown}"),  # partly resolved: the rest stays literal
    ])
    [out] = eng.sync([booking(organizer={"email": ADMIN}, answers=ANSWERS, utm=UTM)])
    assert out.status == "pending"
    assert sorted(d.field for d in out.dropped) == ["Description", "Meeting_Status__c", "Router_Name__c"]
    assert "not an active picklist value" in next(d.reason for d in out.dropped if d.field == "Meeting_Status__c")
    [lead] = q(sf, "SELECT Meeting_Status__c, Description, Router_Name__c, Meeting_Type__c FROM Lead")
    assert (lead["Meeting_Status__c"], lead["Description"], lead["Router_Name__c"]) == (None, None, None)
    assert lead["Meeting_Type__c"] == "Pricing via {unknown}"
    [err] = eng.errors
    assert err.code == "FIELDS_DROPPED" and sorted(err.fields) == ["Description", "Meeting_Status__c", "Router_Name__c"]
    assert {s.detail["field"] for s in out.trace.steps("field_dropped")} == set(err.fields)


def test_change_record_owner_honours_only_from_owners(org, sf):
    rep = user(sf, "rep")
    for email in ("a@acme.com", "b@acme.com", "c@acme.com"):
        sf.Lead.create({"LastName": "L", "Company": "Acme", "Email": email, "OwnerId": rep})
    any_owner = warm(sf, create_event_on="lead", change_record_owner={"enabled": True})
    listed = warm(sf, create_event_on="lead", change_record_owner={"enabled": True, "only_from_owners": ["REP USER"]})
    other = warm(sf, create_event_on="lead", change_record_owner={"enabled": True, "only_from_owners": ["Someone Else"]})
    outs = [eng.sync([booking(booking_uid=f"bk-{e}", attendee={"email": e}, organizer={"email": ADMIN})])[0]
            for eng, e in ((any_owner, "a@acme.com"), (listed, "b@acme.com"), (other, "c@acme.com"))]
    owners = {e: r["OwnerId"] for e, r in by_email(sf, "Lead", "OwnerId").items()}
    assert owners == {"a@acme.com": org.user_id, "b@acme.com": org.user_id, "c@acme.com": rep}
    assert outs[1].trace.steps("record_owner_changed")[0].detail["fromOwner"] == "Rep User"
    assert outs[2].trace.steps("record_owner_kept")[0].detail["owner"] == "Rep User"
    # off (the default): the record keeps its owner
    sf.Lead.create({"LastName": "L", "Company": "Acme", "Email": "d@acme.com", "OwnerId": rep})
    warm(sf, create_event_on="lead").sync([booking(booking_uid="bk-d", attendee={"email": "d@acme.com"}, organizer={"email": ADMIN})])
    assert q(sf, "SELECT OwnerId FROM Lead WHERE Email = 'd@acme.com'")[0]["OwnerId"] == rep


def test_cancel_writes_the_cancel_date_to_the_who_record_and_no_show_uses_the_configured_checkbox(org, sf):
    lead = sf.Lead.create({"LastName": "Jones", "Company": "Acme", "Email": "pat@acme.com"})["id"]
    event_for(sf, who=lead)
    event_for(sf, uid="bk-2", who=lead)
    eng = warm(sf, create_event_on="lead", no_show_field="IsPrivate", on_cancel={
        "mode": "delete",
        "write_to_event": [m("Canceled__c", "checkbox", True)],  # ignored: the Event is deleted
        "write_to_record": [m("Meeting_Date__c", "datetime", "booking_cancel_date"),
                            m("Meeting_Status__c", "picklist", "Canceled")]})
    outs = eng.sync([booking(action="Canceled", organizer={"email": ADMIN}, occurred_at="2024-04-30T12:34:56Z"),
                     booking(booking_uid="bk-2", action="No_Show", organizer={"email": ADMIN})])
    assert [o.status for o in outs] == ["pending", "pending"]
    assert outs[0].trace.steps("cancel_event_writes_ignored")
    [who] = q(sf, "SELECT Meeting_Date__c, Meeting_Status__c FROM Lead")
    assert (who["Meeting_Date__c"], who["Meeting_Status__c"]) == ("2024-04-30T12:34:56.000+0000", "Canceled")
    events = {r["Booking_Uid__c"]: r for r in q(sf, "SELECT Booking_Uid__c, IsPrivate, Canceled__c, No_Show__c FROM Event")}
    assert events["bk-1"]["Canceled__c"] is False  # the Flow deletes it; nothing was written to it
    assert (events["bk-2"]["IsPrivate"], events["bk-2"]["No_Show__c"]) == (True, False)
    modes = {a["Action__c"]: a["Cancel_Mode__c"] for a in q(sf, "SELECT Action__c, Cancel_Mode__c FROM Booking_Action__c")}
    assert modes == {"Canceled": "Delete", "No_Show": None}


def test_field_empty_on_a_converted_leads_contact_reads_that_contacts_values(org, sf):
    """The Contact a converted Lead points at may have another email than the booking: its values are read too."""
    lead = sf.Lead.create({"LastName": "Jones", "Company": "Acme", "Email": "pat@acme.com"})["id"]
    contact = sf.Contact.create({"LastName": "Jones", "Email": "p.jones@acme-holding.com", "Meeting_Type__c": "Kept"})["id"]
    org.convert_lead(lead, contact_id=contact)
    eng = warm(sf, create_event_on="lead", write_to_record=[m("Meeting_Type__c", "text", "{topic}", "field_empty"),
                                                          m("Description", "textarea", "{topic}", "field_empty")])
    [out] = eng.sync([booking(organizer={"email": ADMIN}, answers=ANSWERS)])
    assert out.who_id == contact
    [c] = q(sf, "SELECT Meeting_Type__c, Description FROM Contact")
    assert (c["Meeting_Type__c"], c["Description"]) == ("Kept", "Pricing")


def test_an_inactive_picklist_value_in_the_describe_is_dropped_and_recorded(org, sf):
    """The local org cannot hold an inactive value (its deploy makes every value active), so the
    engine is given the org's own Lead describe with Scheduled marked inactive, as Salesforce sends it."""
    from slotforce.sync.describe import SObjectInfo

    body = sf.Lead.describe()
    for f in body["fields"]:
        for p in f.get("picklistValues") or []:
            if f["name"] == "Meeting_Status__c" and p["value"] == "Scheduled":
                p["active"] = False
    eng = warm(sf, create_event_on="lead", write_to_record=[m("Meeting_Status__c", "picklist", "Scheduled"),
                                                          m("Meeting_Type__c", "text", "Intro")])
    eng.describe_cache.put(SObjectInfo.from_describe(body))
    [out] = eng.sync([booking(organizer={"email": ADMIN})])
    assert out.status == "pending" and [(d.field, d.reason) for d in out.dropped] == [
        ("Meeting_Status__c", "'Scheduled' is not an active picklist value")]
    [lead] = q(sf, "SELECT Meeting_Status__c, Meeting_Type__c FROM Lead")
    assert (lead["Meeting_Status__c"], lead["Meeting_Type__c"]) == (None, "Intro")
    assert eng.errors[0].fields == ("Meeting_Status__c",)
