"""Flow benchmark: Created Booking Actions (3 guests, 1 co-host each) through the package's Flows.

Prints wall time per sObject Collections call and what the Flows spent in that one transaction
(SOQL queries, DML statements, DML rows from `/__localorg__/stats`) next to Salesforce's
per-transaction limits, for one call of 200 and for 2,000 records in 10 calls, then for 200
Rescheduled / No_Show / Completed / Canceled (Delete) changes of one call each. No asserts:
tests/e2e/test_flow_limits.py checks the same workload's results and limits.

Runs against a LocalOrg in this process, with force-app deployed by `cci flow run deploy_package`
(so it needs the sf CLI from tools/, as `make bench` provides).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from slotforce.cci import cci_env

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LIMITS = {"soql": 100, "dml": 150, "dml_rows": 10_000}
COLLECTION_MAX = 200  # records per sObject Collections request
CO_HOSTS = 10


@dataclass(frozen=True)
class People:
    """Who to book with: a pool reused round-robin (a person may be in many meetings)."""
    who_ids: list[str]          # primary attendees (Contacts)
    guest_emails: list[tuple[str, str, str]]  # per slot: two Contacts' and one Lead's email
    co_host_emails: list[str]   # active Users


def insert_collection(sf, records: list[dict]) -> list[dict]:
    """One all-or-none sObject Collections insert (<= 200 records); raises on any record error."""
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    failed = [r for r in results if not r["success"]]
    if failed:
        raise RuntimeError(f"collection insert of {len(records)} records failed: {failed[:3]}")
    return results


def _records(sobject: str, rows: list[dict]) -> list[dict]:
    return [{"attributes": {"type": sobject}, **row} for row in rows]


def seed_people(sf, run: str, slots: int = COLLECTION_MAX) -> People:
    """Insert `slots` Who Contacts, 2*slots guest Contacts, `slots` guest Leads and 10 co-host Users."""
    profile = sf.query("SELECT Id FROM Profile WHERE Name = 'Standard User'")["records"][0]["Id"]
    users = [{"LastName": f"Host {i}", "Email": f"host{i}.{run}@slotforce.example",
              "Username": f"host{i}.{run}@slotforce.example.local", "Alias": f"h{i}{run}"[:8],
              "ProfileId": profile, "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US",
              "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"} for i in range(CO_HOSTS)]
    insert_collection(sf, _records("User", users))
    who_ids = []
    for start in range(0, slots, COLLECTION_MAX):
        rows = [{"LastName": f"Attendee {i}", "Email": f"attendee{i}.{run}@customer.example"}
                for i in range(start, min(slots, start + COLLECTION_MAX))]
        who_ids += [r["id"] for r in insert_collection(sf, _records("Contact", rows))]
    guests = [(f"guest{i}a.{run}@customer.example", f"guest{i}b.{run}@customer.example",
               f"guest{i}c.{run}@prospect.example") for i in range(slots)]
    contacts = [{"LastName": f"Guest {i}", "Email": email} for i, g in enumerate(guests) for email in g[:2]]
    leads = [{"LastName": f"Guest {i}", "Company": "Prospect Inc", "Email": g[2]} for i, g in enumerate(guests)]
    for sobject, rows in (("Contact", contacts), ("Lead", leads)):
        for start in range(0, len(rows), COLLECTION_MAX):
            insert_collection(sf, _records(sobject, rows[start:start + COLLECTION_MAX]))
    return People(who_ids, guests, [u["Email"] for u in users])


def created_actions(people: People, run: str, first: int, count: int) -> list[dict]:
    """`count` Created Booking Actions numbered from `first`, each with 3 guests and 1 co-host."""
    rows = []
    for n in range(first, first + count):
        slot = n % len(people.who_ids)
        rows.append({
            "Action__c": "Created", "Action_Key__c": f"bench:{run}-{n}:Created:0", "Booking_Uid__c": f"{run}-{n}",
            "Source__c": "api", "Subject__c": f"Discovery call {n}", "Meeting_Type__c": "Discovery Call",
            "Start__c": f"2026-12-{1 + n % 28:02d}T{9 + n % 8:02d}:00:00Z",
            "End__c": f"2026-12-{1 + n % 28:02d}T{9 + n % 8:02d}:30:00Z",
            "Who_Id__c": people.who_ids[slot], "Invitee_Email__c": f"attendee{slot}.{run}@customer.example",
            "Guest_Emails__c": "\n".join(people.guest_emails[slot]),
            "Co_Host_Emails__c": people.co_host_emails[n % len(people.co_host_emails)],
        })
    return _records("Booking_Action__c", rows)


def deploy_package(org, work: Path) -> None:
    """`cci flow run deploy_package --org local` against `org` (a LocalOrg), force-app generated into `work`."""
    env = cci_env(work / "home", org.env_exports())
    options = [a for step in ("generate_package", "validate_package", "deploy")
               for a in ("-o", f"{step}__path", str(work / "force-app"))]
    run = subprocess.run([str(BIN / "cci"), "flow", "run", "deploy_package", "--org", "local", *options],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        raise RuntimeError(f"cci flow run deploy_package failed:\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")


def _limits_line(tx: dict) -> str:
    return "  ".join(f"{k} {tx[k]:>5}/{LIMITS[k]:<6}" for k in LIMITS)


def timed_insert(org, sf, records: list[dict]) -> tuple[float, dict]:
    started = time.perf_counter()
    insert_collection(sf, records)
    elapsed = time.perf_counter() - started
    return elapsed, org.stats()["last_transaction"]


def main() -> None:
    from slotforce.localorg import LocalOrg

    with tempfile.TemporaryDirectory(prefix="flows-bench-") as tmp, LocalOrg(Path(tmp) / "org") as org:
        started = time.perf_counter()
        deploy_package(org, Path(tmp))
        print(f"deploy_package (cci flow, sf convert, Metadata deploy): {time.perf_counter() - started:6.2f} s")
        sf = org.client()
        started = time.perf_counter()
        people = seed_people(sf, "b")
        print(f"seed: 10 Users, 600 Contacts, 200 Leads in 6 collection calls: {time.perf_counter() - started:6.2f} s")

        print("\none collection insert of 200 Created (3 guests + 1 co-host each):")
        elapsed, tx = timed_insert(org, sf, created_actions(people, "one", 0, 200))
        print(f"  wall {elapsed:6.2f} s   {_limits_line(tx)}   (used/limit per transaction)")
        # rows per booking = fixed rows + one EventRelation per invitee (4 here): what fits in 10,000?
        fixed = tx["dml_rows"] / 200 - 4
        print(f"  DML rows per booking: {tx['dml_rows'] / 200:.0f} ({fixed:.0f} + 1 per invitee); a call of 200 "
              f"stays within {LIMITS['dml_rows']} rows while invitees average <= "
              f"{LIMITS['dml_rows'] // 200 - fixed:.0f} per booking")

        print("\n2,000 Created in 10 calls of 200:")
        total, worst = 0.0, {k: 0 for k in LIMITS}
        for call in range(10):
            elapsed, tx = timed_insert(org, sf, created_actions(people, "many", call * 200, 200))
            total += elapsed
            worst = {k: max(worst[k], tx[k]) for k in LIMITS}
            print(f"  call {call + 1:>2}: wall {elapsed:6.2f} s   {_limits_line(tx)}")
        print(f"  total wall {total:6.2f} s, {2000 / total:6.0f} records/s; worst call: {_limits_line(worst)}")
        print("\nchanges to the first call's 200 bookings, one call of 200 each:")
        changes = [("Rescheduled", {"Start__c": "2027-01-05T09:00:00Z", "End__c": "2027-01-05T09:45:00Z"}),
                   ("No_Show", {}), ("Completed", {}), ("Canceled", {"Cancel_Mode__c": "Delete"})]
        for action, fields in changes:
            records = _records("Booking_Action__c", [{"Action__c": action, "Booking_Uid__c": f"one-{n}", **fields}
                                                     for n in range(200)])
            elapsed, tx = timed_insert(org, sf, records)
            print(f"  {action:<12} wall {elapsed:6.2f} s   {_limits_line(tx)}")
        events = sf.query("SELECT COUNT() FROM Event")["totalSize"]
        relations = sf.query("SELECT COUNT() FROM EventRelation")["totalSize"]
        print(f"  org now holds {events} Events and {relations} EventRelations")
        sf.session.close()


if __name__ == "__main__":
    main()
