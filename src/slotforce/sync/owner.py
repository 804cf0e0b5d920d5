"""Round-robin "book with the owner": whose calendar a booker should land on (pure core).

`round_robin_owner` decides from fetched data; `slotforce.sync.engine.owner_for` fetches (one
Composite call) and calls it. Only owners who are hosts of the event type are returned, so the
scheduler can always honour the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slotforce.sync.accounts import account_waterfall
from slotforce.sync.booking import Geo
from slotforce.sync.domains import is_free_email_domain
from slotforce.sync.settings import EventTypeSettings, FieldRule
from slotforce.sync.snapshot import PersonRecord, Snapshot, domain_of
from slotforce.sync.trace import Trace


@dataclass(frozen=True)
class OwnerLookup:
    """The answer: owner email, the record that decided, and why (Cal.com's RoutingReasons)."""

    email: str
    record_id: str
    record_type: str  # Contact, Lead, Account
    reason: str  # contact_owner, lead_owner, account_owner

    def as_dict(self) -> dict[str, str]:
        return {"email": self.email, "record_id": self.record_id, "record_type": self.record_type, "reason": self.reason}


def passes_rules(values: dict[str, Any], rules: list[FieldRule], trace: Trace, record_id: str) -> bool:
    """AND of the rules; a record without the field skips that rule (as Cal.com does)."""
    lowered = {k.lower(): v for k, v in values.items()}
    for rule in rules:
        key = rule.field.lower()
        if key not in lowered:
            continue
        value = lowered[key]
        equal = str(value if value is not None else "").strip().lower() == rule.value.strip().lower()
        if (rule.action == "ignore" and equal) or (rule.action == "must_include" and not equal):
            trace.add("field_rule_filtered_record", recordId=record_id, field=rule.field, action=rule.action)
            return False
    return True


def round_robin_owner(email: str, ets: EventTypeSettings, snapshot: Snapshot, hosts: tuple[str, ...],
                      trace: Trace, *, geo: Geo = Geo()) -> OwnerLookup | None:
    rr = ets.round_robin
    email = email.strip().lower()
    if not rr.book_with_owner:
        trace.add("owner_lookup_skipped", reason="book_with_owner is off")
        return None
    domain = domain_of(email)
    if rr.skip_free_email_domains and is_free_email_domain(domain, tuple(ets.free_email_domains)):
        trace.add("owner_lookup_skipped", reason="free_email_domain", domain=domain)
        return None
    host_set = {h.lower() for h in hosts}

    def pick(records: list[PersonRecord], reason: str) -> OwnerLookup | None:
        for r in records:
            if r.sobject == "Lead" and r.is_converted:
                continue
            if not passes_rules(r.values, rr.field_rules, trace, r.id):
                continue
            if r.owner_email:
                trace.add(f"{r.sobject.lower()}_owner_lookup", recordId=r.id, ownerEmail=r.owner_email)
                return OwnerLookup(r.owner_email, r.id, r.sobject, reason)
        return None

    found: OwnerLookup | None = None
    if rr.check_record_on == "contact":
        found = pick(snapshot.contacts.get(email, []), "contact_owner")
        if found is None and rr.fallback_to_lead_owner:
            found = pick(snapshot.leads.get(email, []), "lead_owner")
    elif rr.check_record_on == "lead":
        found = pick(snapshot.leads.get(email, []), "lead_owner")
    else:
        for c in snapshot.contacts.get(email, []):
            account = snapshot.accounts.get(c.account_id or "")
            owner = (account.owner_email if account else None) or c.account_owner_email
            values = account.values if account else {}
            if c.account_id and owner and passes_rules(values, rr.field_rules, trace, c.account_id):
                trace.add("account_owner_lookup", accountId=c.account_id, ownerEmail=owner, via="contact")
                found = OwnerLookup(owner, c.account_id, "Account", "account_owner")
                break
        if found is None:
            ruled = Snapshot(accounts={k: a for k, a in snapshot.accounts.items()
                                       if passes_rules(a.values, rr.field_rules, trace, a.id)},
                             domain_counts=snapshot.domain_counts, recount_domains=snapshot.recount_domains)
            match = account_waterfall(email, ets, ruled, trace, geo=geo, hosts=hosts)
            if match.needs_more:
                trace.add("needs_details", ids=list(match.needs_details), domains=list(match.needs_counts))
                return None
            if match.account and match.account.owner_email:
                trace.add("account_owner_lookup", accountId=match.account.id, ownerEmail=match.account.owner_email, via=match.method)
                found = OwnerLookup(match.account.owner_email, match.account.id, "Account", "account_owner")
    if found is None:
        trace.add("owner_not_found", email=email)
        return None
    if host_set and found.email.lower() not in host_set:
        trace.add("owner_not_a_host", ownerEmail=found.email)
        return None
    trace.add("owner_validated", ownerEmail=found.email, reason=found.reason)
    return found
