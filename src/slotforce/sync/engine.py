"""The sync engine: booking changes -> one fetch Composite -> plans -> one write Composite -> outcomes.

`sync_batch(changes, settings, sf)` is the whole pipeline for up to 200 changes. Changes of the
same booking in one batch go out in order, in successive write calls ("waves"), because the
package's Flows must see the Created action before a Canceled one for the same booking.
The Flows run in the write call's transaction, so a wave whose Flow cost (limits.py: 3 DML rows
+ 1 per invitee per Created) would not fit one call's governor limits goes in several write
calls; a call that breaches a limit anyway is halved and sent again, down to one booking.
Replaying a batch is safe: people found by email are not created again, Booking Actions are
upserted by Action_Key__c and Event fields by Booking_Uid__c.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from simple_salesforce import Salesforce

from slotforce.sync.booking import Action, BookingChange, Person
from slotforce.sync.describe import DescribeCache, SObjectInfo
from slotforce.sync.fetch import (
    FetchPlan, build_fetch, contacts_by_id_query, details_query, domain_count_query, snapshot_from,
)
from slotforce.sync.gateway import ApiError, Gateway, SalesforceCallError, SubResult, is_transient
from slotforce.sync.limits import WRITE_CALL_BUDGET, call_cost, is_governor_limit, save_cost, write_chunks
from slotforce.sync.owner import OwnerLookup, round_robin_owner
from slotforce.sync.plan import BookingPlan, plan_change
from slotforce.sync.requests import (
    MAX_COLLECTIONS_OR_QUERIES, MAX_SUBREQUESTS, WriteParts, fetch_call, people_calls, write_call, write_parts,
)
from slotforce.sync.resolve import NewRecord
from slotforce.sync.settings import Settings
from slotforce.sync.snapshot import PersonRecord, Snapshot, account_from, domain_counts_from, person_from
from slotforce.sync.outcome import DroppedFieldsReport, ErrorSink, Outcome, OutcomeStatus
from slotforce.sync.trace import Trace
from slotforce.sync.write_round import Wave, WriteRound

DESCRIBED = ("Event", "Lead", "Contact", "Account", "Booking_Action__c")
# Salesforce saying a field or object is not there: what the describe cache holds is out of date.
STALE_DESCRIBE_CODES = frozenset({"INVALID_FIELD", "INVALID_TYPE"})
MAX_URL = 16_000  # Salesforce refuses longer request URIs (HTTP 414); queries travel in the URL


def split_waves(changes: list[BookingChange]) -> list[list[BookingChange]]:
    """Each wave holds at most one change per booking (uid or the uid it was rescheduled from)."""
    next_wave: dict[str, int] = {}
    waves: list[list[BookingChange]] = []
    for c in changes:
        uids = {c.booking_uid} | ({c.previous_booking_uid} if c.previous_booking_uid else set())
        w = max(next_wave.get(u, 0) for u in uids)
        for u in uids:
            next_wave[u] = w + 1
        while len(waves) <= w:
            waves.append([])
        waves[w].append(c)
    return waves


_URL_SAFE_KEY = re.compile(r"^[A-Za-z0-9:_.@+\-]+$")


def _query_body(what: str, result: SubResult | None) -> dict[str, Any]:
    """The answer of a query subrequest; SalesforceCallError (transient when a retry may help) if it failed."""
    if result is None or not result.ok:
        errs = result.errors if result else [ApiError("MISSING_RESPONSE", f"no answer for the {what}")]
        status = result.status if result else None
        raise SalesforceCallError(what, errs, status, is_transient(errs[0].code if errs else None, status))
    return result.body or {}


class SyncEngine:
    """Holds what outlives one batch: the gateway (and its call count), describes, where dropped fields go."""

    def __init__(self, settings: Settings, sf: Salesforce, *, errors: ErrorSink | None = None,
                 describe_cache: DescribeCache | None = None, gateway: Gateway | None = None):
        self.settings = settings
        self.gateway = gateway or Gateway(sf, settings.salesforce.api_version)
        self.errors = errors
        self.describe_cache = describe_cache or DescribeCache()

    @property
    def api_version(self) -> str:
        return self.gateway.api_version

    # -- fetch ----------------------------------------------------------------------------

    def describes(self) -> dict[str, SObjectInfo]:
        missing = self.describe_cache.missing(list(DESCRIBED))
        if missing:
            found = self.gateway.describe(missing)
            for name in missing:
                if name in found:
                    self.describe_cache.put(found[name])
                else:
                    self.describe_cache.put_absent(name)
        if self.describe_cache.is_absent("Booking_Action__c"):
            raise SalesforceCallError(
                "Sync", [ApiError("INVALID_TYPE", "Booking_Action__c is not in this org (or not visible to the "
                                                  "integration user): deploy the package (cci flow run deploy_package) "
                                                  "and assign the Slotforce_Integration permission set")],
                None, transient=False)
        return self.describe_cache.as_dict()

    def fetch(self, changes: list[BookingChange], *, round_robin: bool = False) -> tuple[FetchPlan, Snapshot]:
        plan = build_fetch(changes, self.settings, self.describes(), round_robin=round_robin)
        bodies: dict[str, dict[str, Any]] = {}
        for queries in (plan.queries, plan.later):  # a Composite carries five queries at most
            if queries:
                results = self.gateway.composite(fetch_call(self.api_version, queries))
                bodies.update({ref: _query_body(f"Fetch query {ref}", results.get(ref)) for ref in queries})
        return plan, snapshot_from(plan, bodies)

    def fetch_details(self, plan: FetchPlan, snapshot: Snapshot, account_ids: list[str]) -> None:
        text = details_query(plan, sorted(set(account_ids)))
        results = self.gateway.composite(fetch_call(self.api_version, {"details": text}))
        body = _query_body("Account details query", results.get("details"))
        snapshot.merge_accounts([account_from(r, plan.sub_region_field, plan.value_fields.get("Account", []))
                                 for r in body.get("records", [])])
        for i in account_ids:  # gone since the aggregate ran: remember so planning cannot loop
            snapshot.accounts.setdefault(i, account_from({"Id": i}))

    def fetch_counts(self, snapshot: Snapshot, domains: list[str]) -> None:
        """Count Contacts per Account for each domain alone (a Composite carries at most 5 queries)."""
        for start in range(0, len(domains), MAX_COLLECTIONS_OR_QUERIES):
            chunk = domains[start:start + MAX_COLLECTIONS_OR_QUERIES]
            results = self.gateway.composite(fetch_call(self.api_version, {f"count{i}": domain_count_query(d)
                                                                           for i, d in enumerate(chunk)}))
            for i, d in enumerate(chunk):
                body = _query_body(f"Contact count query for {d}", results.get(f"count{i}"))
                snapshot.domain_counts[d] = domain_counts_from(body.get("records", []), [d]).get(d, [])
                snapshot.recount_domains.discard(d)

    def fetch_contacts(self, plan: FetchPlan, snapshot: Snapshot, contact_ids: list[str]) -> None:
        text = contacts_by_id_query(plan, contact_ids)
        results = self.gateway.composite(fetch_call(self.api_version, {"contactsById": text}))
        body = _query_body("Contacts of converted Leads query", results.get("contactsById"))
        for r in body.get("records", []):
            snapshot.contacts_by_id[r["Id"]] = person_from(r, "Contact", plan.value_fields.get("Contact", []))
        for i in contact_ids:  # deleted since the Lead was converted: known now, so planning cannot loop
            snapshot.contacts_by_id.setdefault(i, PersonRecord(id=i, sobject="Contact", email=""))

    # -- plan -----------------------------------------------------------------------------

    def plan(self, changes: list[BookingChange], fplan: FetchPlan, snapshot: Snapshot) -> list[BookingPlan]:
        describes = self.describe_cache.as_dict()
        plans = [plan_change(c, self.settings, snapshot, describes) for c in changes]
        # The contact-domain waterfall asks for one frequency tier at a time; when the host filter
        # or record-type exclusion empties a tier it asks for the next, so fetch until none asks.
        # Every round fetches ids not fetched before, so this ends (at most one round per tier).
        # A converted Lead's Contact with another email is read the same way when its values matter.
        # Contact counts of a several-domain aggregate that may mix domains are recounted per domain.
        fetched: set[str] = set()
        while True:
            need = sorted({i for p in plans for i in p.needs_details} - fetched)
            contacts = sorted({i for p in plans for i in p.needs_contacts} - fetched)
            domains = sorted({d for p in plans for d in p.needs_counts} & snapshot.recount_domains)
            if not (need or contacts or domains):
                break
            if domains:
                self.fetch_counts(snapshot, domains)
            if need:
                self.fetch_details(fplan, snapshot, need)
            if contacts:
                self.fetch_contacts(fplan, snapshot, contacts)
            fetched.update(need + contacts)
            plans = [plan_change(c, self.settings, snapshot, describes) for c in changes]
        return plans

    # -- the pipeline ---------------------------------------------------------------------

    def sync(self, changes: list[BookingChange]) -> list[Outcome]:
        if changes:
            self.describes()  # its own errors say what is missing; they are not a stale cache
        try:
            outcomes = self._sync(changes)
        except SalesforceCallError as err:
            if any(e.code in STALE_DESCRIBE_CODES for e in err.errors):
                self.describe_cache.clear()
            raise
        if any(o.error_code in STALE_DESCRIBE_CODES or any(d.reason.split(":")[0] in STALE_DESCRIBE_CODES
                                                            for d in o.dropped) for o in outcomes):
            self.describe_cache.clear()  # the next batch describes again
        return outcomes

    def _sync(self, changes: list[BookingChange]) -> list[Outcome]:
        size = self.settings.batch_size
        if len(changes) > size:
            return [o for i in range(0, len(changes), size) for o in self._sync(changes[i:i + size])]
        if not changes:
            return []
        if len(changes) > 1 and self._too_long(changes):
            half = len(changes) // 2  # a GET query must stay under the URI limit: halve the batch
            return self._sync(changes[:half]) + self._sync(changes[half:])
        fplan, snapshot = self.fetch(changes)
        outcomes: dict[str, Outcome] = {}
        for wave in split_waves(changes):
            plans = self.plan(wave, fplan, snapshot)
            for o in self._write(plans, snapshot):
                outcomes[o.action_key] = o
        result = [outcomes[c.action_key] for c in changes]
        self._report_dropped(result)
        return result

    def _too_long(self, changes: list[BookingChange]) -> bool:
        plan = build_fetch(changes, self.settings, self.describe_cache.as_dict())
        call = fetch_call(self.api_version, plan.queries)
        return any(len(s.url) > MAX_URL for s in call.subrequests)

    def _report_dropped(self, outcomes: list[Outcome]) -> None:
        if self.errors is None:
            return
        for o in outcomes:
            if o.dropped:
                self.errors.fields_dropped(DroppedFieldsReport(
                    o.event_type, o.change.booking_uid, tuple(str(d.field) for d in o.dropped),
                    o.error_code or "FIELDS_DROPPED",
                    o.error or "some mapped fields were not written; the booking went through"))

    def _write(self, plans: list[BookingPlan], snapshot: Snapshot) -> list[Outcome]:
        wave = Wave({})
        live: list[BookingPlan] = []
        for p in plans:
            o = Outcome(p.change, OutcomeStatus.PENDING, p.event_type, plan=p, dropped=list(p.dropped),
                        who_id=p.who.who_id if p.who else None)
            wave.out[p.action_key] = o
            if p.skipped:
                o.status, o.error_code, o.error = OutcomeStatus.SKIPPED, "SKIPPED", p.skipped
            elif p.needs_details or p.needs_counts or p.needs_contacts:  # never reported as written when it was not planned
                o.fail("PLAN_INCOMPLETE", "the records this booking depends on could not be read; it will be retried",
                       transient=True)
            else:
                live.append(p)
        if not live:
            return list(wave.out.values())

        # The Flows run in the write call's transaction: size the calls so that they fit its limits.
        chunks = write_chunks(live, lambda p: p.action_fields)
        if len(chunks) > 1:
            for n, chunk in enumerate(chunks, 1):
                for p in chunk:
                    p.trace.add("write_call_sized", call=n, calls=len(chunks), bookings=len(chunk),
                                estimate=str(save_cost(q.action_fields for q in chunk)))
            if any(self._people_first(write_parts(c, wave.created)) for c in chunks):
                # one people call for the whole wave, not one per write call
                live = self._create_people(live, write_parts(live).people, wave)
                kept = {id(p) for p in live}
                chunks = [c for c in ([p for p in chunk if id(p) in kept] for chunk in chunks) if c]
        for chunk in chunks:
            self._write_chunk(chunk, wave)
        for key, rid in wave.created.items():  # later waves and replays see the new people
            rec = PersonRecord(id=rid, sobject=key[0], email=key[1])
            (snapshot.contacts if key[0] == "Contact" else snapshot.leads).setdefault(key[1], []).insert(0, rec)
            if key[0] == "Contact":
                snapshot.contacts_by_id[rid] = rec
        return list(wave.out.values())

    @staticmethod
    def _people_first(parts: WriteParts) -> bool:
        """New people go first in a people call when referencing them inline would not fit the write call."""
        if not parts.people:
            return False
        refs = [(k, f) for k, f, w in parts.actions if w is not None and w in {n.key for n in parts.people}]
        inline_refs = len(parts.people) + len(refs)
        # an action referencing a new person is upserted by URL; keys with "/" and the like
        # do not survive every proxy on the way, so those bookings take the people-first path
        url_safe = all(_URL_SAFE_KEY.match(k) for k, _ in refs)
        # each upsert by URL is a save of its own: the Flows spend their queries and DML again
        singles = {k for k, _ in refs}
        saves = [[f] for _, f in refs] + [[f for k, f, _ in parts.actions if k not in singles]]
        return inline_refs + 4 > MAX_SUBREQUESTS or not url_safe or not call_cost(saves).within(WRITE_CALL_BUDGET)

    def _create_people(self, live: list[BookingPlan], people: list[NewRecord], wave: Wave) -> list[BookingPlan]:
        """Create many new people first with Collections, to be referenced by id; people whose mapped
        fields Salesforce rejected get one more round without them. Returns the plans still alive."""
        by_key = {n.key: n for n in people}
        retry: dict[tuple[str, str], NewRecord] = {}
        todo, allow_retry = [n for n in people if n.key not in wave.created], True
        while todo:
            for call, keys in people_calls(self.api_version, todo):
                results = self.gateway.composite(call)
                for n, chunk in enumerate(keys):
                    r = results.get(f"people{n}")
                    items = r.items() if r else []
                    for i, key in enumerate(chunk):
                        item = items[i] if len(items) == len(chunk) else (items[0] if items else None)
                        wave.person_result(key, item.id if item and item.success else None, item.errors if item else [],
                                           live, by_key.get(key), retry if allow_retry else None)
            todo, allow_retry = (list(retry.values()) if allow_retry else []), False
            by_key.update({n.key: n for n in todo})
        for key in retry:
            if key not in wave.created and key not in wave.person_errors:
                wave.person_errors[key] = ApiError("NOT_CREATED", "the record was not created on the second attempt")
        return wave.drop_failed_people(live)

    def _write_chunk(self, live: list[BookingPlan], wave: Wave, *, again: bool = False) -> None:
        """One write call (plus a people call and a follow-up call when needed) for plans that fit it.
        `again`: the plans' Booking Actions are sent again after a governor limit; their Who
        updates went through (or were dealt with) the first time, so only actions and Event writes go."""
        if wave.person_errors:  # people that failed for an earlier call of this wave are not tried again
            live = wave.drop_failed_people(live)
        parts = write_parts(live, wave.created)
        parts.people = [n for n in parts.people if n.key not in wave.person_errors]
        if self._people_first(parts):
            live = self._create_people(live, parts.people, wave)
            parts = write_parts(live, wave.created)
            parts.people = [n for n in parts.people if n.key not in wave.person_errors]
        if again:
            parts.updates = []

        try:
            followup = self._send(WriteRound(wave, write_call(self.api_version, parts, wave.created), parts, live))
            if followup.people or followup.actions or followup.updates or followup.events:
                self._send(WriteRound(wave, write_call(self.api_version, followup, wave.created), followup, live,
                                      final=True))
        except SalesforceCallError as err:
            # an org that aborts the whole Composite on a governor limit: every action of it breached
            limit = next((e for e in err.errors if is_governor_limit(e.code, e.message)), None)
            if limit is None:
                raise
            for p in live:
                o = wave.out[p.action_key]
                if o.status != OutcomeStatus.FAILED:
                    o.fail(limit.code, limit.message)
                    p.trace.add("booking_action_failed", code=limit.code, message=limit.message)
        self._split_breached(live, wave)

    def _send(self, round_: WriteRound) -> WriteParts:
        """Make one write call; its answers go into the wave's outcomes. Returns what to send again."""
        return round_.read(self.gateway.composite(round_.layout.call))

    def _split_breached(self, live: list[BookingPlan], wave: Wave) -> None:
        """Booking Actions whose save ran out of a governor limit go again in two smaller calls
        (down to one booking per call); one that breaches alone keeps the failure: it is permanent."""
        out = wave.out
        breached = [p for p in live if out[p.action_key].status == OutcomeStatus.FAILED
                    and is_governor_limit(out[p.action_key].error_code, out[p.action_key].error)]
        if not breached:
            return
        if len(live) == 1:
            breached[0].trace.add("governor_limit_alone", message=out[breached[0].action_key].error)
            return
        half = (len(breached) + 1) // 2
        for part in (breached[:half], breached[half:]):
            if not part:
                continue
            for p in part:
                o = out[p.action_key]
                p.trace.add("governor_limit_retry", bookings=len(part), failed_with=len(live))
                o.status, o.error_code, o.error, o.transient = OutcomeStatus.PENDING, None, None, False
            self._write_chunk(part, wave, again=True)

    # -- round robin ----------------------------------------------------------------------

    def owner_for(self, email: str, event_type: str | None, hosts: list[str] | tuple[str, ...]) -> tuple[OwnerLookup | None, Trace]:
        """The owner a round-robin booking by `email` should go to, if that owner is a host."""
        trace = Trace()
        ets, _ = self.settings.for_event_type(event_type)
        if not ets.round_robin.book_with_owner:
            trace.add("owner_lookup_skipped", reason="book_with_owner is off")
            return None, trace
        probe = BookingChange(source="api", action=Action.CREATED, booking_uid="owner-lookup",
                              event_type_slug=event_type, attendee=Person(email=email),
                              occurred_at=datetime.now(timezone.utc))
        fplan, snapshot = self.fetch([probe], round_robin=True)
        hosts_t = tuple(h.strip().lower() for h in hosts)
        probe_trace = Trace()
        found = round_robin_owner(email, ets, snapshot, hosts_t, probe_trace)
        fetched: set[str] = set()  # one round per contact-domain tier the waterfall walks (see plan())
        while True:
            asked = probe_trace.steps("needs_details")
            missing = sorted({i for s in asked for i in s.detail.get("ids", [])} - fetched)
            domains = sorted({d for s in asked for d in s.detail.get("domains", [])} & snapshot.recount_domains)
            if not (missing or domains):
                break
            if domains:
                self.fetch_counts(snapshot, domains)
            if missing:
                self.fetch_details(fplan, snapshot, missing)
            fetched.update(missing)
            probe_trace = Trace()
            found = round_robin_owner(email, ets, snapshot, hosts_t, probe_trace)
        trace.extend(probe_trace)
        return found, trace


def sync_batch(changes: list[BookingChange], settings: Settings, sf: Salesforce, **kwargs: Any) -> list[Outcome]:
    """Sync up to `settings.batch_size` changes (more are split); see SyncEngine for kwargs."""
    return SyncEngine(settings, sf, **kwargs).sync(changes)


def owner_for(email: str, event_type: str | None, hosts: list[str] | tuple[str, ...], *, settings: Settings,
              sf: Salesforce, **kwargs: Any) -> OwnerLookup | None:
    """Round-robin owner lookup: owner email, record and reason, or None."""
    return SyncEngine(settings, sf, **kwargs).owner_for(email, event_type, hosts)[0]
