"""Per-domain Contact recounts respect Composite's limit of 5 queries per call."""

from slotforce.sync.snapshot import Snapshot

from .e2e_kit import account, calls, warm


def test_recounting_seven_domains_takes_two_composite_calls(org, sf):
    acme = account(sf, "Acme")
    domains = [f"d{i}.example" for i in range(7)]
    for i, domain in enumerate(domains):
        for n in range(i % 3 + 1):
            sf.Contact.create({"LastName": f"C{i}{n}", "Email": f"c{n}@{domain}", "AccountId": acme})
    eng = warm(sf, create_event_on="contact_under_account")
    snapshot = Snapshot()
    before = calls(org)
    eng.fetch_counts(snapshot, domains)
    assert calls(org) - before == 2  # 5 + 2 aggregates
    assert {d: [(c.account_id, c.count) for c in snapshot.domain_counts[d]] for d in domains[:3]} == {
        "d0.example": [(acme, 1)], "d1.example": [(acme, 2)], "d2.example": [(acme, 3)]}
