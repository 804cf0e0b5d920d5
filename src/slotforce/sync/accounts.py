"""Which Account an email belongs to: the domain waterfall and the tie-breaker (pure).

Waterfall, first step with a surviving candidate wins:
1. exact_website       Website is one of the six variants of the email domain
2. normalized_website  Website normalizes to the domain (scheme, www, path, port, case)
3. contact_domain      the Accounts with most Contacts @domain (by frequency tier)
4. fuzzy               same registrable label under another TLD (acme.de for acme.com), if enabled
Free email domains never match. Every step drops excluded record types (case-insensitive) and,
for round robin, Accounts not owned by a host (keeping one per owner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Callable

from slotforce.sync.booking import Geo
from slotforce.sync.domains import base_domain, is_free_email_domain, normalize_website, website_variants
from slotforce.sync.settings import EventTypeSettings, Tiebreaker
from slotforce.sync.snapshot import AccountRecord, Snapshot, domain_of
from slotforce.sync.trace import Trace


@dataclass(frozen=True)
class AccountMatch:
    account: AccountRecord | None = None
    method: str | None = None  # exact_website | normalized_website | contact_domain | fuzzy
    decisive_rule: str | None = None
    needs_details: tuple[str, ...] = ()  # Account ids to fetch before this can be decided
    needs_counts: tuple[str, ...] = ()  # email domains to count alone before this can be decided

    @property
    def needs_more(self) -> bool:
        return bool(self.needs_details or self.needs_counts)


NO_MATCH = AccountMatch()

# A few spellings so booker geo ("US") meets BillingCountry ("United States"). Not exhaustive:
# admins who store ISO codes or names consistently match without it.
_COUNTRY_ALIASES = {
    "us": "united states", "usa": "united states", "united states of america": "united states",
    "uk": "united kingdom", "gb": "united kingdom", "great britain": "united kingdom",
    "de": "germany", "deutschland": "germany", "fr": "france", "es": "spain", "it": "italy",
    "nl": "netherlands", "ca": "canada", "au": "australia", "in": "india", "jp": "japan",
    "br": "brazil", "mx": "mexico", "ch": "switzerland", "at": "austria", "ie": "ireland",
}


def _geo_key(value: str | None, aliases: dict[str, str] | None = None) -> str | None:
    if not value:
        return None
    v = value.strip().lower().replace(".", "")
    return (aliases or {}).get(v, v)


def _filter(candidates: list[AccountRecord], ets: EventTypeSettings, hosts: tuple[str, ...], trace: Trace, step: str) -> list[AccountRecord]:
    excluded = {r.strip().lower() for r in ets.exclude_record_types}
    kept = []
    for a in candidates:
        if excluded and a.record_type and a.record_type.strip().lower() in excluded:
            trace.add("record_type_excluded", matchMethod=step, accountId=a.id, recordType=a.record_type)
            continue
        kept.append(a)
    if hosts:
        host_set = {h.lower() for h in hosts}
        owners: set[str] = set()
        eligible = []
        for a in kept:
            owner = (a.owner_email or "").lower()
            if owner not in host_set or owner in owners:
                continue
            owners.add(owner)
            eligible.append(a)
        trace.add("host_filter_summary", matchMethod=step, before=len(kept), after=len(eligible))
        kept = eligible
    return kept


def _max_rule(get: Callable[[AccountRecord], object]) -> Callable[[list[AccountRecord]], list[AccountRecord]]:
    def rule(cands: list[AccountRecord]) -> list[AccountRecord]:
        vals = [(a, get(a)) for a in cands if get(a) is not None]
        if not vals:
            return cands
        best = max(v for _, v in vals)  # type: ignore[type-var]
        return [a for a, v in vals if v == best]
    return rule


def _created(a: AccountRecord) -> object:
    if not a.created_date:
        return None
    # oldest wins: negate the timestamp so one "max" helper serves every rule
    return -datetime.fromisoformat(a.created_date.replace("Z", "+00:00").replace("+0000", "+00:00")).timestamp()


def _geo_rule(get: Callable[[AccountRecord], str | None], want: str | None, aliases: dict[str, str] | None = None) -> Callable[[list[AccountRecord]], list[AccountRecord]]:
    def rule(cands: list[AccountRecord]) -> list[AccountRecord]:
        target = _geo_key(want, aliases)
        if not target:
            return cands
        same = [a for a in cands if _geo_key(get(a), aliases) == target]
        return same or cands
    return rule


def tiebreak(candidates: list[AccountRecord], config: Tiebreaker, geo: Geo, trace: Trace) -> tuple[AccountRecord, str]:
    """One Account from several: dedupe by owner, then the configured rules, then lowest Id."""
    if not candidates:
        raise ValueError("tiebreak needs at least one candidate")
    if len(candidates) == 1:
        return candidates[0], "single_candidate"
    seen: set[str] = set()
    deduped = []
    for a in candidates:
        key = (a.owner_email or a.id).lower()
        if key not in seen:
            seen.add(key)
            deduped.append(a)
    if len(deduped) == 1:
        return deduped[0], "single_owner_dedupe"
    trace.add("tiebreaker_started", candidateCount=len(deduped), candidateIds=[a.id for a in deduped])
    rules: dict[str, Callable[[list[AccountRecord]], list[AccountRecord]]] = {
        "country": _geo_rule(lambda a: a.billing_country, geo.country, _COUNTRY_ALIASES),
        "state": _geo_rule(lambda a: a.billing_state, geo.state),
        "sub_region": _geo_rule(lambda a: a.sub_region, geo.sub_region),
        "child_accounts": _max_rule(lambda a: a.child_accounts),
        "opportunities": _max_rule(lambda a: a.opportunities),
        "contacts": _max_rule(lambda a: a.contacts),
        "last_activity": _max_rule(lambda a: a.last_activity),
        "created_date": _max_rule(_created),
    }
    current = deduped
    if config.enabled:
        for name in config.rules:
            after = rules[name](current)
            trace.add("tiebreaker_step", ruleName=name, candidatesBefore=len(current), candidatesAfter=len(after))
            current = after
            if len(current) == 1:
                trace.add("tiebreaker_winner", accountId=current[0].id, accountName=current[0].name, decisiveRule=name)
                return current[0], name
    winner = sorted(current, key=lambda a: a.id)[0]
    trace.add("tiebreaker_winner", accountId=winner.id, accountName=winner.name, decisiveRule="fallback_id_sort")
    return winner, "fallback_id_sort"


def account_waterfall(email: str | None, ets: EventTypeSettings, snapshot: Snapshot, trace: Trace,
                      *, geo: Geo = Geo(), hosts: tuple[str, ...] = ()) -> AccountMatch:
    """The Account for an attendee email, or NO_MATCH; `needs_details` asks for a second fetch."""
    domain = domain_of(email)
    if not domain or is_free_email_domain(domain, tuple(ets.free_email_domains)):
        trace.add("free_email_domain_skipped", domain=domain)
        return NO_MATCH

    def decide(cands: list[AccountRecord], method: str) -> AccountMatch | None:
        kept = _filter(cands, ets, hosts, trace, method)
        if not kept:
            return None
        winner, rule = tiebreak(kept, ets.tiebreaker, geo, trace)
        trace.add("routing_final_selection", accountId=winner.id, ownerEmail=winner.owner_email, matchMethod=method, decisiveRule=rule)
        return AccountMatch(winner, method, rule)

    with_site = [a for a in snapshot.accounts.values() if a.website and a.detailed]
    variants = {v.lower() for v in website_variants(domain)}
    trace.add("searching_by_website_value", domain=domain)
    exact = [a for a in with_site if a.website.strip().lower() in variants]  # type: ignore[union-attr]
    if exact:
        trace.add("account_found_by_website", matchMethod="exact_website", accountIds=[a.id for a in exact])
        if found := decide(exact, "exact_website"):
            return found
    normalized = [a for a in with_site if normalize_website(a.website) == domain and a not in exact]
    if normalized:
        trace.add("account_found_by_website", matchMethod="normalized_website", accountIds=[a.id for a in normalized])
        if found := decide(normalized, "normalized_website"):
            return found

    if domain in snapshot.recount_domains:
        return AccountMatch(needs_counts=(domain,))
    trace.add("searching_by_contact_email_domain", domain=domain)
    counts = sorted(snapshot.domain_counts.get(domain, []), key=lambda c: -c.count)
    tiers = [(n, [c.account_id for c in group]) for n, group in groupby(counts, key=lambda c: c.count)]
    for n, tier in tiers:
        missing = [i for i in tier if i not in snapshot.accounts or not snapshot.accounts[i].detailed]
        simple = len(tier) == 1 and not ets.exclude_record_types and not hosts
        if missing and not simple:
            return AccountMatch(needs_details=tuple(missing))
        cands = [snapshot.accounts.get(i) or AccountRecord(id=i, detailed=False) for i in tier]
        trace.add("account_selected_by_most_contacts", accountIds=tier, contacts=n)
        if found := decide(cands, "contact_domain"):
            return found

    base = base_domain(domain)
    if ets.fuzzy_domain_matching and base and len(base[1]) >= 3:
        trace.add("fuzzy_match_initiated", baseDomain=base[1])
        fuzzy = []
        for a in with_site:
            b = base_domain(a.website)
            if b and b[1] == base[1]:
                fuzzy.append(a)
        trace.add("fuzzy_match_soql_results", accountIds=[a.id for a in fuzzy])
        if fuzzy:
            found = decide(fuzzy, "fuzzy")
            if found:
                same = base_domain(found.account.website if found.account else None)
                confidence = "exact" if len(fuzzy) == 1 and same and same[0] == base[0] else (
                    "fuzzy_single" if len(fuzzy) == 1 else "fuzzy_tiebreak")
                trace.add("fuzzy_match_result", accountId=found.account.id if found.account else None, confidence=confidence)
                return found
        trace.add("fuzzy_match_no_result", baseDomain=base[1])
    trace.add("no_account_found", domain=domain)
    return NO_MATCH
