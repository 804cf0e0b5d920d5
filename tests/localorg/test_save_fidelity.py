"""Save behaviour Salesforce documents and the local org follows: order of execution (required
fields after before-save flows), partial-save retries with fresh governor limits, a custom object's
blank Text Name, and the Shared Activities limits on EventRelation (wire-formats §4.4, §5)."""

import pytest

from slotforce.localorg import errors
from slotforce.localorg.schema import Field, SObject


def _hook(local_org, triggers, fn, *, before=False):
    (local_org.org.before_save_triggers if before else local_org.org.triggers).append(fn)
    triggers.append(fn)


# --- order of execution: required fields after before-save flows -------------------------------

def test_a_before_save_trigger_may_fill_a_required_field_the_request_left_out(sf, local_org, triggers):
    """Order of execution: system validation of required fields runs after before-save flows."""
    def fill_company(ctx, sobject, event, new, old):
        if sobject.name == "Lead":
            for r in new:
                r["Company"] = r["Company"] or "Filled by flow"

    _hook(local_org, triggers, fill_company, before=True)
    lead = sf.Lead.create({"LastName": "NoCompany"})["id"]
    assert sf.Lead.get(lead)["Company"] == "Filled by flow"


def test_a_required_field_still_missing_after_before_save_fails_that_record_only(sf, local_org, triggers):
    def nothing(ctx, sobject, event, new, old):
        pass

    _hook(local_org, triggers, nothing, before=True)
    rows = [{"attributes": {"type": "Lead"}, "LastName": "Ok", "Company": "Acme"},
            {"attributes": {"type": "Lead"}, "LastName": "NoCompany"}]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": rows})
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[1]["errors"][0]["fields"] == ["Company"]


def test_a_before_save_edit_recomputes_the_compound_name(sf, local_org, triggers):
    def title_case(ctx, sobject, event, new, old):
        if sobject.name == "Contact":
            for r in new:
                r["FirstName"] = "Grace"

    _hook(local_org, triggers, title_case, before=True)
    contact = sf.Contact.create({"LastName": "Hopper"})["id"]
    assert sf.Contact.get(contact)["Name"] == "Grace Hopper"


# --- partial-save retries: each attempt has fresh governor limits ------------------------------

def test_a_retried_record_has_the_whole_limit_to_itself(sf, local_org, triggers):
    """apex_dml_bulk_exceptions: governor limits are reset for the retry. The batch attempt and the
    bad record's retry spend 2 queries; "greedy" alone then needs exactly 100, which fits."""
    def queries(ctx, sobject, event, new, old):
        if sobject.name != "Account":
            return
        ctx.query("SELECT Id FROM User LIMIT 1")
        if any(r["Name"] == "bad" for r in new):
            raise errors.SalesforceError("bad account", error_code="CANNOT_EXECUTE_FLOW_TRIGGER")
        if any(r["Name"] == "greedy" for r in new):
            for _ in range(99):
                ctx.query("SELECT Id FROM User LIMIT 1")

    _hook(local_org, triggers, queries)
    rows = [{"attributes": {"type": "Account"}, "Name": n} for n in ("bad", "greedy", "fine")]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": rows})
    assert [r["success"] for r in results] == [False, True, True], results
    assert results[0]["errors"][0]["message"] == "bad account"


def test_retries_do_not_add_up_to_a_limit_no_single_attempt_reaches(sf, local_org, triggers):
    """Each of 60 records costs 2 queries: 120 across the retries, but no attempt goes over 100."""
    def two_queries(ctx, sobject, event, new, old):
        if sobject.name != "Account":
            return
        ctx.query("SELECT Id FROM User LIMIT 1")
        ctx.query("SELECT Id FROM User LIMIT 1")
        if any(r["Name"] == "bad" for r in new):
            raise errors.SalesforceError("bad account", error_code="CANNOT_EXECUTE_FLOW_TRIGGER")

    _hook(local_org, triggers, two_queries)
    rows = [{"attributes": {"type": "Account"}, "Name": "bad" if i == 0 else f"A{i}"} for i in range(60)]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": rows})
    assert [r["success"] for r in results] == [False] + [True] * 59
    assert local_org.stats()["last_transaction"]["soql"] == 2  # the last attempt's own count


def test_a_breached_limit_fails_the_whole_batch_with_one_message_and_no_retry(sf, local_org, triggers):
    calls = []

    def greedy(ctx, sobject, event, new, old):
        if sobject.name != "Account":
            return
        calls.append(len(new))
        for _ in range(101):
            ctx.query("SELECT Id FROM User LIMIT 1")

    _hook(local_org, triggers, greedy)
    rows = [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(3)]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": rows})
    assert calls == [3]
    assert {(r["success"], r["errors"][0]["message"]) for r in results} == {(False, "Too many SOQL queries: 101")}
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


# --- custom object with a Text Name -------------------------------------------------------------

@pytest.fixture
def text_named(local_org):
    s = SObject("Meeting_Note__c", "Meeting Note", "Meeting Notes", "")
    s.add_field(Field("Body__c", "string", "Body", length=255, custom=True))
    local_org.org.add_custom_object(s)
    return "Meeting_Note__c"


def test_a_custom_object_inserted_without_its_text_name_is_named_by_its_id(sf, text_named):
    new_id = sf.Meeting_Note__c.create({"Body__c": "no name"})["id"]
    assert sf.Meeting_Note__c.get(new_id)["Name"] == new_id[:15]
    named = sf.Meeting_Note__c.create({"Name": "Kickoff"})["id"]
    assert sf.Meeting_Note__c.get(named)["Name"] == "Kickoff"


# --- Shared Activities: up to 50 related contacts or one lead per event ------------------------

def _event(sf, **fields) -> str:
    return sf.Event.create({"Subject": "Meeting", "StartDateTime": "2026-12-01T10:00:00Z",
                            "EndDateTime": "2026-12-01T10:30:00Z", **fields})["id"]


def _contacts(sf, n: int) -> list[str]:
    rows = [{"attributes": {"type": "Contact"}, "LastName": f"C{i}"} for i in range(n)]
    out = []
    for start in range(0, n, 200):
        out += [r["id"] for r in sf.restful("composite/sobjects", method="POST",
                                            json={"records": rows[start:start + 200]})]
    return out


def _relate(sf, event: str, people: list[str], *, all_or_none=False, **flags) -> list[dict]:
    rows = [{"attributes": {"type": "EventRelation"}, "EventId": event, "RelationId": p, **flags} for p in people]
    return sf.restful("composite/sobjects", method="POST", json={"allOrNone": all_or_none, "records": rows})


def test_the_51st_related_contact_is_refused(sf):
    event = _event(sf)
    people = _contacts(sf, 51)
    results = _relate(sf, event, people, IsParent=True)
    assert [r["success"] for r in results] == [True] * 50 + [False]
    error = results[50]["errors"][0]
    assert error["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert "up to 50 contacts or one lead" in error["message"] and "51 contacts" in error["message"]


def test_the_event_who_counts_among_the_50(sf):
    people = _contacts(sf, 51)
    event = _event(sf, WhoId=people[0])
    results = _relate(sf, event, people[1:], IsParent=True)
    assert [r["success"] for r in results] == [True] * 49 + [False]


def test_an_all_or_none_insert_over_the_limit_saves_no_relation(sf):
    event = _event(sf)
    results = _relate(sf, event, _contacts(sf, 51), all_or_none=True, IsParent=True)
    assert not any(r["success"] for r in results)
    assert sf.query(f"SELECT COUNT() FROM EventRelation WHERE EventId = '{event}'")["totalSize"] == 0


def test_one_lead_only_and_never_with_contacts(sf):
    lead_a = sf.Lead.create({"LastName": "A", "Company": "X"})["id"]
    lead_b = sf.Lead.create({"LastName": "B", "Company": "X"})["id"]
    (contact,) = _contacts(sf, 1)
    event = _event(sf)
    assert [r["success"] for r in _relate(sf, event, [lead_a, lead_b], IsParent=True)] == [True, False]
    assert _relate(sf, event, [contact], IsParent=True)[0]["success"] is False
    led = _event(sf, WhoId=lead_a)
    assert _relate(sf, led, [contact], IsParent=True)[0]["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_invitees_are_not_counted_against_the_related_people(sf):
    """Invitees (IsInvitee only) are limited apart (1,000 per event): 60 contacts may be invited."""
    event = _event(sf)
    results = _relate(sf, event, _contacts(sf, 60), IsInvitee=True, IsParent=False)
    assert all(r["success"] for r in results)
    assert sf.query(f"SELECT COUNT() FROM EventRelation WHERE EventId = '{event}' AND IsInvitee = true "
                    "AND IsParent = false")["totalSize"] == 60


# --- DateTime precision: one second -----------------------------------------------------------

def test_datetimes_and_audit_fields_keep_whole_seconds():
    """SOAP API data types: dateTime fields have a precision of one second; milliseconds are dropped."""
    import datetime as dt

    from slotforce.localorg import records
    from slotforce.localorg.models import Org

    org = Org(clock=lambda: dt.datetime(2026, 11, 22, 1, 2, 3, 987_654, tzinfo=dt.timezone.utc))
    with org.transaction() as ctx:
        (saved,) = records.save(ctx, "insert", org.sobject("Event"), [
            {"Subject": "Precise", "StartDateTime": "2026-12-01T10:00:00.999Z",
             "EndDateTime": "2026-12-01T11:30:00.001+01:00"}], all_or_none=True)
    assert saved.success, saved.errors
    row = org.execute_query(f"SELECT StartDateTime, EndDateTime, CreatedDate, LastModifiedDate, SystemModstamp "
                            f"FROM Event WHERE Id = '{saved.id}'").records[0]
    assert (row["StartDateTime"], row["EndDateTime"]) == ("2026-12-01T10:00:00.000+0000",
                                                         "2026-12-01T10:30:00.000+0000")
    assert {row["CreatedDate"], row["LastModifiedDate"], row["SystemModstamp"]} == {"2026-11-22T01:02:03.000+0000"}
