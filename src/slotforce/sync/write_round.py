"""Reading the answers of one write call: what each sub-result means for its booking's outcome.

A write call (requests.write_call) carries, for the plans of one wave, new people, Booking Action
upserts, updates of the Who records, Event writes and a read-back of the Flows' verdict. `Wave`
holds what the wave's calls share (outcomes, people created, people that failed); `WriteRound`
reads one call's answers, one method per kind of sub-result, and collects what can be fixed in a
follow-up call (a person to create again without rejected fields, an action to send again with
the id of a person that existed after all, a record update or Event write without rejected fields).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slotforce.sync.gateway import KNOCK_ON_CODES, ApiError, CollectionsItem, SubResult, is_transient
from slotforce.sync.outcome import Outcome, OutcomeStatus
from slotforce.sync.plan import BookingPlan, RecordUpdate
from slotforce.sync.requests import WriteLayout, WriteParts
from slotforce.sync.resolve import NewRecord
from slotforce.sync.writes import Dropped

PersonKey = tuple[str, str]  # (sObject, email) of a person the batch creates

# The Flows' Status__c as an outcome (read back after the write call).
FLOW_STATUS = {"Processed": OutcomeStatus.PROCESSED, "Failed": OutcomeStatus.FAILED,
               "Skipped": OutcomeStatus.SKIPPED, "Pending": OutcomeStatus.PENDING}
# Fields a new Lead/Contact cannot do without; anything else may be dropped to save the booking.
ESSENTIAL_PERSON_FIELDS = frozenset({"LastName", "Email", "Company"})
_NO_SUCH_COLUMN = re.compile(r"No such column '([A-Za-z0-9_]+)'")
_TOO_LARGE = re.compile(r"^([A-Za-z0-9_ ]+): data value too large")


class PersonResult(enum.StrEnum):
    """What became of a new person in a people call or a write call."""

    CREATED = "created"
    REUSED = "reused"  # DUPLICATES_DETECTED: the matching record is used
    RETRY = "retry"  # Salesforce rejected mapped fields: created again without them
    FAILED = "failed"


def rejected_fields(err: ApiError) -> set[str]:
    """The fields an error blames: its `fields`, or the name in the message."""
    names = set(err.fields)
    for rx in (_NO_SUCH_COLUMN, _TOO_LARGE):
        if m := rx.search(err.message or ""):
            names.add(m.group(1).strip())
    return names


def first_error(errors: list[ApiError]) -> ApiError:
    """The error that caused a failure, not the knock-on errors of the records rolled back with it."""
    causes = [e for e in errors if e.code not in KNOCK_ON_CODES]
    return (causes or errors or [ApiError("UNKNOWN", "no error details")])[0]


def each_item(result: SubResult | None, keys: list[str], done: Callable[[str, CollectionsItem], None]) -> None:
    """Hand each key its Collections item; when the whole subrequest failed, every key shares its error."""
    if not keys:
        return
    items = result.items() if result is not None else []
    for i, key in enumerate(keys):
        if len(items) == len(keys):
            done(key, items[i])
        else:
            errs = items[0].errors if items else [ApiError("MISSING_RESPONSE", "no answer for this subrequest")]
            done(key, CollectionsItem(None, False, errs))


@dataclass
class Wave:
    """What the write calls of one wave share: each plan's outcome, and the people created or failed."""

    out: dict[str, Outcome]
    created: dict[PersonKey, str] = field(default_factory=dict)
    person_errors: dict[PersonKey, ApiError] = field(default_factory=dict)

    def person_result(self, key: PersonKey, rid: str | None, errors: list[ApiError], plans: list[BookingPlan],
                      record: NewRecord | None = None,
                      retry: dict[PersonKey, NewRecord] | None = None) -> PersonResult:
        """Record what became of a new person: created, reused (DUPLICATES_DETECTED: the matched
        record), retry (Salesforce rejected mapped fields: create again without them) or failed."""
        if rid:
            self.created[key] = rid
            return PersonResult.CREATED
        err = first_error(errors)
        concerned = [p for p in plans if any(n.key == key for n in p.new_records)]
        if err.code == "DUPLICATES_DETECTED" and err.duplicate_ids:
            self.created[key] = err.duplicate_ids[0]
            for p in concerned:
                p.trace.add("duplicate_record_reused", sobject=key[0], email=key[1], recordId=err.duplicate_ids[0])
            return PersonResult.REUSED
        bad = (rejected_fields(err) & set(record.fields) - ESSENTIAL_PERSON_FIELDS) if record else set()
        if bad and retry is not None and key not in retry:
            retry[key] = NewRecord(record.sobject, record.email, {k: v for k, v in record.fields.items() if k not in bad})
            for p in concerned:
                p.trace.add("record_fields_rejected", sobject=key[0], fields=sorted(bad), code=err.code, message=err.message)
                self.out[p.action_key].dropped += [Dropped(f, f"{err.code}: {err.message}") for f in sorted(bad)]
            return PersonResult.RETRY
        self.person_errors[key] = err
        return PersonResult.FAILED

    def drop_failed_people(self, plans: list[BookingPlan]) -> list[BookingPlan]:
        """Plans whose attendee could not be created fail; guests that failed are left out."""
        kept = []
        for p in plans:
            if p.who_new in self.person_errors:
                err = self.person_errors[p.who_new]
                self.out[p.action_key].fail(err.code, err.message, transient=is_transient(err.code))
                p.trace.add("attendee_create_failed", code=err.code, message=err.message)
                continue
            for n in [n for n in p.new_records if n.key in self.person_errors]:
                p.trace.add("guest_create_failed", email=n.email, code=self.person_errors[n.key].code)
                p.new_records.remove(n)
            kept.append(p)
        return kept


class WriteRound:
    """The answers of one write call, read into the wave's outcomes. Fixable failures go into
    `followup` (unless `final`: then they are recorded as they are)."""

    def __init__(self, wave: Wave, layout: WriteLayout, parts: WriteParts, plans: list[BookingPlan], *,
                 final: bool = False) -> None:
        self.wave, self.layout, self.parts, self.plans, self.final = wave, layout, parts, plans, final
        self.followup = WriteParts()
        self.reused: set[PersonKey] = set()  # people found to exist after all (DUPLICATES_DETECTED)
        self.retry: dict[PersonKey, NewRecord] = {}  # people to create again without rejected fields
        self.action_fields = {k: (f, w) for k, f, w in parts.actions}

    def read(self, results: dict[str, SubResult]) -> WriteParts:
        """Read every sub-result of the call; returns what a follow-up call should send."""
        self.people(results)
        self.actions(results)
        self.record_updates(results.get("whoUpdates"))
        self.event_writes(results.get("eventWrites"))
        self.read_back(results)
        return self.followup

    # -- new people -------------------------------------------------------------------------------

    def people(self, results: dict[str, SubResult]) -> None:
        records = {n.key: n for n in self.parts.people}
        for ref, key in self.layout.people.items():
            r = results.get(ref)
            rid = r.body.get("id") if r and r.ok and isinstance(r.body, dict) else None
            what = self.wave.person_result(key, rid, r.errors if r else [], self.plans, records.get(key),
                                           None if self.final else self.retry)
            if what is PersonResult.REUSED:
                self.reused.add(key)
        self.followup.people += list(self.retry.values())
        errors = self.wave.person_errors
        for p in self.plans:  # a guest that could not be created is only left off the Event
            for n in p.new_records:
                if n.key in errors and n.key != p.who_new and not p.trace.steps("guest_create_failed"):
                    p.trace.add("guest_create_failed", email=n.email, code=errors[n.key].code)

    # -- Booking Actions --------------------------------------------------------------------------

    def actions(self, results: dict[str, SubResult]) -> None:
        for ref, key in self.layout.action_refs.items():
            r = results.get(ref)
            rid = r.body.get("id") if r and r.ok and isinstance(r.body, dict) else None
            self.action_done(key, rid, r.errors if r else [ApiError("MISSING_RESPONSE", "no answer")])
        each_item(results.get("actions"), self.layout.collection_actions,
                  lambda key, item: self.action_done(key, item.id if item.success else None, item.errors))

    def action_done(self, key: str, rid: str | None, errors: list[ApiError]) -> None:
        o = self.wave.out[key]
        fields, who_new = self.action_fields[key]
        created = self.wave.created
        if rid:
            o.booking_action_id = rid
            if who_new and who_new in created:
                o.who_id = created[who_new]
            o.trace.add("booking_action_upserted", id=rid)
            return
        if who_new in self.reused and not self.final:  # the person existed after all: send the action again with its id
            self.followup.actions.append((key, {**fields, "Who_Id__c": created[who_new]}, None))
            o.who_id = created[who_new]
            return
        if who_new in self.retry:  # created again without the rejected fields, then referenced
            self.followup.actions.append((key, {k: v for k, v in fields.items() if k != "Who_Id__c"}, who_new))
            return
        err = (self.wave.person_errors.get(who_new) if who_new else None) or first_error(errors)
        o.fail(err.code, err.message, transient=is_transient(err.code))
        o.trace.add("booking_action_failed", code=err.code, message=err.message)

    # -- record updates and Event writes ----------------------------------------------------------

    def record_updates(self, result: SubResult | None) -> None:
        def done(i: str, item: CollectionsItem) -> None:
            key, update = self.layout.updates[int(i)]
            if item.success:
                return
            rest = self._without_rejected(key, "who_update", update.fields, item.errors)
            if rest is not None and not self.final and not is_transient(first_error(item.errors).code):
                self.followup.updates.append((key, RecordUpdate(update.sobject, update.id, rest)))

        each_item(result, [str(i) for i in range(len(self.layout.updates))], done)

    def event_writes(self, result: SubResult | None) -> None:
        def done(i: str, item: CollectionsItem) -> None:
            key, uid = self.layout.events[int(i)]
            if item.success:
                return
            if self.wave.out[key].status == OutcomeStatus.FAILED:  # no Booking Action, so no Event: its error says why
                return
            fields = next(f for k, _, f in self.parts.events if k == key)
            rest = self._without_rejected(key, "event_write", fields, item.errors)
            if rest is not None and not self.final:
                self.followup.events.append((key, uid, rest))

        each_item(result, [str(i) for i in range(len(self.layout.events))], done)

    def _without_rejected(self, key: str, what: str, fields: dict[str, Any],
                          errors: list[ApiError]) -> dict[str, Any] | None:
        """Record the fields a write lost; the fields worth writing again without them, or None."""
        err = first_error(errors)
        o = self.wave.out[key]
        bad = rejected_fields(err) & set(fields)
        o.trace.add(f"{what}_rejected", code=err.code, message=err.message, fields=sorted(bad))
        if not bad:
            o.dropped += [Dropped(f, f"{err.code}: {err.message}") for f in fields if f != "Booking_Uid__c"]
            o.error_code = o.error_code or err.code
            return None
        o.dropped += [Dropped(f, f"{err.code}: {err.message}") for f in sorted(bad)]
        rest = {k: v for k, v in fields.items() if k not in bad}
        return rest if rest and (set(rest) - {"Id", "Booking_Uid__c"}) else None

    # -- the Flows' verdict -----------------------------------------------------------------------

    def read_back(self, results: dict[str, SubResult]) -> None:
        r = results.get(self.layout.readback) if self.layout.readback else None
        if r is None or not r.ok:
            return
        for rec in (r.body or {}).get("records", []):
            o = self.wave.out.get(rec.get("Action_Key__c"))
            if o is None or o.status == OutcomeStatus.FAILED:
                continue
            o.booking_action_id = rec.get("Id") or o.booking_action_id
            o.event_id = rec.get("Event_Id__c")
            o.who_id = rec.get("Who_Id__c") or o.who_id
            o.status = FLOW_STATUS.get(rec.get("Status__c") or "Pending", OutcomeStatus.PENDING)
            if o.status == OutcomeStatus.FAILED:
                o.error_code, o.error = "FLOW_FAILED", rec.get("Error__c") or "the Flow marked the action Failed"
            o.trace.add("booking_action_status", status=rec.get("Status__c"), eventId=o.event_id)
