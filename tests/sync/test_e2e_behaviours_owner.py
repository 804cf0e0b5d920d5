"""Issue 5, behaviour 6 end to end: round-robin "book with the owner" (`SyncEngine.owner_for`).

Records are owned by `rep` (a host) unless a test says otherwise; the answer must always be a host.
"""

from __future__ import annotations

from .e2e_kit import ADMIN, account, calls, user, warm

REP = "rep@slotforce.example"
HOSTS = [ADMIN, REP]


def rr(sf, **round_robin):
    return warm(sf, round_robin={"book_with_owner": True, **round_robin})


def test_contact_owner_then_lead_owner_only_as_a_fallback(org, sf):
    rep = user(sf, "rep")
    sf.Lead.create({"LastName": "L", "Company": "Acme", "Email": "pat@acme.com", "OwnerId": rep})
    found, trace = rr(sf).owner_for("pat@acme.com", "demo", HOSTS)
    assert found is None and trace.steps("owner_not_found")  # contact mode: no Contact, no fallback
    found, _ = rr(sf, fallback_to_lead_owner=True).owner_for("Pat@Acme.com", "demo", HOSTS)
    assert (found.email, found.record_type, found.reason) == (REP, "Lead", "lead_owner")
    contact = sf.Contact.create({"LastName": "C", "Email": "pat@acme.com"})["id"]  # owned by the admin
    found, _ = rr(sf, fallback_to_lead_owner=True).owner_for("pat@acme.com", "demo", HOSTS)
    assert (found.email, found.record_id, found.reason) == (ADMIN, contact, "contact_owner")
    found, _ = rr(sf, check_record_on="lead").owner_for("pat@acme.com", "demo", HOSTS)
    assert (found.email, found.reason) == (REP, "lead_owner")


def test_the_owner_must_be_a_host(org, sf):
    rep = user(sf, "rep")
    sf.Contact.create({"LastName": "C", "Email": "pat@acme.com", "OwnerId": rep})
    eng = rr(sf)
    assert eng.owner_for("pat@acme.com", "demo", HOSTS)[0].email == REP
    found, trace = eng.owner_for("pat@acme.com", "demo", [ADMIN])
    assert found is None and trace.steps("owner_not_a_host")[0].detail["ownerEmail"] == REP


def test_field_rules_ignore_and_must_include_filter_records(org, sf):
    rep = user(sf, "rep")
    sf.Contact.create({"LastName": "C", "Email": "pat@acme.com", "OwnerId": rep, "LeadSource": "Partner Referral"})
    sf.Lead.create({"LastName": "L", "Company": "Acme", "Email": "pat@acme.com", "Rating": "Hot"})  # owned by the admin
    ignore = [{"field": "LeadSource", "value": "partner referral", "action": "ignore"}]
    found, trace = rr(sf, field_rules=ignore).owner_for("pat@acme.com", "demo", HOSTS)
    assert found is None and trace.steps("field_rule_filtered_record")[0].detail["action"] == "ignore"
    must = [{"field": "Rating", "value": "HOT", "action": "must_include"}]
    found, _ = rr(sf, check_record_on="lead", field_rules=must).owner_for("pat@acme.com", "demo", HOSTS)
    assert (found.email, found.reason) == (ADMIN, "lead_owner")
    colder = [{"field": "Rating", "value": "Cold", "action": "must_include"}]
    assert rr(sf, check_record_on="lead", field_rules=colder).owner_for("pat@acme.com", "demo", HOSTS)[0] is None


def test_account_owner_through_the_contacts_account_or_the_waterfall_with_account_rules(org, sf):
    rep = user(sf, "rep")
    stranger = user(sf, "stranger")
    banking = account(sf, "Acme Bank", OwnerId=rep, Industry="Banking")
    sf.Contact.create({"LastName": "C", "Email": "pat@acme.com", "AccountId": banking})
    found, trace = rr(sf, check_record_on="account").owner_for("pat@acme.com", "demo", HOSTS)
    assert (found.email, found.record_id, found.reason) == (REP, banking, "account_owner")
    assert trace.steps("account_owner_lookup")[0].detail["via"] == "contact"
    # a colleague's booking: the Account with most @acme.com Contacts (the aggregate), its owner a host
    retail = account(sf, "Acme Retail", OwnerId=stranger, Industry="Retail")
    for i in range(3):
        sf.Contact.create({"LastName": f"R{i}", "Email": f"r{i}@acme.com", "AccountId": retail})
    eng = rr(sf, check_record_on="account")
    start = calls(org)
    found, trace = eng.owner_for("new@acme.com", "demo", HOSTS)
    assert (found.email, found.record_id) == (REP, banking)  # Retail (3 Contacts) is owned by a non-host
    assert calls(org) - start == 3  # fetch, then details of each tier the waterfall walked
    must_retail = [{"field": "Industry", "value": "retail", "action": "must_include"}]
    found, trace = rr(sf, check_record_on="account", field_rules=must_retail).owner_for("new@acme.com", "demo",
                                                                                         [*HOSTS, "stranger@slotforce.example"])
    assert (found.email, found.record_id) == ("stranger@slotforce.example", retail)


def test_free_email_bookers_skip_the_owner_check_when_configured_also_for_accounts(org, sf):
    rep = user(sf, "rep")
    sf.Contact.create({"LastName": "C", "Email": "pat@gmail.com", "OwnerId": rep})
    assert rr(sf).owner_for("pat@gmail.com", "demo", HOSTS)[0].email == REP
    found, trace = rr(sf, skip_free_email_domains=True).owner_for("pat@gmail.com", "demo", HOSTS)
    assert found is None and trace.steps("owner_lookup_skipped")[0].detail["reason"] == "free_email_domain"
    listed = warm(sf, free_email_domains=["acme.com"],
                  round_robin={"book_with_owner": True, "check_record_on": "account", "skip_free_email_domains": True})
    account(sf, "Acme", "acme.com", OwnerId=rep)
    assert listed.owner_for("pat@acme.com", "demo", HOSTS)[0] is None
    assert rr(sf, check_record_on="account").owner_for("pat@acme.com", "demo", HOSTS)[0].email == REP


def test_book_with_owner_off_answers_nothing_without_a_call(org, sf):
    eng = warm(sf)
    start = calls(org)
    found, trace = eng.owner_for("pat@acme.com", "demo", HOSTS)
    assert found is None and trace.steps("owner_lookup_skipped") and calls(org) == start
