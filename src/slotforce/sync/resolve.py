"""Who the attendee is in Salesforce: an existing Contact or Lead, a new one, or nobody (pure).

Modes (EventTypeSettings.create_event_on):
- contact: the Contact with the email, else a new Contact (no Account).
- lead: the Lead with the email (a Contact first when check_for_existing_contact); else, with
  create_contact_under_account and a matched Account, a Contact under it; else a new Lead.
- contact_under_account: the Contact with the email that has an Account; else the matched
  Account gets a Contact (create_contact_under_account) or, with no Account, a Lead is used or
  created (create_lead_if_no_account); otherwise nothing is written and the reason is recorded.
Everywhere: a converted Lead resolves to its Contact; records of an excluded record type (or
under an Account of one) are skipped on lookup; skip_contact_creation never creates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from slotforce.sync.accounts import AccountMatch, account_waterfall
from slotforce.sync.booking import BookingChange, Person
from slotforce.sync.describe import SObjectInfo
from slotforce.sync.domains import company_from_domain, is_free_email_domain
from slotforce.sync.settings import EventTypeSettings
from slotforce.sync.snapshot import AccountRecord, PersonRecord, Snapshot, domain_of
from slotforce.sync.trace import Trace
from slotforce.sync.writes import render_text, truncate


@dataclass(frozen=True)
class NewRecord:
    """A Lead or Contact to create; `key` dedupes the same new person across a batch."""

    sobject: str
    email: str
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.sobject, self.email)


@dataclass(frozen=True)
class WhoDecision:
    email: str | None
    outcome: Literal["existing", "create", "reparent", "skip", "needs_details"]
    sobject: str | None = None
    record: PersonRecord | None = None
    new: NewRecord | None = None
    account: AccountRecord | None = None
    match: AccountMatch | None = None
    reason: str = ""

    @property
    def who_id(self) -> str | None:
        return self.record.id if self.record else None

    @property
    def account_id(self) -> str | None:
        if self.account:
            return self.account.id
        return self.record.account_id if self.record and self.record.sobject == "Contact" else None


def _excluded(p: PersonRecord, excluded: set[str]) -> bool:
    return bool(excluded) and any(rt and rt.strip().lower() in excluded for rt in (p.record_type, p.account_record_type))


# Lead.Company for a booker with a free-mail address and no company answer (Web-to-Lead's convention).
COMPANY_NOT_PROVIDED = "[not provided]"


def split_name(person: Person) -> tuple[str | None, str]:
    """(FirstName, LastName); LastName is required: a one-word name is the LastName ("Madonna"),
    and the email stands in when there is no name at all."""
    if person.last_name:
        return person.first_name, person.last_name
    if person.first_name:
        return None, person.first_name
    parts = (person.name or "").split()
    if len(parts) >= 2:
        return parts[0], " ".join(parts[1:])
    if len(parts) == 1:
        return None, parts[0]
    return None, person.email or "-"


def new_person_fields(sobject: str, person: Person, change: BookingChange, ets: EventTypeSettings,
                      owner_id: str | None, account: AccountRecord | None,
                      describes: dict[str, SObjectInfo] | None, *, primary: bool = True) -> dict[str, Any]:
    first, last = split_name(person)
    body: dict[str, Any] = {"LastName": truncate(last, 80), "Email": person.email}
    if first:
        body["FirstName"] = truncate(first, 40)
    if owner_id:
        body["OwnerId"] = owner_id
    if person.phone:
        body["Phone"] = truncate(person.phone, 40)
    if sobject == "Contact" and account:
        body["AccountId"] = account.id
    if sobject == "Lead":
        company = None
        for m in (ets.write_to_record if primary else []):  # booking answers describe the booker only
            if m.field.lower() == "company" and isinstance(m.value, str):
                company = render_text(m.value, change) or None
        body["Company"] = truncate(company or _company(person, change, ets, primary), 255)
        info = (describes or {}).get("Lead")
        if info is not None and info.get("Created_By_Scheduler__c") is not None:
            body["Created_By_Scheduler__c"] = True
    return body


def _company(person: Person, change: BookingChange, ets: EventTypeSettings, primary: bool) -> str:
    """A new Lead's Company when no mapping gives one: the email's domain (`acme` for
    `mail.acme.co.uk`); a free-mail domain names no company, so the booker's `company` answer, else
    "[not provided]"."""
    domain = domain_of(person.email)
    if not is_free_email_domain(domain, tuple(ets.free_email_domains)):
        return company_from_domain(domain) or COMPANY_NOT_PROVIDED
    answers = change.answers if primary else {}  # booking answers describe the booker only
    return next((v.strip() for k, v in answers.items() if k.strip().lower() == "company" and v.strip()),
                COMPANY_NOT_PROVIDED)


def resolve_who(person: Person | None, change: BookingChange, ets: EventTypeSettings, snapshot: Snapshot,
                trace: Trace, *, owner_id: str | None = None, describes: dict[str, SObjectInfo] | None = None,
                hosts: tuple[str, ...] = (), primary: bool = True) -> WhoDecision:
    email = person.email if person else None
    if not person or not email:
        trace.add("attendee_skipped", reason="missing_attendee_email")
        return WhoDecision(None, "skip", reason="missing_attendee_email")
    excluded = {r.strip().lower() for r in ets.exclude_record_types}

    def usable(records: list[PersonRecord]) -> list[PersonRecord]:
        kept = []
        for r in records:
            if _excluded(r, excluded):
                trace.add("record_type_excluded", recordId=r.id, sobject=r.sobject, recordType=r.record_type or r.account_record_type)
            else:
                kept.append(r)
        return kept

    contacts = usable(snapshot.contacts.get(email, []))
    leads = usable(snapshot.leads.get(email, []))
    open_leads = [r for r in leads if not r.is_converted]

    def found(r: PersonRecord, why: str) -> WhoDecision:
        trace.add(f"{r.sobject.lower()}_found", recordId=r.id, email=email, why=why)
        return WhoDecision(email, "existing", r.sobject, record=r, reason=why)

    def existing_contact(with_account: bool = False) -> PersonRecord | None:
        for c in contacts:
            if c.account_id or not with_account:
                return c
        for lead in leads:
            if lead.is_converted and lead.converted_contact_id:
                c = snapshot.contacts_by_id.get(lead.converted_contact_id) or PersonRecord(
                    id=lead.converted_contact_id, sobject="Contact", email=email,
                    account_id=lead.converted_account_id)
                if _excluded(c, excluded) or (with_account and not c.account_id):
                    continue
                trace.add("converted_lead_resolved", leadId=lead.id, contactId=c.id)
                return c
        return None

    def create(sobject: str, account: AccountRecord | None, match: AccountMatch | None, why: str) -> WhoDecision:
        if ets.skip_contact_creation:
            trace.add("attendee_skipped", reason="skip_contact_creation", email=email)
            return WhoDecision(email, "skip", reason="skip_contact_creation")
        body = new_person_fields(sobject, person, change, ets, owner_id, account, describes, primary=primary)
        trace.add("record_created", sobject=sobject, email=email, accountId=account.id if account else None, why=why)
        return WhoDecision(email, "create", sobject, new=NewRecord(sobject, email, body), account=account, match=match, reason=why)

    def under_account(match: AccountMatch) -> WhoDecision:
        account = match.account
        assert account is not None
        c = existing_contact()
        if c and not c.account_id:
            trace.add("contact_reparented", contactId=c.id, accountId=account.id)
            return WhoDecision(email, "reparent", "Contact", record=c, account=account, match=match, reason="contact_under_matched_account")
        if c:
            return found(c, "existing_contact")
        return create("Contact", account, match, "contact_under_matched_account")

    mode = ets.create_event_on
    if mode == "contact":
        c = existing_contact()
        return found(c, "contact_by_email") if c else create("Contact", None, None, "no_contact_with_email")

    if mode == "lead":
        if ets.check_for_existing_contact and (c := existing_contact()):
            return found(c, "existing_contact_preferred")
        if open_leads:
            return found(open_leads[0], "lead_by_email")
        if c := existing_contact():  # only converted Leads (or contacts) remain for this email
            if any(lead.is_converted for lead in leads):
                return found(c, "converted_lead")
        if ets.create_contact_under_account:
            match = account_waterfall(email, ets, snapshot, trace, geo=change.geo, hosts=hosts)
            if match.needs_more:
                return WhoDecision(email, "needs_details", match=match)
            if match.account:
                return under_account(match)
        return create("Lead", None, None, "no_lead_with_email")

    # contact_under_account
    if c := existing_contact(with_account=True):
        return found(c, "contact_with_account")
    match = account_waterfall(email, ets, snapshot, trace, geo=change.geo, hosts=hosts)
    if match.needs_more:
        return WhoDecision(email, "needs_details", match=match)
    if match.account:
        if ets.create_contact_under_account:
            return under_account(match)
        trace.add("attendee_skipped", reason="account_found_but_create_contact_under_account_off", accountId=match.account.id)
        return WhoDecision(email, "skip", account=match.account, match=match,
                           reason="account_found_but_create_contact_under_account_off")
    if ets.create_lead_if_no_account:
        if open_leads:
            return found(open_leads[0], "lead_by_email_no_account")
        return create("Lead", None, match, "no_account_found")
    trace.add("attendee_skipped", reason="no_account_and_create_lead_if_no_account_off")
    return WhoDecision(email, "skip", match=match, reason="no_account_and_create_lead_if_no_account_off")


def named_who(change: BookingChange, ets: EventTypeSettings, snapshot: Snapshot, trace: Trace) -> WhoDecision | None:
    """The Lead or Contact the booking names (Calendly's salesforce_uuid, api who_id), when it exists
    and may be used; None (and why, in the trace) sends the booking to matching by email."""
    if not change.who_id:
        return None
    record = snapshot.named_person(change.who_id)
    why = None
    if record is None:
        why = "no such Lead or Contact (deleted, or not visible to the integration user)"
    elif record.is_converted:
        why = "the Lead is converted"
    elif _excluded(record, {r.strip().lower() for r in ets.exclude_record_types}):
        why = f"record type {record.record_type or record.account_record_type} is excluded"
    if why is not None or record is None:
        trace.add("named_record_not_used", recordId=change.who_id, reason=why, fallback="match by email")
        return None
    trace.add("named_record_used", recordId=record.id, sobject=record.sobject)
    return WhoDecision(record.email or (change.attendee.email if change.attendee else None), "existing",
                       record.sobject, record=record, reason="named by the booking")


def named_what(change: BookingChange, who: WhoDecision | None, snapshot: Snapshot, trace: Trace) -> str | None:
    """The Account or Opportunity the booking names, for the Event's WhatId: when it exists and the
    Who is not a Lead (Salesforce relates a Lead to no Account or Opportunity)."""
    if not change.what_id:
        return None
    if who is not None and who.sobject == "Lead":
        trace.add("named_what_not_used", recordId=change.what_id, reason="the Who is a Lead")
        return None
    account = snapshot.named_account(change.what_id) if change.what_id.startswith("001") else None
    opportunity = snapshot.named_opportunity(change.what_id) if change.what_id.startswith("006") else None
    found = account.id if account else (opportunity[0] if opportunity else None)
    if found is None:
        trace.add("named_what_not_used", recordId=change.what_id, reason="no such Account or Opportunity")
        return None
    trace.add("named_what_used", recordId=found)
    return found


def lookup_who(person: Person | None, ets: EventTypeSettings, snapshot: Snapshot, trace: Trace) -> WhoDecision:
    """The existing Who record for a later change (reschedule, cancel, no-show): never creates."""
    email = person.email if person else None
    if not email:
        trace.add("who_lookup_skipped", reason="no attendee email on this change")
        return WhoDecision(None, "skip", reason="missing_attendee_email")
    excluded = {r.strip().lower() for r in ets.exclude_record_types}
    contacts = [c for c in snapshot.contacts.get(email, []) if not _excluded(c, excluded)]
    leads = [r for r in snapshot.leads.get(email, []) if not _excluded(r, excluded)]
    order = (contacts, [r for r in leads if not r.is_converted]) if ets.create_event_on != "lead" or ets.check_for_existing_contact \
        else ([r for r in leads if not r.is_converted], contacts)
    for group in order:
        if group:
            trace.add(f"{group[0].sobject.lower()}_found", recordId=group[0].id, email=email, why="lookup")
            return WhoDecision(email, "existing", group[0].sobject, record=group[0], reason="lookup")
    for lead in leads:
        if lead.is_converted and lead.converted_contact_id:
            c = snapshot.contacts_by_id.get(lead.converted_contact_id) or PersonRecord(
                id=lead.converted_contact_id, sobject="Contact", email=email, account_id=lead.converted_account_id)
            trace.add("converted_lead_resolved", leadId=lead.id, contactId=c.id)
            return WhoDecision(email, "existing", "Contact", record=c, reason="converted_lead")
    trace.add("who_not_found", email=email)
    return WhoDecision(email, "skip", reason="no_record_with_email")
