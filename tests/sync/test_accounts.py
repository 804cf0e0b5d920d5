"""The Account waterfall and the tie-breaker, over plain data."""

from slotforce.sync.accounts import account_waterfall, tiebreak
from slotforce.sync.booking import Geo
from slotforce.sync.settings import Tiebreaker
from slotforce.sync.trace import Trace

from .factories import account, settings, snapshot


def ets(**kw):
    return settings(create_event_on="contact_under_account", create_contact_under_account=True, **kw).event_types["discovery-call"]


def match(email, snap, **kw):
    trace = Trace()
    hosts = kw.pop("hosts", ())
    geo = kw.pop("geo", Geo())
    return account_waterfall(email, ets(**kw), snap, trace, hosts=hosts, geo=geo), trace


def test_exact_website_variant_wins_over_normalized():
    snap = snapshot(accounts=[account("001B", "https://acme.com/about"), account("001A", "www.acme.com")])
    m, trace = match("pat@acme.com", snap)
    assert (m.account.id, m.method) == ("001A", "exact_website")


def test_normalized_website_strips_scheme_www_path_port_and_case():
    snap = snapshot(accounts=[account("001A", "HTTPS://WWW.Acme.com:8443/en?x=1")])
    m, _ = match("pat@acme.com", snap)
    assert (m.account.id, m.method) == ("001A", "normalized_website")


def test_subdomains_are_not_collapsed():
    snap = snapshot(accounts=[account("001A", "partners.acme.com")])
    m, trace = match("pat@acme.com", snap)
    assert m.account is None and trace.steps("no_account_found")


def test_free_email_domains_never_match():
    snap = snapshot(accounts=[account("001A", "gmail.com")], domains={"gmail.com": [("001A", 9)]})
    m, trace = match("pat@gmail.com", snap)
    assert m.account is None and trace.steps("free_email_domain_skipped")
    m, _ = match("pat@mycorp.test", snapshot(accounts=[account("001A", "mycorp.test")]), free_email_domains=["MyCorp.test"])
    assert m.account is None


def test_contact_domain_majority_uses_the_aggregate():
    snap = snapshot(accounts=[account("001A", None), account("001B", None)],
                    domains={"acme.com": [("001A", 2), ("001B", 5)]})
    m, trace = match("pat@acme.com", snap)
    assert (m.account.id, m.method) == ("001B", "contact_domain")
    assert trace.steps("account_selected_by_most_contacts")[0].detail["contacts"] == 5


def test_contact_domain_asks_for_details_it_does_not_have():
    snap = snapshot(domains={"acme.com": [("001A", 3), ("001B", 3)]})
    m, _ = match("pat@acme.com", snap)
    assert set(m.needs_details) == {"001A", "001B"}
    # a single top account with nothing to filter can be decided from its id alone
    m, _ = match("pat@acme.com", snapshot(domains={"acme.com": [("001A", 3), ("001B", 1)]}))
    assert m.account.id == "001A" and not m.needs_details


def test_contact_domain_falls_to_next_tier_when_hosts_filter_a_tier_out():
    snap = snapshot(accounts=[account("001A", None, owner_email="other@corp.com"), account("001B", None, owner_email="host@corp.com")],
                    domains={"acme.com": [("001A", 5), ("001B", 2)]})
    m, trace = match("pat@acme.com", snap, hosts=("host@corp.com",))
    assert m.account.id == "001B" and trace.steps("host_filter_summary")


def test_excluded_record_types_are_skipped_case_insensitively():
    snap = snapshot(accounts=[account("001A", "acme.com", record_type="Partner"), account("001B", "https://acme.com", record_type="Customer")])
    m, trace = match("pat@acme.com", snap, exclude_record_types=["partner"])
    assert m.account.id == "001B"
    assert trace.steps("record_type_excluded")[0].detail["accountId"] == "001A"


def test_fuzzy_cross_tld_only_when_enabled():
    snap = snapshot(accounts=[account("001A", "https://www.acme.de")])
    m, trace = match("pat@acme.com", snap)
    assert m.account is None
    m, trace = match("pat@acme.com", snap, fuzzy_domain_matching=True)
    assert (m.account.id, m.method) == ("001A", "fuzzy")
    assert trace.steps("fuzzy_match_result")[0].detail["confidence"] == "fuzzy_single"


def test_fuzzy_skips_short_labels_and_needs_same_label():
    snap = snapshot(accounts=[account("001A", "ab.de"), account("001B", "acmeco.de")])
    assert match("pat@ab.com", snap, fuzzy_domain_matching=True)[0].account is None
    assert match("pat@acme.com", snap, fuzzy_domain_matching=True)[0].account is None


def test_tiebreak_geo_then_counts_then_id():
    a = account("001C", billing_country="Germany", contacts=3, owner_email="a@x")
    b = account("001B", billing_country="United States", contacts=3, owner_email="b@x")
    c = account("001A", billing_country="United States", contacts=9, owner_email="c@x")
    trace = Trace()
    winner, rule = tiebreak([a, b, c], Tiebreaker(), Geo(country="US"), trace)
    assert (winner.id, rule) == ("001A", "contacts")
    assert trace.steps("tiebreaker_winner")[0].detail["decisiveRule"] == "contacts"
    winner, rule = tiebreak([a, b], Tiebreaker(rules=["contacts"]), Geo(), Trace())
    assert (winner.id, rule) == ("001B", "fallback_id_sort")


def test_tiebreak_dedupes_by_owner_and_prefers_oldest():
    a = account("001A", owner_email="same@x", created_date="2022-01-01T00:00:00.000+0000")
    b = account("001B", owner_email="same@x")
    assert tiebreak([a, b], Tiebreaker(), Geo(), Trace()) == (a, "single_owner_dedupe")
    old = account("001Z", owner_email="o@x", created_date="2019-01-01T00:00:00.000+0000")
    new = account("001Y", owner_email="n@x", created_date="2023-01-01T00:00:00.000+0000")
    assert tiebreak([new, old], Tiebreaker(rules=["created_date"]), Geo(), Trace()) == (old, "created_date")


def test_tiebreak_nulls_are_ignored_and_state_and_sub_region_count():
    a = account("001A", owner_email="a@x", billing_state="CA", sub_region="West")
    b = account("001B", owner_email="b@x", billing_state="NY", sub_region="East")
    assert tiebreak([a, b], Tiebreaker(rules=["opportunities", "state"]), Geo(state="ny"), Trace())[0] is b
    assert tiebreak([a, b], Tiebreaker(rules=["sub_region"]), Geo(sub_region="West"), Trace())[0] is a
