"""Local org latency through unmodified simple-salesforce over HTTPS (prints figures, asserts nothing).

Aims (issue 3): a simple call p50 < 5 ms; a 200-record collection insert < 150 ms; Email lookups
over 100,000 Contacts stay interactive (Email is indexed). Issue 11.7: `Email LIKE '%@domain'` over
100,000 Contacts <= 1 ms p50 in the org (the email domain index; `email_suffix_in_org`).
"""

from __future__ import annotations

import time

from slotforce.localorg import LocalOrg, records

CONTACTS = 100_000


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def _timed(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def _report(label: str, samples: list[float]) -> None:
    print(f"{label:<48} p50 {_pct(samples, 0.5):7.2f} ms   p99 {_pct(samples, 0.99):7.2f} ms   (n={len(samples)})")


def email_suffix_in_org(org: LocalOrg, total: int) -> None:
    """Issue 11.7: `Email LIKE '%@domainN.example'` (200 of `total` rows match) run in the org — SOQL
    compile and SQLite, no HTTP — p50 against the 1 ms target; and the same filter without the
    index (`LIKE '%domainN.example'`, no '@'), the scan it replaces."""
    def run(soql: str):
        with org.org.lock:
            return org.org.execute_query(soql)

    indexed = _timed(lambda i: run(f"SELECT Id FROM Contact WHERE Email LIKE '%@domain{i % 500}.example'"), 200)
    scan = _timed(lambda i: run(f"SELECT Id FROM Contact WHERE Email LIKE '%domain{i % 500}.example'"), 20)
    _report(f"in org: Email LIKE '%@domainN.example' ({total})", indexed)
    print(f"{'  target (issue 11.7)':<48} p50 <= 1.00 ms: {'met' if _pct(indexed, 0.5) <= 1.0 else 'NOT met'}")
    _report(f"in org: Email LIKE '%domainN.example' (scan, {total})", scan)


def main() -> None:
    with LocalOrg() as org:
        sf = org.client()
        sf.Contact.create({"LastName": "warm-up"})
        _report("insert 1 Contact (sf.Contact.create)",
                _timed(lambda i: sf.Contact.create({"LastName": f"Single {i}", "Email": f"s{i}@single.example"}), 300))
        ids = [r["Id"] for r in sf.query("SELECT Id FROM Contact LIMIT 50")["records"]]
        _report("get 1 Contact by id (sf.Contact.get)", _timed(lambda i: sf.Contact.get(ids[i % len(ids)]), 300))
        _report("query 1 Contact by Email",
                _timed(lambda i: sf.query(f"SELECT Id FROM Contact WHERE Email = 's{i}@single.example'"), 300))
        batch = [{"attributes": {"type": "Contact"}, "LastName": f"Batch {i}"} for i in range(200)]
        _report("insert 200 Contacts (sObject Collections)",
                _timed(lambda i: sf.restful("composite/sobjects", method="POST", json={"records": batch}), 30))

        start = time.perf_counter()
        with org.org.transaction() as ctx:
            contact = org.org.sobject("Contact")
            for first in range(0, CONTACTS, 1000):
                records.save(ctx, "insert", contact,
                             [{"LastName": f"Bulk {n}", "Email": f"person{n}@domain{n % 500}.example"}
                              for n in range(first, first + 1000)], all_or_none=True)
        load = time.perf_counter() - start
        total = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
        print(f"loaded {CONTACTS} Contacts through the model in {load:.1f} s ({CONTACTS / load:,.0f} rows/s); "
              f"org has {total}")
        _report(f"Email = '...' over {total} Contacts",
                _timed(lambda i: sf.query(f"SELECT Id, Name FROM Contact WHERE Email = 'person{i * 997 % CONTACTS}"
                                          f"@domain{i * 997 % CONTACTS % 500}.example'"), 100))
        _report(f"Email LIKE '%@domainN.example' over {total}",
                _timed(lambda i: sf.query(f"SELECT Id FROM Contact WHERE Email LIKE '%@domain{i % 500}.example'"),
                       20))
        email_suffix_in_org(org, total)
        stats = org.stats()["api_calls"]
        print(f"API calls billed: {stats['total']} {stats['by_kind']}")


if __name__ == "__main__":
    main()
