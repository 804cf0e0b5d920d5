"""The plan for one booking change: who, account, owner, new records, writes and trace (pure).

`plan_change` turns (change, settings, snapshot, describes) into a `BookingPlan`, a value that
prints as the routing trace and that requests.py turns into Composite subrequests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from slotforce.sync.booking import Action, BookingChange
from slotforce.sync.describe import SObjectInfo
from slotforce.sync.fetch import needs_lookup
from slotforce.sync.resolve import NewRecord, WhoDecision, lookup_who, named_what, named_who, resolve_who
from slotforce.sync.settings import EventTypeSettings, Settings
from slotforce.sync.snapshot import Snapshot, UserRecord
from slotforce.sync.trace import Trace
from slotforce.sync.writes import Dropped, field_values, sf_datetime, truncate

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CANCEL_MODE = {"delete": "Delete", "keep": "Keep"}


@dataclass(frozen=True)
class RecordUpdate:
    sobject: str
    id: str
    fields: dict[str, Any]


@dataclass
class BookingPlan:
    change: BookingChange
    event_type: str
    configured: bool
    trace: Trace = field(default_factory=Trace)
    who: WhoDecision | None = None
    guests: list[WhoDecision] = field(default_factory=list)
    owner: UserRecord | None = None
    action_fields: dict[str, Any] = field(default_factory=dict)  # Booking_Action__c, Who_Id__c may be pending
    who_new: tuple[str, str] | None = None  # NewRecord.key whose id becomes Who_Id__c
    new_records: list[NewRecord] = field(default_factory=list)
    record_updates: list[RecordUpdate] = field(default_factory=list)
    event_fields: dict[str, Any] = field(default_factory=dict)  # Event by Booking_Uid__c
    dropped: list[Dropped] = field(default_factory=list)
    skipped: str | None = None
    needs_details: tuple[str, ...] = ()
    needs_counts: tuple[str, ...] = ()  # email domains whose Contacts per Account must be counted alone
    needs_contacts: tuple[str, ...] = ()  # converted Leads' Contacts to fetch before this can be written

    @property
    def action_key(self) -> str:
        return self.change.action_key

    def __str__(self) -> str:
        c = self.change
        lines = [f"{c.action_key}  event type {self.event_type}" + ("" if self.configured else " (default settings)")]
        if self.skipped:
            lines.append(f"  skipped: {self.skipped}")
        if self.who:
            target = self.who.who_id or (f"new {self.who.new.sobject}" if self.who.new else "-")
            lines.append(f"  who: {self.who.email} -> {self.who.outcome} {self.who.sobject or ''} {target} ({self.who.reason})")
            if self.who.account:
                lines.append(f"  account: {self.who.account.id} {self.who.account.name or ''} via {self.who.match.method if self.who.match else '-'}")
        for g in self.guests:
            lines.append(f"  guest: {g.email} -> {g.outcome} {g.who_id or ''} ({g.reason})")
        lines.append(f"  owner: {self.owner.email + ' ' + self.owner.id if self.owner else '-'}")
        for n in self.new_records:
            lines.append(f"  create {n.sobject}: {n.fields}")
        for u in self.record_updates:
            lines.append(f"  update {u.sobject} {u.id}: {u.fields}")
        if self.event_fields:
            lines.append(f"  Event {c.booking_uid}: {self.event_fields}")
        if self.action_fields:
            lines.append(f"  Booking_Action__c: {self.action_fields}")
        for d in self.dropped:
            lines.append(f"  dropped: {d}")
        lines.append("  trace:")
        lines += [f"    {i:2d}. {s}" for i, s in enumerate(self.trace, 1)]
        return "\n".join(lines)


def _email(value: str | None, name: str, dropped: list[Dropped]) -> str | None:
    if value and not _EMAIL.match(value):
        dropped.append(Dropped(name, f"{value!r} is not an email address"))
        return None
    return value


def _lines(values: list[str]) -> str | None:
    return "\n".join(values) if values else None


def _unread_contact(who: WhoDecision, snapshot: Snapshot) -> bool:
    r = who.record
    return bool(r and r.sobject == "Contact" and who.outcome in ("existing", "reparent") and r.id not in snapshot.contacts_by_id)


def action_fields(change: BookingChange, ets: EventTypeSettings, owner: UserRecord | None,
                  who: WhoDecision | None, guests: list[WhoDecision], dropped: list[Dropped], *,
                  what_id: str | None = None) -> dict[str, Any]:
    """Booking_Action__c fields (DESIGN.md), truncated to their lengths; None values left out."""
    attendee = change.attendee
    url = change.meeting_url
    if url and len(url) > 255:  # a cut URL is a broken link: leave it out and say so
        dropped.append(Dropped("Meeting_Url__c", "longer than 255 characters"))
        url = None
    fields: dict[str, Any] = {
        "Action_Key__c": change.action_key,
        "Action__c": change.action.value,
        "Booking_Uid__c": change.booking_uid,
        "Previous_Booking_Uid__c": change.previous_booking_uid,
        "Source__c": change.source,
        "Subject__c": truncate(change.title, 255),
        "Description__c": truncate(change.description, 32000),
        "Start__c": sf_datetime(change.start) if change.start else None,
        "End__c": sf_datetime(change.end) if change.end else None,
        "Invitee_Timezone__c": truncate(attendee.time_zone if attendee else None, 64),
        "Location__c": truncate(change.location, 255),
        "Meeting_Url__c": url,
        "Meeting_Type__c": truncate(change.event_type_name, 100),
        "Router_Name__c": truncate(change.router_name, 75),
        "Organizer_Email__c": _email(change.organizer.email if change.organizer else None, "Organizer_Email__c", dropped),
        "Owner_Id__c": owner.id if owner else None,
        "Who_Id__c": who.who_id if who else None,
        "What_Id__c": what_id or (who.account_id if who and who.sobject == "Contact" else None),
        "Invitee_Email__c": _email(attendee.email if attendee else None, "Invitee_Email__c", dropped),
        "Invitee_Name__c": truncate(attendee.display_name if attendee else None, 255),
        "Guest_Emails__c": _lines(list(change.guest_emails)),
        "Co_Host_Emails__c": _lines([p.email for p in change.co_hosts if p.email]),
        "Cancel_Mode__c": CANCEL_MODE[ets.on_cancel.mode] if change.action == Action.CANCELED else None,
        "Cancel_Reason__c": truncate(change.cancel_reason, 255),
        "Canceled_By__c": change.canceled_by.capitalize() if change.canceled_by else None,
        "Reschedule_Requested__c": True if change.reschedule_requested else None,
        "No_Show_Emails__c": _lines([p.email for p in change.absentees if p.email]),
        "Host_No_Show__c": True if change.host_no_show else None,
        "Seat_Id__c": truncate(change.seat_id, 255),
    }
    return {k: v for k, v in fields.items() if v not in (None, "")}


def _about_the_who(change: BookingChange, snapshot: Snapshot, trace: Trace) -> bool:
    """Whether a no-show is the Event's Who's (what `no_show_field` on the Event means): a no-show of
    the whole booking is; one naming attendees is when the Event's Who is among them; the host's is not."""
    if change.host_no_show:
        return False
    if not change.absentees:
        return True
    who = snapshot.event_who_emails.get(change.booking_uid)
    named = who in {p.email for p in change.absentees}
    trace.add("no_show_field_" + ("written" if named else "left"), eventWho=who,
              reason="the Event's Who is named" if named else "only others are named (or the Event has no Who)")
    return named


def plan_change(change: BookingChange, settings: Settings, snapshot: Snapshot,
                describes: dict[str, SObjectInfo] | None = None) -> BookingPlan:
    ets, key = settings.for_event_type(change.event_type_slug, change.event_type_ids)
    plan = BookingPlan(change, key or "default", key is not None)
    trace = plan.trace
    if key is None:
        trace.add("unknown_event_type_default_applied", eventType=change.event_type_slug, mode=ets.create_event_on)
    elif key == change.event_type_slug:
        trace.add("settings_applied", eventType=key, mode=ets.create_event_on)
    else:
        trace.add("settings_applied", eventType=key, matched=change.event_type_slug or change.event_type_ids[0],
                  mode=ets.create_event_on)
    if not ets.sync:
        plan.skipped = f"sync is off for event type {key or 'default'} (sync: false)"
        trace.add("sync_off", eventType=key or "default")
        return plan
    describes = describes or {}

    # Owner: the organizer's active User, else the configured fallback user.
    organizer = change.organizer.email if change.organizer else None
    owner = None
    if change.action == Action.CREATED:
        owner = snapshot.user(organizer)
        if owner:
            trace.add("organizer_user_found", email=organizer, userId=owner.id)
        else:
            trace.add("organizer_user_not_found", email=organizer)
            if ets.owner_fallback_user:
                owner = snapshot.user(ets.owner_fallback_user)
                trace.add("owner_fallback_user", user=ets.owner_fallback_user, userId=owner.id if owner else None)
    plan.owner = owner
    hosts = change.host_emails if (change.scheduling_type or "").lower() in ("round_robin", "roundrobin") else ()

    # Who: full resolution (with creation) for new bookings; lookup only for later changes.
    if change.action == Action.CREATED:
        who = named_who(change, ets, snapshot, trace) or resolve_who(
            change.attendee, change, ets, snapshot, trace, owner_id=owner.id if owner else None,
            describes=describes, hosts=hosts)
        if who.outcome == "needs_details":
            plan.needs_details = who.match.needs_details if who.match else ()
            plan.needs_counts = who.match.needs_counts if who.match else ()
            return plan
        if who.outcome == "skip":
            plan.who, plan.skipped = who, who.reason
            return plan
        if not ets.ignore_guests:
            for guest in change.guests:
                g = resolve_who(guest, change, ets, snapshot, trace, owner_id=owner.id if owner else None,
                                describes=describes, hosts=hosts, primary=False)
                if g.outcome == "needs_details":
                    plan.needs_details += g.match.needs_details if g.match else ()
                    plan.needs_counts += g.match.needs_counts if g.match else ()
                plan.guests.append(g)
            if plan.needs_details or plan.needs_counts:
                return plan
    elif needs_lookup(change, ets):
        who = lookup_who(change.attendee, ets, snapshot, trace)
    else:
        trace.add("who_not_looked_up", reason="the Flow finds the Event by Booking_Uid__c; nothing is written to the Who record")
        who = WhoDecision(change.attendee.email if change.attendee else None, "skip", reason="not_needed")
    plan.who = who

    # Writes to the Who record (existing: update; new: in the create body).
    record_maps = []
    if change.action == Action.CREATED:
        record_maps = ets.write_to_record
    elif change.action == Action.CANCELED:
        record_maps = ets.on_cancel.write_to_record
    if _unread_contact(who, snapshot) and (
            any(m.when == "field_empty" for m in record_maps) or ets.exclude_record_types
            or (change.action == Action.CREATED and ets.change_record_owner.enabled)):
        # a converted Lead's Contact (another email) was not in the fetch: its values, owner and
        # record type decide what is written, so read it first rather than guess "empty"
        plan.needs_contacts = (who.record.id,)  # type: ignore[union-attr]
        trace.add("needs_contact_values", contactId=who.record.id)  # type: ignore[union-attr]
        return plan
    for decision in [who, *plan.guests]:
        if decision.outcome == "create" and decision.new:
            fields = dict(decision.new.fields)
            if decision is who and record_maps:
                values, dropped = field_values(record_maps, change, describes.get(decision.new.sobject), None, honour_when=False)
                fields.update(values)
                plan.dropped += dropped
            new = NewRecord(decision.new.sobject, decision.new.email, fields)
            if all(n.key != new.key for n in plan.new_records):
                plan.new_records.append(new)
            if decision is who:
                plan.who_new = new.key
        elif decision is who and decision.record and decision.outcome in ("existing", "reparent"):
            rec = decision.record
            update: dict[str, Any] = {}
            if record_maps:
                values, dropped = field_values(record_maps, change, describes.get(rec.sobject), rec.values)
                update.update(values)
                plan.dropped += dropped
            if decision.outcome == "reparent" and decision.account:
                update["AccountId"] = decision.account.id
            if change.action == Action.CREATED and ets.change_record_owner.enabled and owner and rec.owner_id != owner.id:
                allowed = {n.strip().lower() for n in ets.change_record_owner.only_from_owners}
                if not allowed or (rec.owner_name or "").strip().lower() in allowed:
                    update["OwnerId"] = owner.id
                    trace.add("record_owner_changed", recordId=rec.id, fromOwner=rec.owner_name, toUserId=owner.id)
                else:
                    trace.add("record_owner_kept", recordId=rec.id, owner=rec.owner_name, reason="owner not in only_from_owners")
            if update:
                plan.record_updates.append(RecordUpdate(rec.sobject, rec.id, update))

    # Writes to the Event (found by Booking_Uid__c after the Flow has run).
    event_info = describes.get("Event")
    if change.action == Action.CREATED and ets.write_to_event:
        values, dropped = field_values(ets.write_to_event, change, event_info, None, honour_when=False)
        plan.event_fields.update(values)
        plan.dropped += dropped
    elif change.action == Action.CANCELED and ets.on_cancel.write_to_event:
        if ets.on_cancel.mode == "keep":
            values, dropped = field_values(ets.on_cancel.write_to_event, change, event_info, None, honour_when=False)
            plan.event_fields.update(values)
            plan.dropped += dropped
        else:
            trace.add("cancel_event_writes_ignored", reason="on_cancel.mode is delete: the Event is deleted")
    elif change.action in (Action.NO_SHOW, Action.NO_SHOW_CLEARED) and ets.no_show_field and _about_the_who(
            change, snapshot, trace):
        f = event_info.get(ets.no_show_field) if event_info else None
        if event_info is not None and (f is None or f.type != "boolean"):
            plan.dropped.append(Dropped(ets.no_show_field, "Event has no checkbox with this name"))
        else:
            plan.event_fields[f.name if f else ets.no_show_field] = change.action == Action.NO_SHOW

    plan.action_fields = action_fields(change, ets, owner, who, plan.guests, plan.dropped,
                                       what_id=named_what(change, who, snapshot, trace) if change.action == Action.CREATED else None)
    for d in plan.dropped:
        trace.add("field_dropped", field=d.field, reason=d.reason)
    trace.add("planned", who=who.who_id or (f"new {who.new.sobject}" if who.new else None),
              newRecords=len(plan.new_records), recordUpdates=len(plan.record_updates),
              eventFields=sorted(plan.event_fields))
    return plan


def plan_batch(changes: list[BookingChange], settings: Settings, snapshot: Snapshot,
               describes: dict[str, SObjectInfo] | None = None) -> list[BookingPlan]:
    return [plan_change(c, settings, snapshot, describes) for c in changes]
