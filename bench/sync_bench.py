"""Sync engine: Salesforce API calls per booking in each mode, and a batch of 200 mixed bookings.

Counts come from the local org's own counter (`/__localorg__/stats`: what Salesforce would bill,
a Composite being one call), with the package (objects, fields and Flows) deployed as a CI would.
Engines are warm (describe cached, as in a running service); a cold engine spends one more call.
Cal.com's figures are from shared/reference/calcom-salesforce-behaviour.md §2.
"""

from __future__ import annotations

import time
from typing import Any

from slotforce.localorg import LocalOrg
from slotforce.sync.booking import BookingChange
from slotforce.sync.engine import SyncEngine
from slotforce.sync.settings import parse_settings

ADMIN = "admin@slotforce.example"
ACCOUNT_MODE = {"create_event_on": "contact_under_account", "create_contact_under_account": True,
                "create_lead_if_no_account": True, "fuzzy_domain_matching": True}


def change(uid: str = "bk-1", email: str = "pat@acme.com", **over: Any) -> BookingChange:
    data: dict[str, Any] = {
        "source": "calcom", "action": "Created", "booking_uid": uid, "event_type_slug": "demo",
        "event_type_name": "Demo", "title": "Demo", "start": "2024-05-01T10:00:00Z", "end": "2024-05-01T10:30:00Z",
        "organizer": {"email": ADMIN}, "attendee": {"email": email, "name": "Pat Jones"},
        "occurred_at": "2024-04-30T09:00:00Z", "answers": {"company": "Acme"},
    }
    data.update(over)
    return BookingChange.model_validate(data)


def engine(sf: Any, **event_type: Any) -> SyncEngine:
    eng = SyncEngine(parse_settings({"event_types": {"default": event_type}}), sf)
    eng.describes()
    return eng


def calls(org: LocalOrg) -> int:
    return org.stats()["api_calls"]["total"]


def measure(org: LocalOrg, eng: SyncEngine, changes: list[BookingChange]) -> tuple[int, list[str]]:
    start = calls(org)
    outs = eng.sync(changes)
    return calls(org) - start, [o.status for o in outs]


def scenarios(org: LocalOrg) -> list[tuple[str, str, int, list[str]]]:
    rows = []

    def run(name: str, calcom: str, setup: Any, settings: dict[str, Any], first: list[BookingChange] | None,
            measured: list[BookingChange]) -> None:
        org.reset()
        sf = org.client()
        if setup:
            setup(sf)
        eng = engine(sf, **settings)
        if first:
            eng.sync(first)
        n, statuses = measure(org, eng, measured)
        rows.append((name, calcom, n, statuses))
        sf.session.close()

    acme_site = lambda sf: sf.Account.create({"Name": "Acme", "Website": "https://www.acme.com"})  # noqa: E731
    acme_de = lambda sf: sf.Account.create({"Name": "Acme DE", "Website": "acme.de"})  # noqa: E731

    def colleagues(sf: Any) -> None:
        acc = sf.Account.create({"Name": "Acme"})["id"]
        for i in range(3):
            sf.Contact.create({"LastName": f"C{i}", "Email": f"c{i}@acme.com", "AccountId": acc})

    run("contact mode, new attendee", "5", None, {}, None, [change()])
    run("lead mode, new attendee", "5", None, {"create_event_on": "lead"}, None, [change()])
    run("lead mode, existing attendee", "3", lambda sf: sf.Lead.create({"LastName": "J", "Company": "A", "Email": "pat@acme.com"}),
        {"create_event_on": "lead"}, None, [change()])
    run("contact under account: exact website", "7", acme_site, ACCOUNT_MODE, None, [change()])
    run("contact under account: contact-domain majority", "10", colleagues, ACCOUNT_MODE, None, [change()])
    run("contact under account: cross-TLD fuzzy", "10-11", acme_de, ACCOUNT_MODE, None, [change()])
    run("contact under account: no account -> lead", "9-11", None, ACCOUNT_MODE, None, [change()])
    run("lead mode + write to record + owner change", "10", None,
        {"create_event_on": "lead", "write_to_record": [{"field": "Meeting_Type__c", "type": "text", "value": "{company}"}],
         "change_record_owner": {"enabled": True}}, None, [change()])
    run("reschedule", "1", None, {"create_event_on": "lead"}, [change()],
        [change("bk-2", previous_booking_uid="bk-1", action="Rescheduled", start="2024-05-02T10:00:00Z", end="2024-05-02T10:30:00Z")])
    cancel = {"create_event_on": "lead", "on_cancel": {
        "mode": "keep", "write_to_event": [{"field": "Canceled__c", "type": "checkbox", "value": True}],
        "write_to_record": [{"field": "Meeting_Status__c", "type": "picklist", "value": "Canceled"}]}}
    run("cancel, write back to Event and Who record", "7", None, cancel, [change()],
        [change(action="Canceled", occurred_at="2024-04-30T12:00:00Z")])
    run("no-show", "5", None, {"create_event_on": "lead", "no_show_field": "No_Show__c"}, [change()],
        [change(action="No_Show", occurred_at="2024-05-01T11:00:00Z")])
    return rows


def mixed_batch(n: int = 200) -> list[BookingChange]:
    out = []
    for i in range(n):
        kind = i % 5
        email = ["known@acme.com", f"p{i}@acme.com", f"p{i}@co{i % 25}.com", f"p{i}@gmail.com", f"p{i}@acme.de"][kind]
        guests = [{"email": f"g{i}@co{i % 25}.com"}] if i % 10 == 0 else []
        out.append(change(f"bk-{i}", email, guests=guests))
    return out


def main() -> None:
    from slotforce.package.mdapi import deploy

    with LocalOrg() as org:
        sf = org.client()
        status = deploy(sf)  # force-app with its Flows, through the Metadata API
        sf.session.close()
        print(f"package deployed to the local org: {status['state']}")
        print("\nAPI calls for one isolated booking change (warm engine; a cold one adds 1 describe call)")
        print(f"  {'scenario':48s} {'slotforce':>9s} {'Cal.com':>8s}  Booking Action status")
        worst = 0
        for name, calcom, n, statuses in scenarios(org):
            worst = max(worst, n)
            print(f"  {name:48s} {n:9d} {calcom:>8s}  {', '.join(statuses)}")
        print(f"  worst case: {worst} call(s) per booking (target <= 2)")

        org.reset()
        sf = org.client()
        acme = sf.Account.create({"Name": "Acme", "Website": "acme.com"})["id"]
        sf.Account.create({"Name": "Acme DE", "Website": "https://acme.de"})
        sf.Contact.create({"LastName": "Known", "Email": "known@acme.com", "AccountId": acme})
        eng = engine(sf, **ACCOUNT_MODE)
        batch = mixed_batch()
        start, t0 = calls(org), time.perf_counter()
        outs = eng.sync(batch)
        elapsed = time.perf_counter() - t0
        used = calls(org) - start
        counts: dict[str, int] = {}
        for o in outs:
            counts[o.status] = counts.get(o.status, 0) + 1
        print(f"\nbatch of {len(batch)} mixed bookings (existing contact, new contact under account by website,"
              f" new lead, free-email lead, cross-TLD match; 20 with a guest), Flows running:")
        # Cal.com per booking (§2): existing contact 3, contact by website 7, no account -> lead 9,
        # free-email lead 9, cross-TLD match 10; the batch has 40 of each kind
        calcom = 40 * (3 + 7 + 9 + 9 + 10)
        print(f"  API calls: {used} (target <= 8; Cal.com's per-booking counts add up to ~{calcom})")
        print(f"  time: {elapsed:.2f} s -> {len(batch) / elapsed:.0f} bookings/s through engine + local org")
        print(f"  outcomes: {counts}")
        start, t0 = calls(org), time.perf_counter()
        eng.sync(batch)
        print(f"  replay of the same batch: {calls(org) - start} API calls, {time.perf_counter() - t0:.2f} s, "
              f"Booking Actions in org: {sf.query('SELECT COUNT() FROM Booking_Action__c')['totalSize']}")
        t0 = time.perf_counter()
        from slotforce.sync.fetch import build_fetch
        from slotforce.sync.plan import plan_batch

        plan = build_fetch(batch, eng.settings, eng.describe_cache.as_dict())
        _, snap = eng.fetch(batch)
        t1 = time.perf_counter()
        for _ in range(5):
            plan_batch(batch, eng.settings, snap, eng.describe_cache.as_dict())
        per = (time.perf_counter() - t1) / 5
        print(f"  planning alone (pure): {per * 1000:.1f} ms per 200 -> {len(batch) / per:.0f} bookings/s"
              f"; fetch round trip {(t1 - t0) * 1000:.0f} ms for {len(plan.queries)} queries")
        sf.session.close()


if __name__ == "__main__":
    main()
