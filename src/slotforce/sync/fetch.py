"""What to query for a batch: at most five SOQL strings that fit one Composite call.

1. contacts  — Contacts by the batch's attendee emails (+ owner, account, current field values)
2. leads     — Leads by the same emails (+ conversion, so converted Leads resolve to their Contact)
3. users     — active Users by host emails and fallback usernames (organizer -> OwnerId)
4. accounts  — Accounts whose Website contains an attendee domain (exact, normalized and
               cross-TLD candidates, all in one query; classified in accounts.py)
5. domains   — Contact counts per Account for each attendee domain (an aggregate, so the
               majority is found without fetching the Contacts)

The accounts known only from the aggregate are fetched in a second round (`details_query`)
only when the waterfall actually reaches them and needs more than their id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slotforce.sync import soql
from slotforce.sync.booking import WHAT_PREFIXES, WHO_PREFIXES, Action, BookingChange
from slotforce.sync.describe import SObjectInfo
from slotforce.sync.domains import base_domain, is_free_email_domain
from slotforce.sync.settings import EventTypeSettings, Settings
from slotforce.sync.snapshot import (
    Snapshot, account_from, domain_counts_from, domain_counts_uncertain, domain_of, person_from, user_from,
)

MAX_QUERIES = 5
ACCOUNT_ROW_LIMIT = 2000  # one page of a Composite query answer
CHILD_COUNTS = ("ChildAccounts", "Opportunities", "Contacts")


def needs_lookup(change: BookingChange, ets: EventTypeSettings) -> bool:
    """Whether planning this change reads the org at all.

    New bookings resolve people, accounts and the owner. Later changes are applied by the Flows
    through Booking_Uid__c; only a cancel that writes to the Who record, or a seat that leaves,
    needs to find the person. So a reschedule or no-show costs one call (the write), not two.
    """
    if not ets.sync:
        return False
    if change.action == Action.CREATED:
        return True
    if _asks_event_who(change, ets):
        return True
    # a seat that leaves is taken off the Event by its person's id
    return change.action == Action.CANCELED and (bool(ets.on_cancel.write_to_record) or bool(change.seat_id))


def _asks_event_who(change: BookingChange, ets: EventTypeSettings) -> bool:
    """A no-show naming some attendees, for an event type whose `no_show_field` the engine writes on
    the Event: that field means the Event's Who missed it, so the Who must be known."""
    return (change.action in (Action.NO_SHOW, Action.NO_SHOW_CLEARED) and bool(ets.no_show_field)
            and bool(change.absentees))


def people_emails(change: BookingChange, ets: EventTypeSettings) -> list[str]:
    """The attendee first, then guests unless the event type ignores them."""
    people = [change.attendee] if change.attendee else []
    if not ets.ignore_guests:
        people += list(change.guests)
    return [p.email for p in people if p and p.email]


@dataclass
class FetchPlan:
    queries: dict[str, str] = field(default_factory=dict)  # referenceId -> SOQL
    later: dict[str, str] = field(default_factory=dict)  # queries past a Composite's five: a second call
    emails: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    value_fields: dict[str, list[str]] = field(default_factory=dict)  # sObject -> fields read for writes
    account_fields: list[str] = field(default_factory=list)
    sub_region_field: str | None = None
    contact_fields: list[str] = field(default_factory=list)  # what the contacts query selects


def _has(describes: dict[str, SObjectInfo] | None, sobject: str, name: str) -> bool | None:
    """True/False from describe; None when describe for the object is unknown."""
    if not describes or sobject not in describes:
        return None
    return describes[sobject].get(name) is not None


def _canonical(describes: dict[str, SObjectInfo] | None, sobject: str, name: str) -> str | None:
    """The field's API name if the org has it (or describe is unknown), else None (dropped)."""
    if not describes or sobject not in describes:
        return name
    info = describes[sobject].get(name)
    return info.name if info else None


def _value_fields(settings: Settings, changes: Iterable[BookingChange], describes: dict[str, SObjectInfo] | None) -> dict[str, list[str]]:
    """Fields whose current value the planner reads: `field_empty` mappings and round-robin rules."""
    wanted: dict[str, dict[str, None]] = {"Contact": {}, "Lead": {}, "Account": {}}
    for c in changes:
        ets, _ = settings.for_event_type(c.event_type_slug, c.event_type_ids)
        if not needs_lookup(c, ets):
            continue
        for m in [*ets.write_to_record, *ets.on_cancel.write_to_record]:
            if m.when == "field_empty":
                for sobject in ("Contact", "Lead"):
                    name = _canonical(describes, sobject, m.field)
                    if name:
                        wanted[sobject][name] = None
        rr_objects = ("Account",) if ets.round_robin.check_record_on == "account" else ("Contact", "Lead")
        for rule in ets.round_robin.field_rules:
            for sobject in rr_objects:
                name = _canonical(describes, sobject, rule.field)
                if name:
                    wanted[sobject][name] = None
    return {k: list(v) for k, v in wanted.items()}


def account_fields(describes: dict[str, SObjectInfo] | None, sub_region_field: str | None, want_record_type: bool,
                   value_fields: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    fields = ["Id", "Name", "Website", "OwnerId", "Owner.Email", "CreatedDate", "LastActivityDate",
              "BillingCountry", "BillingState"]
    # RecordType.Name only exists on orgs with Account record types; asking otherwise is INVALID_FIELD
    has_rt = _has(describes, "Account", "RecordTypeId")
    if has_rt or (has_rt is None and want_record_type):
        fields.append("RecordType.Name")
    if sub_region_field:
        name = _canonical(describes, "Account", sub_region_field)
        if name:
            fields.append(name)
    fields += [f for f in value_fields if f not in fields]
    fields += [f"(SELECT Id FROM {rel})" for rel in CHILD_COUNTS]
    return fields


def build_fetch(changes: list[BookingChange], settings: Settings, describes: dict[str, SObjectInfo] | None = None,
                *, round_robin: bool = False) -> FetchPlan:
    """The queries for a batch; `round_robin` also fetches Accounts for account-owner lookups."""
    plan = FetchPlan()
    emails: dict[str, None] = {}
    hosts: dict[str, None] = {}
    usernames: dict[str, None] = {}
    domains: dict[str, None] = {}
    fuzzy_bases: dict[str, None] = {}
    want_rt = False
    sub_region = None
    named: dict[str, dict[str, None]] = {"Contact": {}, "Lead": {}, "Account": {}, "Opportunity": {}}
    event_uids: dict[str, None] = {}
    for c in changes:
        ets, _ = settings.for_event_type(c.event_type_slug, c.event_type_ids)
        if not (round_robin or needs_lookup(c, ets)):
            continue
        if _asks_event_who(c, ets):
            event_uids.setdefault(c.booking_uid, None)
            continue
        want_rt = want_rt or bool(ets.exclude_record_types)
        if c.action == Action.CREATED:
            for record_id, kinds in ((c.who_id, WHO_PREFIXES), (c.what_id, WHAT_PREFIXES)):
                if record_id:
                    named[kinds[record_id[:3]]].setdefault(record_id, None)
        sub_region = sub_region or ets.tiebreaker.sub_region_field
        for e in people_emails(c, ets):
            emails.setdefault(e, None)
            d = domain_of(e)
            wants_accounts = ets.matches_accounts or (round_robin and ets.round_robin.check_record_on == "account")
            if wants_accounts and d and not is_free_email_domain(d, tuple(ets.free_email_domains)):
                domains.setdefault(d, None)
                base = base_domain(d)
                if ets.fuzzy_domain_matching and base and len(base[1]) >= 3:
                    fuzzy_bases.setdefault(base[1], None)
        for e in c.host_emails:
            hosts.setdefault(e, None)
        if ets.owner_fallback_user:
            usernames.setdefault(ets.owner_fallback_user.strip().lower(), None)

    plan.emails, plan.domains = list(emails), list(domains)
    plan.value_fields = _value_fields(settings, changes, describes)
    plan.sub_region_field = sub_region

    def where(by_email: str, sobject: str) -> str:
        ids = list(named[sobject])
        # a record the booking names is checked by the same query that matches people by email
        return soql.any_of([w for w in (by_email if emails else None, f"Id IN {soql.in_list(ids)}" if ids else None) if w])

    if emails or named["Contact"] or named["Lead"]:
        contact_fields = ["Id", "Email", "OwnerId", "Owner.Email", "Owner.Name", "AccountId",
                          "Account.OwnerId", "Account.Owner.Email"]
        if _has(describes, "Account", "RecordTypeId") or (want_rt and _has(describes, "Account", "RecordTypeId") is None):
            contact_fields.append("Account.RecordType.Name")
        if _has(describes, "Contact", "RecordTypeId"):
            contact_fields.append("RecordType.Name")
        plan.contact_fields = contact_fields + plan.value_fields["Contact"]
        plan.queries["contacts"] = soql.select(
            plan.contact_fields, "Contact",
            where(f"Email IN {soql.in_list(emails)}", "Contact"), tail="ORDER BY CreatedDate ASC")
        lead_fields = ["Id", "Email", "OwnerId", "Owner.Email", "Owner.Name", "IsConverted",
                       "ConvertedContactId", "ConvertedAccountId"]
        if _has(describes, "Lead", "RecordTypeId"):
            lead_fields.append("RecordType.Name")
        plan.queries["leads"] = soql.select(
            lead_fields + plan.value_fields["Lead"], "Lead",
            where(f"Email IN {soql.in_list(emails)}", "Lead"), tail="ORDER BY CreatedDate ASC")
    if hosts or usernames:
        who = []
        if hosts:
            who.append(f"Email IN {soql.in_list(hosts)}")
        if usernames:
            who.append(f"Username IN {soql.in_list(usernames)}")
            who.append(f"Email IN {soql.in_list(usernames)}")
        plan.queries["users"] = soql.select(
            ["Id", "Email", "Username", "Name", "IsActive"], "User",
            f"IsActive = true AND {soql.any_of(who)}")
    if domains or named["Account"]:
        plan.account_fields = account_fields(describes, sub_region, want_rt, plan.value_fields.get("Account", []))
        # one LIKE per domain covers exact variants and normalized websites; fuzzy adds the base label
        likes = [f"Website LIKE {soql.like_pattern(d, prefix='%', suffix='%')}" for d in domains]
        likes += [f"Website LIKE {soql.like_pattern(b, prefix='%', suffix='%')}" for b in fuzzy_bases]
        if named["Account"]:
            likes.append(f"Id IN {soql.in_list(list(named['Account']))}")
        plan.queries["accounts"] = soql.select(
            plan.account_fields, "Account", soql.any_of(likes),
            tail=f"ORDER BY CreatedDate ASC LIMIT {ACCOUNT_ROW_LIMIT}")
    if domains:
        contact_likes = [f"Email LIKE {soql.like_pattern('@' + d, prefix='%')}" for d in domains]
        aggregates = "AccountId, COUNT(Id) n" + (", MIN(Email) lo, MAX(Email) hi" if len(domains) > 1 else "")
        plan.queries["domains"] = (
            f"SELECT {aggregates} FROM Contact WHERE AccountId != null AND {soql.any_of(contact_likes)} "
            f"GROUP BY AccountId")
    if named["Opportunity"]:
        query = soql.select(["Id", "AccountId"], "Opportunity", f"Id IN {soql.in_list(list(named['Opportunity']))}")
        (plan.queries if len(plan.queries) < MAX_QUERIES else plan.later)["opportunities"] = query
    if event_uids:
        query = soql.select(["Booking_Uid__c", "Who.Email"], "Event", f"Booking_Uid__c IN {soql.in_list(list(event_uids))}")
        (plan.queries if len(plan.queries) < MAX_QUERIES else plan.later)["eventWhos"] = query
    assert len(plan.queries) <= MAX_QUERIES
    return plan


def domain_count_query(domain: str) -> str:
    """Contacts per Account for one email domain: exact, unlike the batch's several-domain aggregate."""
    return (f"SELECT AccountId, COUNT(Id) n FROM Contact WHERE AccountId != null AND "
            f"Email LIKE {soql.like_pattern('@' + domain, prefix='%')} GROUP BY AccountId")


def contacts_by_id_query(plan: FetchPlan, contact_ids: list[str]) -> str:
    """The Contacts converted Leads point at, with the same fields as the contacts query (their
    email may differ from the booking's, so the query by email did not return them)."""
    fields = plan.contact_fields or ["Id", "Email", "OwnerId", "Owner.Email", "Owner.Name", "AccountId"]
    return soql.select(fields, "Contact", f"Id IN {soql.in_list(contact_ids)}")


def details_query(plan: FetchPlan, account_ids: list[str]) -> str:
    fields = plan.account_fields or account_fields(None, plan.sub_region_field, False)
    return soql.select(fields, "Account", f"Id IN {soql.in_list(account_ids)}")


def snapshot_from(plan: FetchPlan, results: dict[str, dict[str, Any]]) -> Snapshot:
    """Turn the query answers (referenceId -> query body) into a Snapshot."""
    snap = Snapshot()
    for r in results.get("eventWhos", {}).get("records", []):
        snap.event_who_emails[r["Booking_Uid__c"]] = ((r.get("Who") or {}).get("Email") or "").lower() or None
    for r in results.get("opportunities", {}).get("records", []):
        snap.opportunities[r["Id"]] = r.get("AccountId")
    for r in results.get("contacts", {}).get("records", []):
        p = person_from(r, "Contact", plan.value_fields.get("Contact", []))
        snap.contacts.setdefault(p.email, []).append(p)
        snap.contacts_by_id[p.id] = p
    for r in results.get("leads", {}).get("records", []):
        p = person_from(r, "Lead", plan.value_fields.get("Lead", []))
        snap.leads.setdefault(p.email, []).append(p)
        snap.leads_by_id[p.id] = p
    for r in results.get("users", {}).get("records", []):
        u = user_from(r)
        snap.users_by_email.setdefault(u.email, u)
        if u.username:
            snap.users_by_username[u.username] = u
    for r in results.get("accounts", {}).get("records", []):
        snap.accounts[r["Id"]] = account_from(r, plan.sub_region_field, plan.value_fields.get("Account", []))
    if "domains" in results:
        rows = results["domains"].get("records", [])
        snap.domain_counts = domain_counts_from(rows, plan.domains)
        if domain_counts_uncertain(rows, plan.domains):
            snap.recount_domains = set(plan.domains)
    snap.fetched = set(results)
    return snap
