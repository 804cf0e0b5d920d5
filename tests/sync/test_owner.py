"""Round-robin owner lookup: contact, lead or account owner, rules, free email, hosts only."""

from slotforce.sync.owner import round_robin_owner
from slotforce.sync.trace import Trace

from .factories import account, contact, lead, settings, snapshot

HOSTS = ("alice@corp.com", "bob@corp.com")


def owner(snap, email="pat@acme.com", hosts=HOSTS, **rr):
    ets = settings(create_event_on="contact_under_account", round_robin={"book_with_owner": True, **rr}).event_types["discovery-call"]
    trace = Trace()
    return round_robin_owner(email, ets, snap, hosts, trace), trace


def test_contact_owner_then_fallback_to_lead_owner():
    snap = snapshot([lead("00QA", "pat@acme.com", owner_email="bob@corp.com")])
    assert owner(snap)[0] is None
    found, _ = owner(snap, fallback_to_lead_owner=True)
    assert found.as_dict() == {"email": "bob@corp.com", "record_id": "00QA", "record_type": "Lead", "reason": "lead_owner"}
    snap = snapshot([contact("003A", "pat@acme.com", owner_email="alice@corp.com"), lead("00QA", "pat@acme.com", owner_email="bob@corp.com")])
    assert owner(snap, fallback_to_lead_owner=True)[0].reason == "contact_owner"


def test_only_hosts_are_returned():
    snap = snapshot([contact("003A", "pat@acme.com", owner_email="carol@corp.com")])
    found, trace = owner(snap)
    assert found is None and trace.steps("owner_not_a_host")


def test_free_email_domains_skip_when_asked():
    snap = snapshot([contact("003A", "pat@gmail.com", owner_email="alice@corp.com")])
    assert owner(snap, email="pat@gmail.com")[0].email == "alice@corp.com"
    found, trace = owner(snap, email="pat@gmail.com", skip_free_email_domains=True)
    assert found is None and trace.steps("owner_lookup_skipped")


def test_field_rules_ignore_and_must_include():
    snap = snapshot([contact("003A", "pat@acme.com", owner_email="alice@corp.com", values={"Status__c": "Churned"}),
                     contact("003B", "pat@acme.com", owner_email="bob@corp.com", values={"Status__c": "Active"})])
    rules = [{"field": "Status__c", "value": "churned", "action": "ignore"}]
    assert owner(snap, field_rules=rules)[0].record_id == "003B"
    rules = [{"field": "Status__c", "value": "Churned", "action": "must_include"}]
    assert owner(snap, field_rules=rules)[0].record_id == "003A"
    rules = [{"field": "Region__c", "value": "EMEA", "action": "must_include"}]  # field missing: rule skipped
    assert owner(snap, field_rules=rules)[0].record_id == "003A"


def test_account_owner_via_contact_then_waterfall():
    snap = snapshot([contact("003A", "pat@acme.com", account_id="001A", account_owner_email="bob@corp.com")])
    found, _ = owner(snap, check_record_on="account")
    assert (found.email, found.record_id, found.reason) == ("bob@corp.com", "001A", "account_owner")
    snap = snapshot(accounts=[account("001B", "acme.com", owner_email="alice@corp.com")])
    assert owner(snap, check_record_on="account")[0].record_id == "001B"


def test_off_means_none():
    ets = settings().event_types["discovery-call"]
    assert round_robin_owner("pat@acme.com", ets, snapshot(), HOSTS, Trace()) is None
