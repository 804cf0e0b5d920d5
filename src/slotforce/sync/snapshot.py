"""The org data fetched for one batch, as plain dataclasses the planner reads (no API calls here).

Everything the planner may look at is fetched before planning (see fetch.py), so planning is a
pure function of (changes, settings, snapshot). `from_query_results` turns the query answers of
the fetch Composite into a Snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PersonRecord:
    """A Contact or Lead found by email."""

    id: str
    sobject: str  # "Contact" or "Lead"
    email: str
    owner_id: str | None = None
    owner_email: str | None = None
    owner_name: str | None = None
    record_type: str | None = None
    account_id: str | None = None  # Contact only
    account_owner_id: str | None = None
    account_owner_email: str | None = None
    account_record_type: str | None = None
    is_converted: bool = False  # Lead only
    converted_contact_id: str | None = None
    converted_account_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)  # current values of mapped/rule fields


@dataclass(frozen=True)
class UserRecord:
    id: str
    email: str
    username: str | None = None
    name: str | None = None
    is_active: bool = True


@dataclass(frozen=True)
class AccountRecord:
    id: str
    name: str | None = None
    website: str | None = None
    owner_id: str | None = None
    owner_email: str | None = None
    record_type: str | None = None
    billing_country: str | None = None
    billing_state: str | None = None
    sub_region: str | None = None
    child_accounts: int | None = None
    opportunities: int | None = None
    contacts: int | None = None
    last_activity: str | None = None  # YYYY-MM-DD
    created_date: str | None = None  # ISO datetime
    detailed: bool = True  # False: only the id is known (from the domain aggregate)
    values: dict[str, Any] = field(default_factory=dict)  # round-robin rule fields


@dataclass(frozen=True)
class DomainCount:
    """How many Contacts with an @domain email an Account has (from one aggregate query)."""

    account_id: str
    count: int


@dataclass
class Snapshot:
    contacts: dict[str, list[PersonRecord]] = field(default_factory=dict)  # by lower-case email
    leads: dict[str, list[PersonRecord]] = field(default_factory=dict)
    users_by_email: dict[str, UserRecord] = field(default_factory=dict)
    users_by_username: dict[str, UserRecord] = field(default_factory=dict)
    contacts_by_id: dict[str, PersonRecord] = field(default_factory=dict)
    leads_by_id: dict[str, PersonRecord] = field(default_factory=dict)
    opportunities: dict[str, str | None] = field(default_factory=dict)  # named Opportunity id -> its AccountId
    event_who_emails: dict[str, str | None] = field(default_factory=dict)  # Booking_Uid__c -> the Event's Who's email
    accounts: dict[str, AccountRecord] = field(default_factory=dict)
    domain_counts: dict[str, list[DomainCount]] = field(default_factory=dict)  # by email domain
    fetched: set[str] = field(default_factory=set)  # which queries ran: contacts, leads, users, ...
    # domains whose counts came from a several-domain aggregate that may mix domains (see
    # domain_counts_uncertain); the waterfall asks for them to be counted alone before using them
    recount_domains: set[str] = field(default_factory=set)

    def user(self, email_or_username: str | None) -> UserRecord | None:
        if not email_or_username:
            return None
        key = email_or_username.strip().lower()
        return self.users_by_username.get(key) or self.users_by_email.get(key)

    def named_person(self, record_id: str) -> PersonRecord | None:
        """A Lead or Contact a booking named, by its 15- or 18-character id."""
        return _by_id(self.contacts_by_id, record_id) or _by_id(self.leads_by_id, record_id)

    def named_account(self, record_id: str) -> AccountRecord | None:
        return _by_id(self.accounts, record_id)

    def named_opportunity(self, record_id: str) -> tuple[str, str | None] | None:
        """(the Opportunity's 18-character id, its AccountId) when it exists."""
        found = next((i for i in self.opportunities if i[:15] == record_id[:15]), None)
        return (found, self.opportunities[found]) if found else None

    def merge_accounts(self, accounts: list[AccountRecord]) -> None:
        for a in accounts:
            self.accounts[a.id] = a


def _by_id(records: dict[str, Any], record_id: str) -> Any:
    # ids compare case-sensitively on their first 15 characters (the 3 more only encode the case)
    return records.get(record_id) or next((r for i, r in records.items() if i[:15] == record_id[:15]), None)


def _get(record: dict[str, Any] | None, path: str) -> Any:
    """`Account.Owner.Email` from a query record; None when any parent is null."""
    cur: Any = record
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        # response keys use canonical casing; be lenient in case a server differs
        if part in cur:
            cur = cur[part]
        else:
            lowered = {k.lower(): v for k, v in cur.items()}
            cur = lowered.get(part.lower())
    return cur


def _size(record: dict[str, Any], relationship: str) -> int | None:
    child = _get(record, relationship)
    if child is None:
        return 0 if relationship in record else None
    return int(child.get("totalSize", len(child.get("records", []))))


def _lower(value: Any) -> str | None:
    return str(value).strip().lower() if value else None


def person_from(record: dict[str, Any], sobject: str, value_fields: list[str]) -> PersonRecord:
    return PersonRecord(
        id=record["Id"],
        sobject=sobject,
        email=_lower(record.get("Email")) or "",
        owner_id=record.get("OwnerId"),
        owner_email=_lower(_get(record, "Owner.Email")),
        owner_name=_get(record, "Owner.Name"),
        record_type=_get(record, "RecordType.Name"),
        account_id=record.get("AccountId") if sobject == "Contact" else None,
        account_owner_id=_get(record, "Account.OwnerId"),
        account_owner_email=_lower(_get(record, "Account.Owner.Email")),
        account_record_type=_get(record, "Account.RecordType.Name"),
        is_converted=bool(record.get("IsConverted")),
        converted_contact_id=record.get("ConvertedContactId"),
        converted_account_id=record.get("ConvertedAccountId"),
        values={f: _get(record, f) for f in value_fields},
    )


def account_from(record: dict[str, Any], sub_region_field: str | None = None, value_fields: list[str] = ()) -> AccountRecord:  # type: ignore[assignment]
    return AccountRecord(
        id=record["Id"],
        name=record.get("Name"),
        website=record.get("Website"),
        owner_id=record.get("OwnerId"),
        owner_email=_lower(_get(record, "Owner.Email")),
        record_type=_get(record, "RecordType.Name"),
        billing_country=record.get("BillingCountry"),
        billing_state=record.get("BillingState"),
        sub_region=_get(record, sub_region_field) if sub_region_field else None,
        child_accounts=_size(record, "ChildAccounts"),
        opportunities=_size(record, "Opportunities"),
        contacts=_size(record, "Contacts"),
        last_activity=record.get("LastActivityDate"),
        created_date=record.get("CreatedDate"),
        values={f: _get(record, f) for f in value_fields},
    )


def user_from(record: dict[str, Any]) -> UserRecord:
    return UserRecord(
        id=record["Id"],
        email=_lower(record.get("Email")) or "",
        username=_lower(record.get("Username")),
        name=record.get("Name"),
        is_active=bool(record.get("IsActive", True)),
    )


def domain_of(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower().rstrip(".") or None


def domain_counts_uncertain(records: list[dict[str, Any]], domains: list[str]) -> bool:
    """Whether the several-domain aggregate may have mixed domains in one Account's count.

    A row's MIN/MAX email tell the domain of at most two of its Contacts: with 1 or 2 Contacts the
    row is exact, with 3 or more the ones in between may be of any batch domain (an Account with
    one @acme.com and five @beta.io Contacts would count 6 for acme.com and win it).
    """
    return len(domains) > 1 and any(int(r.get("n") or r.get("expr0") or 0) > 2 for r in records)


def domain_counts_from(records: list[dict[str, Any]], domains: list[str]) -> dict[str, list[DomainCount]]:
    """Attribute aggregate rows (AccountId, n, lo, hi) to the batch's email domains.

    With one domain every row belongs to it. With several, the row's MIN/MAX email tell the
    domain; an Account whose Contacts span two batch domains is counted for both, so when a row
    may mix domains (domain_counts_uncertain) the engine recounts a domain alone before use.
    """
    out: dict[str, list[DomainCount]] = defaultdict(list)
    for r in records:
        account_id = r.get("AccountId")
        if not account_id:
            continue
        n = int(r.get("n") or r.get("expr0") or 0)
        if len(domains) == 1:
            out[domains[0]].append(DomainCount(account_id, n))
            continue
        seen = {domain_of(r.get("lo")), domain_of(r.get("hi"))} & set(domains)
        for d in seen:
            out[d].append(DomainCount(account_id, n))
    return dict(out)
