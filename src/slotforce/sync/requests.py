"""Plans -> Composite request bodies (pure): the write call for a batch (several when limits.py
says the Flows would not fit one call's governor limits).

One Composite, in this order (subrequests run in order; later ones see earlier ones' results):
  pN        POST sobjects/Lead|Contact           new people, when few (else a people call first)
  actionN   PATCH sobjects/Booking_Action__c/Action_Key__c/KEY   actions whose Who is a new person
                                                 (Who_Id__c = "@{pN.id}")
  actions   PATCH composite/sobjects/Booking_Action__c/Action_Key__c   every other action (upsert)
  whoUpdates PATCH composite/sobjects            field writes / owner / AccountId on existing people
  eventWrites PATCH composite/sobjects/Event/Booking_Uid__c   Event fields (the Flows made the Event)
  readBack  GET query                            Status__c, Error__c, Event_Id__c of the actions
At most 25 subrequests, at most 5 of them Collections or queries (Salesforce's Composite limits).
With more new people than fit, they go first in a people call of Collections (200 per request).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote as urlquote

from slotforce.sync import soql
from slotforce.sync.plan import BookingPlan, RecordUpdate
from slotforce.sync.resolve import NewRecord

MAX_SUBREQUESTS = 25
MAX_COLLECTIONS_OR_QUERIES = 5
COLLECTION_SIZE = 200
READBACK_FIELDS = ["Id", "Action_Key__c", "Status__c", "Error__c", "Event_Id__c", "Who_Id__c"]


@dataclass(frozen=True)
class Subrequest:
    method: str
    url: str
    reference_id: str
    body: Any = None
    counts_as_query: bool = False  # a query or an sObject Collections request

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "url": self.url, "referenceId": self.reference_id}
        if self.body is not None:
            out["body"] = self.body
        return out


@dataclass
class CompositeCall:
    subrequests: list[Subrequest] = field(default_factory=list)
    all_or_none: bool = False

    def add(self, sub: Subrequest) -> Subrequest:
        self.subrequests.append(sub)
        return sub

    def body(self) -> dict[str, Any]:
        problems = check_limits(self)
        if problems:
            raise ValueError("Composite request breaks Salesforce limits: " + "; ".join(problems))
        return {"allOrNone": self.all_or_none, "compositeRequest": [s.as_json() for s in self.subrequests]}

    @property
    def queries(self) -> int:
        return sum(1 for s in self.subrequests if s.counts_as_query)


def check_limits(call: CompositeCall) -> list[str]:
    problems = []
    if len(call.subrequests) > MAX_SUBREQUESTS:
        problems.append(f"{len(call.subrequests)} subrequests (max {MAX_SUBREQUESTS})")
    if call.queries > MAX_COLLECTIONS_OR_QUERIES:
        problems.append(f"{call.queries} queries/collections (max {MAX_COLLECTIONS_OR_QUERIES})")
    refs = [s.reference_id for s in call.subrequests]
    if len(set(refs)) != len(refs):
        problems.append("duplicate referenceId")
    return problems


def data_url(api_version: str, path: str) -> str:
    return f"/services/data/v{api_version}/{path}"


def query_subrequest(api_version: str, ref: str, text: str) -> Subrequest:
    return Subrequest("GET", data_url(api_version, "query?q=" + urlquote(text, safe="")), ref, counts_as_query=True)


def fetch_call(api_version: str, queries: dict[str, str]) -> CompositeCall:
    call = CompositeCall()
    for ref, text in queries.items():
        call.add(query_subrequest(api_version, ref, text))
    return call


def _record(sobject: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"attributes": {"type": sobject}, **fields}


def people_calls(api_version: str, new_records: list[NewRecord]) -> list[tuple[CompositeCall, list[list[tuple[str, str]]]]]:
    """Calls creating many new people as Collections; per call, the record keys of each subrequest."""
    # one type per run of records: Collections accept at most ten type changes per request
    ordered = sorted(new_records, key=lambda r: r.sobject)
    chunks = [ordered[i:i + COLLECTION_SIZE] for i in range(0, len(ordered), COLLECTION_SIZE)]
    calls = []
    for start in range(0, len(chunks), MAX_COLLECTIONS_OR_QUERIES):
        call = CompositeCall()
        keys = []
        for n, chunk in enumerate(chunks[start:start + MAX_COLLECTIONS_OR_QUERIES]):
            call.add(Subrequest("POST", data_url(api_version, "composite/sobjects"), f"people{n}",
                                {"allOrNone": False, "records": [_record(r.sobject, r.fields) for r in chunk]},
                                counts_as_query=True))
            keys.append([r.key for r in chunk])
        calls.append((call, keys))
    return calls


@dataclass
class WriteLayout:
    """Where each plan's parts sit in the write call, to read the answers back."""

    call: CompositeCall
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # ref -> NewRecord.key
    action_refs: dict[str, str] = field(default_factory=dict)  # ref -> action key (single upserts)
    collection_actions: list[str] = field(default_factory=list)  # action keys in collection order
    updates: list[tuple[str, RecordUpdate]] = field(default_factory=list)  # (action key, update)
    events: list[tuple[str, str]] = field(default_factory=list)  # (action key, booking uid)
    readback: str | None = None


def new_people(plans: list[BookingPlan]) -> list[NewRecord]:
    seen: dict[tuple[str, str], NewRecord] = {}
    for p in plans:
        if p.skipped or p.needs_details:
            continue
        for n in p.new_records:
            seen.setdefault(n.key, n)
    return list(seen.values())


@dataclass
class WriteParts:
    """What one write call carries, independent of how it is laid out."""

    people: list[NewRecord] = field(default_factory=list)  # to create inline
    actions: list[tuple[str, dict[str, Any], tuple[str, str] | None]] = field(default_factory=list)  # key, fields, new Who
    updates: list[tuple[str, RecordUpdate]] = field(default_factory=list)
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # key, booking uid, fields


def write_parts(plans: list[BookingPlan], created: dict[tuple[str, str], str] | None = None) -> WriteParts:
    created = created or {}
    live = [p for p in plans if not (p.skipped or p.needs_details)]
    parts = WriteParts(people=[n for n in new_people(live) if n.key not in created])
    for p in live:
        if p.action_fields:
            parts.actions.append((p.action_key, dict(p.action_fields), p.who_new))
        parts.updates += [(p.action_key, u) for u in p.record_updates]
        if p.event_fields:
            parts.events.append((p.action_key, p.change.booking_uid, dict(p.event_fields)))
    return parts


def write_call(api_version: str, parts: WriteParts, created: dict[tuple[str, str], str] | None = None,
               *, readback: bool = True) -> WriteLayout:
    """The write Composite. New people already in `created` are referenced by id; `parts.people`
    are created inline and referenced with @{pN.id}."""
    created = dict(created or {})
    layout = WriteLayout(CompositeCall())
    call = layout.call
    ref_of: dict[tuple[str, str], str] = {}
    for n in parts.people:
        if n.key in created or n.key in ref_of:
            continue
        ref = f"p{len(layout.people)}"
        call.add(Subrequest("POST", data_url(api_version, f"sobjects/{n.sobject}"), ref, n.fields))
        layout.people[ref] = n.key
        ref_of[n.key] = ref

    collection: list[dict[str, Any]] = []
    for key, fields, who_new in parts.actions:
        fields = dict(fields)
        if who_new is not None and who_new in created:
            fields["Who_Id__c"] = created[who_new]
        elif who_new is not None and who_new in ref_of:
            fields["Who_Id__c"] = "@{%s.id}" % ref_of[who_new]
            body = {k: v for k, v in fields.items() if k != "Action_Key__c"}
            ref = f"action{len(layout.action_refs)}"
            url = data_url(api_version, f"sobjects/Booking_Action__c/Action_Key__c/{urlquote(key, safe='')}")
            call.add(Subrequest("PATCH", url, ref, body))
            layout.action_refs[ref] = key
            continue
        collection.append(_record("Booking_Action__c", fields))
        layout.collection_actions.append(key)
    if collection:
        call.add(Subrequest("PATCH", data_url(api_version, "composite/sobjects/Booking_Action__c/Action_Key__c"),
                            "actions", {"allOrNone": False, "records": collection}, counts_as_query=True))
    if parts.updates:
        call.add(Subrequest("PATCH", data_url(api_version, "composite/sobjects"), "whoUpdates",
                            {"allOrNone": False, "records": [_record(u.sobject, {"Id": u.id, **u.fields}) for _, u in parts.updates]},
                            counts_as_query=True))
        layout.updates = list(parts.updates)
    if parts.events:
        call.add(Subrequest("PATCH", data_url(api_version, "composite/sobjects/Event/Booking_Uid__c"), "eventWrites",
                            {"allOrNone": False, "records": [_record("Event", {"Booking_Uid__c": uid, **f}) for _, uid, f in parts.events]},
                            counts_as_query=True))
        layout.events = [(k, uid) for k, uid, _ in parts.events]
    keys = layout.collection_actions + list(layout.action_refs.values())
    if readback and keys:
        text = soql.select(READBACK_FIELDS, "Booking_Action__c", f"Action_Key__c IN {soql.in_list(keys)}")
        call.add(query_subrequest(api_version, "readBack", text))
        layout.readback = "readBack"
    return layout
