"""End to end against the local org: what an admin sees in Salesforce after bookings sync.

The org has the package's objects and fields (no Flows), so Events are created here by hand
where a story needs one, as the Booking_Action_Created Flow would.
"""

from __future__ import annotations

from slotforce.sync.describe import DescribeCache
from slotforce.sync.engine import SyncEngine
from slotforce.sync.settings import parse_settings

from .factories import DroppedFieldsLog, booking

ADMIN = "admin@slotforce.example"  # the seed org's active User


def engine(sf, cache=None, **event_type):
    s = parse_settings({"event_types": {"default": event_type}})
    return SyncEngine(s, sf, describe_cache=cache or DescribeCache(), errors=DroppedFieldsLog())


def calls(org):
    return org.stats()["api_calls"]["total"]


def warm(sf, **event_type):
    """An engine whose describe cache is already filled (as in a running service)."""
    eng = engine(sf, **event_type)
    eng.describes()
    return eng


def q(sf, soql):
    return sf.query_all(soql)["records"]


def test_new_attendee_in_lead_mode_becomes_a_lead_owned_by_the_host_in_two_calls(org, sf):
    eng = warm(sf, create_event_on="lead",
               write_to_record=[{"field": "Company", "type": "text", "value": "{company}"}])
    start = calls(org)
    [out] = eng.sync([booking(organizer={"email": ADMIN}, answers={"company": "Acme GmbH"})])
    assert calls(org) - start == 2  # one Composite of queries, one of writes
    [lead] = q(sf, "SELECT Id, Company, OwnerId, Email, Created_By_Scheduler__c FROM Lead")
    assert (lead["Company"], lead["Email"], lead["Created_By_Scheduler__c"]) == ("Acme GmbH", "pat@acme.com", True)
    assert lead["OwnerId"] == org.user_id
    [action] = q(sf, "SELECT Action_Key__c, Who_Id__c, Owner_Id__c, Status__c, Start__c FROM Booking_Action__c")
    assert action["Who_Id__c"] == lead["Id"] == out.who_id
    assert action["Action_Key__c"] == "calcom:bk-1:Created:0" and action["Status__c"] == "Pending"
    assert out.status == "pending" and out.booking_action_id


def test_replaying_a_batch_changes_nothing(org, sf):
    eng = warm(sf, create_event_on="lead", write_to_record=[
        {"field": "Meeting_Type__c", "type": "text", "value": "{utm:campaign}", "when": "field_empty"}])
    batch = [booking(organizer={"email": ADMIN}, utm={"campaign": "spring"}),
             booking(booking_uid="bk-2", attendee={"email": "o'brien@x-corp.com"}, organizer={"email": ADMIN}),
             booking(booking_uid="bk-3", attendee={"email": "100%_real@x-corp.com"}, organizer={"email": ADMIN})]
    first = eng.sync(batch)
    snapshot = lambda: (q(sf, "SELECT Id, Email, Meeting_Type__c, LastModifiedDate FROM Lead ORDER BY Email"),  # noqa: E731
                        q(sf, "SELECT Id, Action_Key__c, Who_Id__c FROM Booking_Action__c ORDER BY Action_Key__c"))
    leads, actions = snapshot()
    assert [r["Email"] for r in leads] == ["100%_real@x-corp.com", "o'brien@x-corp.com", "pat@acme.com"]
    assert len(actions) == 3
    again = eng.sync(batch)
    assert snapshot()[1] == actions
    assert [r["Id"] for r in snapshot()[0]] == [r["Id"] for r in leads]  # nobody created twice
    assert [o.who_id for o in again] == [o.who_id for o in first]


def test_contact_under_account_by_website_in_two_calls(org, sf):
    acme = sf.Account.create({"Name": "Acme", "Website": "https://www.acme.com/"})["id"]
    sf.Account.create({"Name": "Acme Germany", "Website": "acme.de"})
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True,
               create_lead_if_no_account=True, fuzzy_domain_matching=True)
    start = calls(org)
    [out] = eng.sync([booking(organizer={"email": ADMIN})])
    assert calls(org) - start == 2
    [contact] = q(sf, "SELECT Id, AccountId, OwnerId FROM Contact")
    assert contact["AccountId"] == acme and contact["OwnerId"] == org.user_id
    [action] = q(sf, "SELECT Who_Id__c, What_Id__c FROM Booking_Action__c")
    assert (action["Who_Id__c"], action["What_Id__c"]) == (contact["Id"], acme)
    assert out.plan.who.match.method == "normalized_website"


def test_fuzzy_fallback_across_tlds_still_two_calls(org, sf):
    de = sf.Account.create({"Name": "Acme Germany", "Website": "https://acme.de"})["id"]
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True, fuzzy_domain_matching=True)
    start = calls(org)
    [out] = eng.sync([booking(organizer={"email": ADMIN})])
    assert calls(org) - start == 2
    assert out.plan.who.account.id == de and out.plan.who.match.method == "fuzzy"


def test_contact_domain_majority_picks_the_account_with_most_colleagues(org, sf):
    small = sf.Account.create({"Name": "Acme Subsidiary"})["id"]
    big = sf.Account.create({"Name": "Acme Corp"})["id"]
    for i in range(3):
        sf.Contact.create({"LastName": f"C{i}", "Email": f"c{i}@acme.com", "AccountId": big})
    sf.Contact.create({"LastName": "S", "Email": "s@acme.com", "AccountId": small})
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True)
    start = calls(org)
    [out] = eng.sync([booking(organizer={"email": ADMIN})])
    assert calls(org) - start == 2
    assert out.plan.who.account.id == big and out.plan.who.match.method == "contact_domain"
    # with record-type exclusion configured the candidates' details are fetched: one more call
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True,
               exclude_record_types=["Partner"])
    start = calls(org)
    [out] = eng.sync([booking(booking_uid="bk-2", attendee={"email": "new@acme.com"}, organizer={"email": ADMIN})])
    assert calls(org) - start == 3
    assert out.plan.who.account.id == big


def test_a_mapped_field_missing_from_the_org_is_dropped_and_the_booking_goes_through(org, sf):
    eng = warm(sf, create_event_on="lead", write_to_record=[
        {"field": "Vanished__c", "type": "text", "value": "x"},
        {"field": "Meeting_Type__c", "type": "text", "value": "Intro"}])
    [out] = eng.sync([booking(organizer={"email": ADMIN})])
    assert out.status == "pending" and [d.field for d in out.dropped] == ["Vanished__c"]
    [lead] = q(sf, "SELECT Meeting_Type__c FROM Lead")
    assert lead["Meeting_Type__c"] == "Intro"
    [err] = eng.errors
    assert err.event_type == "default" and err.fields == ("Vanished__c",)


def test_cancel_and_no_show_write_to_the_event_and_the_who_record(org, sf):
    lead = sf.Lead.create({"LastName": "Jones", "Company": "Acme", "Email": "pat@acme.com"})["id"]
    sf.Event.create({"Subject": "Intro", "StartDateTime": "2024-05-01T10:00:00Z", "EndDateTime": "2024-05-01T10:30:00Z",
                     "Booking_Uid__c": "bk-1", "WhoId": lead})  # what the Created Flow would have made
    eng = warm(sf, create_event_on="lead", no_show_field="No_Show__c", on_cancel={
        "mode": "keep",
        "write_to_event": [{"field": "Canceled__c", "type": "checkbox", "value": True}],
        "write_to_record": [{"field": "Meeting_Status__c", "type": "picklist", "value": "Canceled"}]})
    start = calls(org)
    outs = eng.sync([booking(action="No_Show", organizer={"email": ADMIN}),
                     booking(action="Canceled", organizer={"email": ADMIN}, cancel_reason="Moved on")])
    assert calls(org) - start == 3  # one fetch, then the two changes of bk-1 in order: two write calls
    [event] = q(sf, "SELECT No_Show__c, Canceled__c FROM Event")
    assert event == {**event, "No_Show__c": True, "Canceled__c": True}
    [who] = q(sf, "SELECT Meeting_Status__c FROM Lead")
    assert who["Meeting_Status__c"] == "Canceled"
    actions = q(sf, "SELECT Action__c, Cancel_Mode__c, Cancel_Reason__c, Who_Id__c FROM Booking_Action__c ORDER BY Action__c")
    assert [(a["Action__c"], a["Cancel_Mode__c"]) for a in actions] == [("Canceled", "Keep"), ("No_Show", None)]
    # the cancel looked the Lead up (it writes to it); the no-show did not need to
    assert [a["Who_Id__c"] for a in actions] == [lead, None] and all(o.status == "pending" for o in outs)


def test_unknown_event_type_and_missing_email_are_recorded(org, sf):
    eng = warm(sf, create_event_on="lead")
    outs = eng.sync([booking(event_type_slug="never-configured", organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"name": "No Email"}, organizer={"email": ADMIN})])
    assert outs[0].status == "pending" and outs[0].trace.steps("unknown_event_type_default_applied")
    assert (outs[1].status, outs[1].error) == ("skipped", "missing_attendee_email")
    assert len(q(sf, "SELECT Id FROM Booking_Action__c")) == 1
    assert outs[1].trace.steps("attendee_skipped")


def test_200_mixed_bookings_in_at_most_8_calls(org, sf):
    acme = sf.Account.create({"Name": "Acme", "Website": "acme.com"})["id"]
    sf.Contact.create({"LastName": "Known", "Email": "known@acme.com", "AccountId": acme})
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True,
               create_lead_if_no_account=True, fuzzy_domain_matching=True)
    batch = []
    for i in range(200):
        kind = i % 4
        email = ["known@acme.com", f"p{i}@acme.com", f"p{i}@co{i % 20}.com", f"p{i}@gmail.com"][kind]
        batch.append(booking(booking_uid=f"bk-{i}", attendee={"email": email, "name": f"Person {i}"},
                             guests=[{"email": f"g{i}@co{i % 20}.com"}] if i % 10 == 0 else [],
                             organizer={"email": ADMIN}))
    start = calls(org)
    outs = eng.sync(batch)
    used = calls(org) - start
    assert used <= 8, used
    assert all(o.status == "pending" for o in outs), {o.error for o in outs if o.status != "pending"}
    assert len(q(sf, "SELECT Id FROM Booking_Action__c")) == 200
    assert len(q(sf, "SELECT Id FROM Contact WHERE AccountId = '%s'" % acme)) == 1 + 50  # known + one per p{i}@acme.com


def test_transient_faults_raise_for_a_retry_and_nothing_half_done(org, sf):
    import pytest
    import requests

    from slotforce.sync.gateway import SalesforceCallError

    eng = warm(sf, create_event_on="lead")
    session = requests.Session()
    session.verify = org.ca_bundle
    session.trust_env = False
    session.post(f"{org.instance_url}/__localorg__/faults", json={"error": "UNABLE_TO_LOCK_ROW", "count": 1, "path": "composite"},
                 headers={"Authorization": f"Bearer {org.access_token}"}).raise_for_status()
    with pytest.raises(SalesforceCallError) as info:
        eng.sync([booking(organizer={"email": ADMIN})])
    assert info.value.transient
    [out] = eng.sync([booking(organizer={"email": ADMIN})])  # the outbox retries: now it goes through
    assert out.status == "pending" and len(q(sf, "SELECT Id FROM Lead")) == 1


def test_round_robin_owner_lookup(org, sf):
    acme = sf.Account.create({"Name": "Acme", "Website": "acme.com"})["id"]
    eng = warm(sf, round_robin={"book_with_owner": True, "check_record_on": "account"})
    start = calls(org)
    found, trace = eng.owner_for("pat@acme.com", "demo", [ADMIN, "other@corp.com"])
    assert calls(org) - start == 1
    assert (found.email, found.record_id, found.reason) == (ADMIN, acme, "account_owner")
    assert eng.owner_for("pat@acme.com", "demo", ["other@corp.com"])[0] is None  # owner is not a host


def _ghost_field_in_cache(eng, sobject, name):
    """The engine's describe says a field exists that the org no longer has (deleted after describe)."""
    from slotforce.sync.describe import FieldInfo, SObjectInfo

    info = eng.describe_cache.get(sobject)
    eng.describe_cache.put(SObjectInfo(sobject, {**info.fields, name.lower(): FieldInfo(name, "string", 50)}))


def test_a_field_salesforce_rejects_is_dropped_and_the_rest_written(org, sf):
    existing = sf.Lead.create({"LastName": "Known", "Company": "Acme", "Email": "known@acme.com"})["id"]
    eng = warm(sf, create_event_on="lead", write_to_record=[
        {"field": "Ghost__c", "type": "text", "value": "boo"},
        {"field": "Meeting_Type__c", "type": "text", "value": "Intro"}])
    _ghost_field_in_cache(eng, "Lead", "Ghost__c")
    start = calls(org)
    outs = eng.sync([booking(organizer={"email": ADMIN}),  # new Lead: create rejected, retried without Ghost__c
                     booking(booking_uid="bk-2", attendee={"email": "known@acme.com"}, organizer={"email": ADMIN})])
    assert calls(org) - start == 3  # fetch, write, one follow-up for both rejections
    assert [o.status for o in outs] == ["pending", "pending"]
    assert [[d.field for d in o.dropped] for o in outs] == [["Ghost__c"], ["Ghost__c"]]
    leads = {r["Email"]: r for r in q(sf, "SELECT Id, Email, Meeting_Type__c FROM Lead")}
    assert leads["pat@acme.com"]["Meeting_Type__c"] == "Intro" and leads["known@acme.com"]["Meeting_Type__c"] == "Intro"
    actions = {a["Action_Key__c"]: a["Who_Id__c"] for a in q(sf, "SELECT Action_Key__c, Who_Id__c FROM Booking_Action__c")}
    assert actions == {"calcom:bk-1:Created:0": leads["pat@acme.com"]["Id"], "calcom:bk-2:Created:0": existing}
    assert eng.errors[0].fields == ("Ghost__c",)


def test_a_cold_engine_describes_in_one_call_and_long_batches_are_split(org, sf):
    eng = engine(sf, create_event_on="lead")
    start = calls(org)
    eng.sync([booking(organizer={"email": ADMIN})])
    assert calls(org) - start == 3  # describe (one Composite for four objects), fetch, write
    long_emails = [booking(booking_uid=f"bk-{i}", attendee={"email": f"{'x' * 30}.{i}@{'d' * 40}.com"},
                           organizer={"email": ADMIN}) for i in range(200)]
    start = calls(org)
    outs = eng.sync(long_emails)
    assert all(o.status == "pending" for o in outs)
    assert 4 <= calls(org) - start <= 8  # split so every query URL stays under Salesforce's limit


def test_an_org_without_the_package_is_a_clear_permanent_error(tmp_path):
    import pytest

    from slotforce.localorg.server import LocalOrg
    from slotforce.sync.gateway import SalesforceCallError

    with LocalOrg() as bare:
        client = bare.client()
        eng = engine(client, create_event_on="lead")
        with pytest.raises(SalesforceCallError, match="deploy the package") as info:
            eng.sync([booking(organizer={"email": ADMIN})])
        assert not info.value.transient
        start = calls(bare)
        with pytest.raises(SalesforceCallError):
            eng.sync([booking(organizer={"email": ADMIN})])
        assert calls(bare) == start  # the missing object is remembered: no call at all
        assert client.query("SELECT COUNT() FROM Lead")["totalSize"] == 0  # nothing half-written
        client.session.close()


def test_converted_lead_resolves_to_its_contact_even_with_another_email(org, sf):
    lead = sf.Lead.create({"LastName": "Jones", "Company": "Acme", "Email": "pat@acme.com"})["id"]
    contact = sf.Contact.create({"LastName": "Jones", "Email": "pat.jones@acme-holding.com"})["id"]
    org.convert_lead(lead, contact_id=contact)
    eng = warm(sf, create_event_on="lead")
    [out] = eng.sync([booking(organizer={"email": ADMIN})])
    assert out.who_id == contact and out.trace.steps("converted_lead_resolved")
    assert len(q(sf, "SELECT Id FROM Lead")) == 1  # no new Lead for a converted one


def test_guests_become_contacts_unless_ignored_and_skip_creation_writes_nothing(org, sf):
    eng = warm(sf)  # contact mode
    [out] = eng.sync([booking(organizer={"email": ADMIN}, guests=[{"email": "guest@acme.com", "name": "Gus Guest"}])])
    assert sorted(r["Email"] for r in q(sf, "SELECT Email FROM Contact")) == ["guest@acme.com", "pat@acme.com"]
    [action] = q(sf, "SELECT Guest_Emails__c, Who_Id__c FROM Booking_Action__c")
    assert action["Guest_Emails__c"] == "guest@acme.com" and action["Who_Id__c"] == out.who_id
    eng = warm(sf, ignore_guests=True)
    eng.sync([booking(booking_uid="bk-2", attendee={"email": "ann@beta.io"}, organizer={"email": ADMIN},
                      guests=[{"email": "other@beta.io"}])])
    assert "other@beta.io" not in {r["Email"] for r in q(sf, "SELECT Email FROM Contact")}
    eng = warm(sf, skip_contact_creation=True)
    [out] = eng.sync([booking(booking_uid="bk-3", attendee={"email": "new@gamma.io"}, organizer={"email": ADMIN})])
    assert (out.status, out.error) == ("skipped", "skip_contact_creation")
    assert len(q(sf, "SELECT Id FROM Booking_Action__c")) == 2


def test_round_robin_booking_matches_only_accounts_owned_by_its_hosts(org, sf):
    other = sf.User.create({"LastName": "Other", "Email": "other@slotforce.example", "Username": "other@slotforce.localorg",
                            "Alias": "other", "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
                            "LanguageLocaleKey": "en_US", "ProfileId": q(sf, "SELECT ProfileId FROM User LIMIT 1")[0]["ProfileId"]})["id"]
    theirs = sf.Account.create({"Name": "Acme (theirs)", "Website": "acme.com", "OwnerId": other})["id"]
    ours = sf.Account.create({"Name": "Acme (ours)", "Website": "https://acme.com"})["id"]
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True)
    [plain] = eng.sync([booking(organizer={"email": ADMIN})])
    assert plain.plan.who.account.id == theirs  # two exact matches, no rule separates them: lowest Id
    [rr] = eng.sync([booking(booking_uid="bk-2", attendee={"email": "sam@acme.com"}, organizer={"email": ADMIN},
                             scheduling_type="round_robin")])
    assert rr.plan.who.account.id == ours and rr.trace.steps("host_filter_summary")


def test_booking_uids_with_slashes_and_spaces_still_sync(org, sf):
    eng = warm(sf, create_event_on="lead")
    start = calls(org)
    [out] = eng.sync([booking(booking_uid="team/42 a?b#c%", organizer={"email": ADMIN})])
    assert calls(org) - start == 3  # new person first, then the action by key in the body
    [action] = q(sf, "SELECT Action_Key__c, Who_Id__c FROM Booking_Action__c")
    assert action["Action_Key__c"] == "calcom:team/42 a?b#c%:Created:0" and action["Who_Id__c"] == out.who_id


def test_many_new_people_with_a_rejected_field_take_two_people_calls(org, sf):
    eng = warm(sf, create_event_on="lead", write_to_record=[{"field": "Ghost__c", "type": "text", "value": "boo"}])
    _ghost_field_in_cache(eng, "Lead", "Ghost__c")
    batch = [booking(booking_uid=f"bk-{i}", attendee={"email": f"p{i}@co{i}.com"}, organizer={"email": ADMIN}) for i in range(30)]
    start = calls(org)
    outs = eng.sync(batch)
    assert calls(org) - start == 4  # fetch, people, people again without Ghost__c, write
    assert {o.status for o in outs} == {"pending"} and all([d.field for d in o.dropped] == ["Ghost__c"] for o in outs)
    assert len(q(sf, "SELECT Id FROM Lead")) == 30
