"""Local org latency through unmodified simple-salesforce over HTTPS (prints figures, asserts nothing).

Aims (issue 3): a simple call p50 < 5 ms; a 200-record collection insert < 150 ms; Email lookups
over 100,000 Contacts stay interactive (Email is indexed). Issue 11.7: `Email LIKE '%@domain'` over
100,000 Contacts <= 1 ms p50 in the org (the email domain index; `email_suffix_in_org`).
Aims (issue 11.7): 1,000,000 Contacts loaded through one Bulk API 2.0 ingest job <= 60 s; a Bulk API 2.0
query of those 1,000,000 rows read to the end with the org's process (server and client) <= 300 MB.
`BENCH_BULK_ROWS=100000 python -m bench localorg` runs a smaller N and scales the time linearly.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from slotforce.localorg import LocalOrg, records

CONTACTS = 100_000
BULK_ROWS = int(os.environ.get("BENCH_BULK_ROWS", "1000000"))
BULK_TARGET_S, QUERY_TARGET_MB = 60.0, 300.0


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
    bulk()


def _load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def _bulk_api(org, method: str, path: str, **kw):
    session = org.session()
    return session.request(method, f"{org.instance_url}/services/data/v62.0/{path}",
                           headers={"Authorization": f"Bearer {org.access_token}", **kw.pop("headers", {})}, **kw)


def _wait(org, family: str, job_id: str) -> dict:
    while True:
        info = _bulk_api(org, "GET", f"jobs/{family}/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(0.2)


def bulk() -> None:
    """Bulk API 2.0 at BULK_ROWS rows: an ingest job over HTTPS, then a query job in a fresh process."""
    print(f"Bulk API 2.0 with {BULK_ROWS:,} Contacts (load average {_load_avg()})")
    with tempfile.TemporaryDirectory(prefix="slotforce-bench-") as state:
        with LocalOrg(state) as org:
            data = "LastName,Email\n" + "".join(f"Bulk {n},person{n}@domain{n % 500}.example\n"
                                                for n in range(BULK_ROWS))
            start = time.perf_counter()
            job = _bulk_api(org, "POST", "jobs/ingest", json={"object": "Contact", "operation": "insert"}).json()
            put = _bulk_api(org, "PUT", f"jobs/ingest/{job['id']}/batches", data=data.encode(),
                            headers={"Content-Type": "text/csv"})
            assert put.status_code == 201, put.text
            uploaded = time.perf_counter() - start
            del data
            _bulk_api(org, "PATCH", f"jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
            info = _wait(org, "ingest", job["id"])
            took = time.perf_counter() - start
            scaled = took * 1_000_000 / BULK_ROWS
            print(f"  ingest {info['numberRecordsProcessed']:,} rows ({info['numberRecordsFailed']} failed, "
                  f"{info['state']}) in {took:.1f} s = {BULK_ROWS / took:,.0f} rows/s; 1,000,000 rows: "
                  f"{scaled:.1f} s (target <= {BULK_TARGET_S:.0f} s) "
                  f"{'OK' if scaled <= BULK_TARGET_S else 'MISSED'}; upload {uploaded:.1f} s, server save "
                  f"{info['totalProcessingTime'] / 1000:.1f} s; peak RSS {_peak_mb():.0f} MB (client and server)")
        out = subprocess.run([sys.executable, "-m", "bench.localorg_bench", "--bulk-query", state],
                             capture_output=True, text=True, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  query {figures['rows']:,} rows in {figures['seconds']:.1f} s ({figures['pages']} pages); peak RSS "
              f"of the org's process {figures['peak_mb']:.0f} MB (target <= {QUERY_TARGET_MB:.0f} MB at 1,000,000 "
              f"rows) {'OK' if figures['peak_mb'] <= QUERY_TARGET_MB else 'MISSED'}")


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss survives exec on Linux, so a child started
    from a big parent would report the parent's peak)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bulk_query(state: str) -> None:
    """In a fresh process: a Bulk API 2.0 query of every Contact, its result pages read as a client streams them."""
    with LocalOrg(state) as org:
        start = time.perf_counter()
        job = _bulk_api(org, "POST", "jobs/query", json={"operation": "query",
                                                          "query": "SELECT Id, LastName, Email FROM Contact"}).json()
        _wait(org, "query", job["id"])
        rows, pages, locator = 0, 0, None
        while locator != "null":
            params = {"maxRecords": 250_000, **({"locator": locator} if locator else {})}
            resp = _bulk_api(org, "GET", f"jobs/query/{job['id']}/results", params=params, stream=True)
            for chunk in resp.iter_content(1 << 16):
                rows += chunk.count(b"\n")
            rows -= 1  # the header line
            pages += 1
            locator = resp.headers["Sforce-Locator"]
        print(json.dumps({"rows": rows, "pages": pages, "seconds": time.perf_counter() - start,
                          "peak_mb": _peak_mb()}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bulk-query"]:
        bulk_query(sys.argv[2])
    else:
        main()
