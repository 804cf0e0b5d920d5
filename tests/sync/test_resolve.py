"""Who the attendee is, in every mode and option."""

from slotforce.sync.booking import Person
from slotforce.sync.resolve import lookup_who, resolve_who
from slotforce.sync.trace import Trace

from .factories import HOST, account, booking, contact, describes, lead, settings, snapshot


def who(snap, email="pat@acme.com", **kw):
    ets = settings(**kw).event_types["discovery-call"]
    change = booking(attendee={"email": email, "name": "Pat Jones"}, answers={"company": "Acme Inc"})
    trace = Trace()
    return resolve_who(change.attendee, change, ets, snap, trace, owner_id=HOST.id, describes=describes()), trace


def test_contact_mode_finds_or_creates_a_contact():
    d, _ = who(snapshot([contact("003A", "pat@acme.com")]))
    assert (d.outcome, d.who_id) == ("existing", "003A")
    d, _ = who(snapshot())
    assert d.outcome == "create" and d.new.sobject == "Contact"
    assert d.new.fields == {"FirstName": "Pat", "LastName": "Jones", "Email": "pat@acme.com", "OwnerId": HOST.id}


def test_skip_contact_creation_creates_nothing():
    d, trace = who(snapshot(), skip_contact_creation=True)
    assert d.outcome == "skip" and d.reason == "skip_contact_creation"


def test_lead_mode_company_from_mapping_else_domain_and_scheduler_flag():
    d, _ = who(snapshot(), create_event_on="lead",
               write_to_record=[{"field": "Company", "type": "text", "value": "{company}"}])
    assert d.new.sobject == "Lead" and d.new.fields["Company"] == "Acme Inc"
    assert d.new.fields["Created_By_Scheduler__c"] is True
    d, _ = who(snapshot(), email="pat@eu.acme.co.uk", create_event_on="lead")
    assert d.new.fields["Company"] == "acme"


def test_lead_mode_prefers_contact_only_when_asked():
    snap = snapshot([contact("003A", "pat@acme.com"), lead("00QA", "pat@acme.com")])
    assert who(snap, create_event_on="lead")[0].who_id == "00QA"
    assert who(snap, create_event_on="lead", check_for_existing_contact=True)[0].who_id == "003A"


def test_converted_lead_resolves_to_its_contact():
    snap = snapshot([lead("00QA", "pat@acme.com", is_converted=True, converted_contact_id="003C", converted_account_id="001A")])
    d, trace = who(snap, create_event_on="lead")
    assert (d.sobject, d.who_id, d.account_id) == ("Contact", "003C", "001A")
    assert trace.steps("converted_lead_resolved")
    d, _ = who(snap)  # contact mode too
    assert d.who_id == "003C"


def test_lead_mode_creates_contact_under_matched_account():
    snap = snapshot(accounts=[account("001A", "acme.com")])
    d, _ = who(snap, create_event_on="lead", create_contact_under_account=True)
    assert d.outcome == "create" and d.new.sobject == "Contact" and d.new.fields["AccountId"] == "001A"
    d, _ = who(snapshot(), create_event_on="lead", create_contact_under_account=True)
    assert d.new.sobject == "Lead"


def test_contact_under_account_modes():
    acme = account("001A", "acme.com")
    opts = dict(create_event_on="contact_under_account", create_contact_under_account=True, create_lead_if_no_account=True)
    assert who(snapshot([contact("003A", "pat@acme.com", account_id="001X")], [acme]), **opts)[0].who_id == "003A"
    # a contact without account is re-parented to the matched one
    d, trace = who(snapshot([contact("003B", "pat@acme.com")], [acme]), **opts)
    assert (d.outcome, d.who_id, d.account_id) == ("reparent", "003B", "001A")
    d, _ = who(snapshot([], [acme]), **opts)
    assert d.new.sobject == "Contact" and d.new.fields["AccountId"] == "001A"
    # no account: an existing open Lead, else a new Lead
    assert who(snapshot([lead("00QA", "pat@acme.com")]), **opts)[0].who_id == "00QA"
    assert who(snapshot(), **opts)[0].new.sobject == "Lead"


def test_contact_under_account_without_options_records_why():
    d, _ = who(snapshot(accounts=[account("001A", "acme.com")]), create_event_on="contact_under_account")
    assert d.outcome == "skip" and "create_contact_under_account" in d.reason
    d, _ = who(snapshot(), create_event_on="contact_under_account", create_contact_under_account=True)
    assert d.outcome == "skip" and "create_lead_if_no_account" in d.reason


def test_excluded_record_types_are_skipped_on_lookup():
    snap = snapshot([contact("003A", "pat@acme.com", account_id="001P", account_record_type="Partner"),
                     contact("003B", "pat@acme.com", account_id="001C", account_record_type="Customer")])
    d, trace = who(snap, exclude_record_types=["PARTNER"])
    assert d.who_id == "003B" and trace.steps("record_type_excluded")


def test_missing_email_is_skipped_with_reason():
    ets = settings().event_types["discovery-call"]
    change = booking(attendee={"name": "No Mail"})
    d = resolve_who(change.attendee, change, ets, snapshot(), Trace())
    assert (d.outcome, d.reason) == ("skip", "missing_attendee_email")


def test_name_fallbacks():
    ets = settings().event_types["discovery-call"]
    change = booking(attendee={"email": "solo@acme.com"})
    d = resolve_who(change.attendee, change, ets, snapshot(), Trace())
    assert d.new.fields["LastName"] == "solo@acme.com" and "FirstName" not in d.new.fields


def test_lookup_never_creates():
    ets = settings().event_types["discovery-call"]
    assert lookup_who(Person(email="pat@acme.com"), ets, snapshot(), Trace()).outcome == "skip"
    found = lookup_who(Person(email="pat@acme.com"), ets, snapshot([lead("00QA", "pat@acme.com")]), Trace())
    assert found.who_id == "00QA"


def test_a_one_word_name_is_the_last_name():
    from slotforce.sync.resolve import split_name

    assert split_name(Person(first_name="Madonna", last_name="")) == (None, "Madonna")
    assert split_name(Person(name="Madonna")) == (None, "Madonna")
    assert split_name(Person(name="Ada King Lovelace")) == ("Ada", "King Lovelace")
    assert split_name(Person(first_name="Ada", last_name="Lovelace")) == ("Ada", "Lovelace")
    assert split_name(Person(email="x@y.com")) == (None, "x@y.com")


def test_a_free_mail_leads_company_is_its_answer_or_not_provided():
    from slotforce.sync.resolve import COMPANY_NOT_PROVIDED, new_person_fields

    ets = settings(create_event_on="lead").for_event_type(None)[0]

    def company(email, answers=None, primary=True):
        change = booking(attendee={"email": email, "name": "Pat Jones"}, answers=answers or {})
        return new_person_fields("Lead", change.attendee, change, ets, None, None, None, primary=primary)["Company"]

    assert company("pat@gmail.com") == COMPANY_NOT_PROVIDED == "[not provided]"
    assert company("pat@gmail.com", {"Company": "  Tailspin Toys "}) == "Tailspin Toys"
    assert company("pat@gmail.com", {"company": "Tailspin"}, primary=False) == COMPANY_NOT_PROVIDED  # a guest's
    assert company("pat@mail.acme.co.uk", {"company": "Tailspin"}) == "acme"  # a company domain names it
