"""Issue 5, behaviour 3 end to end: who the attendee becomes in Salesforce, mode by mode, option by option.

Local org without Flows (fixture `org`); every assertion reads the org back over REST.
"""

from __future__ import annotations

from .e2e_kit import ADMIN, account, by_email, calls, q, record_type, user, warm
from .factories import booking


def test_contact_mode_uses_the_contact_and_creates_the_missing_one_owned_by_the_host(org, sf):
    known = sf.Contact.create({"LastName": "Known", "Email": "known@acme.com"})["id"]
    eng = warm(sf)  # contact mode
    outs = eng.sync([booking(attendee={"email": "Known@Acme.com"}, organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"email": "new@beta.io", "name": "Nia New"}, organizer={"email": ADMIN})])
    assert outs[0].who_id == known and outs[0].trace.steps("contact_found")
    contacts = by_email(sf, "Contact", "Id, FirstName, LastName, OwnerId, AccountId")
    assert set(contacts) == {"known@acme.com", "new@beta.io"}  # no Lead, no second Contact for known@
    new = contacts["new@beta.io"]
    assert (new["FirstName"], new["LastName"], new["AccountId"]) == ("Nia", "New", None)
    assert new["OwnerId"] == org.user_id and outs[1].who_id == new["Id"]
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_an_organizer_without_a_user_takes_the_fallback_owner(org, sf):
    other = user(sf, "fallback")
    eng = warm(sf, create_event_on="lead", owner_fallback_user="fallback@slotforce.localorg")
    [out] = eng.sync([booking(organizer={"email": "not-a-user@corp.com"})])
    [lead] = q(sf, "SELECT OwnerId FROM Lead")
    assert lead["OwnerId"] == other and out.trace.steps("owner_fallback_user")
    [action] = q(sf, "SELECT Owner_Id__c FROM Booking_Action__c")
    assert action["Owner_Id__c"] == other


def test_lead_mode_prefers_an_existing_contact_only_when_asked(org, sf):
    contact = sf.Contact.create({"LastName": "Jones", "Email": "pat@acme.com"})["id"]
    lead = sf.Lead.create({"LastName": "Jones", "Company": "Acme", "Email": "pat@acme.com"})["id"]
    [plain] = warm(sf, create_event_on="lead").sync([booking(organizer={"email": ADMIN})])
    assert plain.who_id == lead
    [checked] = warm(sf, create_event_on="lead", check_for_existing_contact=True).sync(
        [booking(booking_uid="bk-2", organizer={"email": ADMIN})])
    assert checked.who_id == contact and checked.trace.steps("contact_found")[0].detail["why"] == "existing_contact_preferred"
    # with no Contact the option falls back to the Lead, and creates one only when there is none
    [new] = warm(sf, create_event_on="lead", check_for_existing_contact=True).sync(
        [booking(booking_uid="bk-3", attendee={"email": "sam@beta.io"}, organizer={"email": ADMIN})])
    assert new.who_id == q(sf, "SELECT Id FROM Lead WHERE Email = 'sam@beta.io'")[0]["Id"]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_lead_mode_with_a_matched_account_creates_a_contact_under_it_not_a_lead(org, sf):
    acme = account(sf, "Acme", "acme.com")
    eng = warm(sf, create_event_on="lead", create_contact_under_account=True)
    outs = eng.sync([booking(organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"email": "kim@nomatch.io"}, organizer={"email": ADMIN})])
    [contact] = q(sf, "SELECT Id, AccountId, OwnerId FROM Contact")
    assert (contact["Id"], contact["AccountId"], contact["OwnerId"]) == (outs[0].who_id, acme, org.user_id)
    [lead] = q(sf, "SELECT Id, Email FROM Lead")  # no account for nomatch.io: a Lead as usual
    assert (lead["Email"], lead["Id"]) == ("kim@nomatch.io", outs[1].who_id)
    [a0, a1] = q(sf, "SELECT What_Id__c FROM Booking_Action__c ORDER BY Action_Key__c")
    assert (a0["What_Id__c"], a1["What_Id__c"]) == (acme, None)


def test_contact_under_account_reparents_an_orphan_contact_and_never_moves_a_placed_one(org, sf):
    acme = account(sf, "Acme", "acme.com")
    elsewhere = account(sf, "Holding")
    orphan = sf.Contact.create({"LastName": "Orphan", "Email": "pat@acme.com"})["id"]
    placed = sf.Contact.create({"LastName": "Placed", "Email": "sam@acme.com", "AccountId": elsewhere})["id"]
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True)
    outs = eng.sync([booking(organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"email": "sam@acme.com"}, organizer={"email": ADMIN})])
    assert [o.who_id for o in outs] == [orphan, placed]
    assert outs[0].trace.steps("contact_reparented")
    accounts = {r["Id"]: r["AccountId"] for r in q(sf, "SELECT Id, AccountId FROM Contact")}
    assert accounts == {orphan: acme, placed: elsewhere}
    whats = [r["What_Id__c"] for r in q(sf, "SELECT What_Id__c FROM Booking_Action__c ORDER BY Action_Key__c")]
    assert whats == [acme, elsewhere]


def test_contact_under_account_without_an_account_uses_or_creates_a_lead_only_when_allowed(org, sf):
    known = sf.Lead.create({"LastName": "Known", "Company": "Solo", "Email": "known@solo.io"})["id"]
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True, create_lead_if_no_account=True)
    outs = eng.sync([booking(attendee={"email": "known@solo.io"}, organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"email": "neu@mail.example.co.uk"}, organizer={"email": ADMIN})])
    assert outs[0].who_id == known
    leads = by_email(sf, "Lead", "Id, Company, OwnerId, Created_By_Scheduler__c")
    new = leads["neu@mail.example.co.uk"]
    assert (new["Company"], new["OwnerId"], new["Created_By_Scheduler__c"]) == ("example", org.user_id, True)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0  # never both a Contact and a Lead

    off = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True)
    [skipped] = off.sync([booking(booking_uid="bk-3", attendee={"email": "x@nowhere.io"}, organizer={"email": ADMIN})])
    assert (skipped.status, skipped.error) == ("skipped", "no_account_and_create_lead_if_no_account_off")
    account(sf, "Acme", "acme.com")
    found_only = warm(sf, create_event_on="contact_under_account", create_lead_if_no_account=True)
    [skipped] = found_only.sync([booking(booking_uid="bk-4", organizer={"email": ADMIN})])
    assert (skipped.status, skipped.error) == ("skipped", "account_found_but_create_contact_under_account_off")
    assert sf.query("SELECT COUNT() FROM Booking_Action__c")["totalSize"] == 2
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 2


def test_excluded_record_types_are_skipped_on_lookup_case_insensitively_and_never_get_a_contact(org, sf):
    partner = record_type(sf, "Account", "Partner")
    partner_lead = record_type(sf, "Lead", "Partner Lead")
    reseller = account(sf, "Acme Reseller", "acme.com", RecordTypeId=partner)
    sf.Contact.create({"LastName": "Under Partner", "Email": "pat@acme.com", "AccountId": reseller})
    old_lead = sf.Lead.create({"LastName": "Old", "Company": "Beta", "Email": "ann@beta.io", "RecordTypeId": partner_lead})["id"]
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True,
               create_lead_if_no_account=True, exclude_record_types=["PARTNER", " partner lead "])
    outs = eng.sync([booking(organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"email": "ann@beta.io"}, organizer={"email": ADMIN})])
    # the Contact under the partner Account and the partner Lead are skipped; the Account is not matched
    excluded = [s.detail for o in outs for s in o.trace.steps("record_type_excluded")]
    assert {d.get("recordType") for d in excluded} == {"Partner", "Partner Lead"}
    assert any(d.get("accountId") == reseller for d in excluded)
    leads = by_email(sf, "Lead", "Id")
    assert outs[0].who_id == leads["pat@acme.com"]["Id"]  # a Lead, since no usable Account is left
    assert outs[1].who_id not in (None, old_lead)
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE AccountId = '{reseller}'")["totalSize"] == 1  # nothing added
    # without the exclusion the same booker lands on the partner Account's Contact
    [plain] = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True).sync(
        [booking(booking_uid="bk-3", organizer={"email": ADMIN})])
    assert plain.who_id == q(sf, f"SELECT Id FROM Contact WHERE AccountId = '{reseller}'")[0]["Id"]


def test_lead_company_comes_from_the_mapping_or_else_the_email_domain(org, sf):
    eng = warm(sf, create_event_on="lead", write_to_record=[{"field": "Company", "type": "text", "value": "{company}"}])
    eng.sync([booking(organizer={"email": ADMIN}, answers={"company": "Acme GmbH"}),
              booking(booking_uid="bk-2", attendee={"email": "lee@eu.globex.co.uk"}, organizer={"email": ADMIN})])
    companies = {e: r["Company"] for e, r in by_email(sf, "Lead", "Company").items()}
    assert companies == {"pat@acme.com": "Acme GmbH", "lee@eu.globex.co.uk": "globex"}


def test_converted_lead_in_contact_under_account_mode_resolves_to_its_contact(org, sf):
    acme = account(sf, "Acme", "acme.com")
    lead = sf.Lead.create({"LastName": "Jones", "Company": "Acme", "Email": "pat@acme.com"})["id"]
    contact = sf.Contact.create({"LastName": "Jones", "Email": "p.jones@acme-holding.com", "AccountId": acme})["id"]
    org.convert_lead(lead, contact_id=contact, account_id=acme)
    eng = warm(sf, create_event_on="contact_under_account", create_contact_under_account=True)
    [out] = eng.sync([booking(organizer={"email": ADMIN})])
    assert out.who_id == contact and out.trace.steps("converted_lead_resolved")
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_a_contacts_own_excluded_record_type_is_skipped_also_behind_a_converted_lead(org, sf):
    partner = record_type(sf, "Contact", "Partner Contact")
    sf.Contact.create({"LastName": "Partner", "Email": "pat@acme.com", "RecordTypeId": partner})
    lead = sf.Lead.create({"LastName": "Jones", "Company": "Beta", "Email": "ann@beta.io"})["id"]
    behind = sf.Contact.create({"LastName": "Jones", "Email": "a.jones@beta-holding.io", "RecordTypeId": partner})["id"]
    org.convert_lead(lead, contact_id=behind)
    eng = warm(sf, exclude_record_types=["partner contact"])  # contact mode
    start = calls(org)
    outs = eng.sync([booking(organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"email": "ann@beta.io"}, organizer={"email": ADMIN})])
    # the converted Lead's Contact has another email: it is read (one more call) to learn its record type
    assert calls(org) - start == 3
    contacts = {r["Id"]: r["Email"] for r in q(sf, "SELECT Id, Email FROM Contact WHERE RecordTypeId = null")}
    assert sorted(contacts.values()) == ["ann@beta.io", "pat@acme.com"]  # new Contacts, not the partner ones
    assert {o.who_id for o in outs} == set(contacts)


def test_an_inactive_organizer_user_is_not_made_the_owner(org, sf):
    user(sf, "gone", active=False)
    fallback = user(sf, "fallback")
    eng = warm(sf, create_event_on="lead", owner_fallback_user="fallback@slotforce.example")  # by email this time
    [out] = eng.sync([booking(organizer={"email": "gone@slotforce.example"})])
    assert out.trace.steps("organizer_user_not_found")
    [lead] = q(sf, "SELECT OwnerId FROM Lead")
    assert lead["OwnerId"] == fallback


def test_skip_contact_creation_keeps_a_known_attendees_booking_and_creates_no_guest(org, sf):
    """Cal.com stops the whole booking when any attendee is unknown; slotforce keeps the known
    attendee's booking (its Event is theirs) and only leaves the unknown guest uncreated."""
    known = sf.Contact.create({"LastName": "Known", "Email": "pat@acme.com"})["id"]
    eng = warm(sf, skip_contact_creation=True)
    [out] = eng.sync([booking(organizer={"email": ADMIN}, guests=[{"email": "stranger@beta.io"}])])
    assert (out.status, out.who_id) == ("pending", known)
    assert [r["Email"] for r in q(sf, "SELECT Email FROM Contact")] == ["pat@acme.com"]
    assert any(s.detail.get("email") == "stranger@beta.io" for s in out.trace.steps("attendee_skipped"))
    [action] = q(sf, "SELECT Guest_Emails__c FROM Booking_Action__c")
    assert action["Guest_Emails__c"] == "stranger@beta.io"  # the Flow invites only people it finds
