"""Rules of standard objects that describe cannot express (compound names, Event times, Who/What).

`apply` runs on every new/changed record after its fields were coerced (and again after a
before-save trigger edited it), before required fields are checked; it edits `new` in place or
raises the error Salesforce answers. `after_write` runs once the record is stored: limits that
count rows (an event's related contacts/lead and invitees) and side effects on other records.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from slotforce.localorg import errors, store
from slotforce.localorg.schema import SObject
from slotforce.localorg.values import format_datetime_seconds, parse_datetime

if TYPE_CHECKING:
    from slotforce.localorg.models import Transaction

_NAMED = {"Contact", "Lead", "User"}
# Shared Activities (EventRelation object reference): an event's related people ("Name", the Who
# relations: WhoId and IsParent relations) are up to 50 Contacts or one Lead; a non-recurring
# event has up to 1,000 invitees, counted apart from them.
MAX_EVENT_CONTACTS = 50
MAX_EVENT_INVITEES = 1000
_ACTIVITIES = {"Event", "Task"}


def apply(ctx: Transaction, sobject: SObject, new: dict, old: dict | None) -> None:
    name = sobject.name
    if name in _NAMED:
        new["Name"] = " ".join(p for p in (new.get("FirstName"), new.get("LastName")) if p) or None
    if name == "User" and not new.get("CommunityNickname") and new.get("Username"):
        new["CommunityNickname"] = new["Username"].split("@")[0][:40]
    if new.get("OwnerId") and new.get("OwnerId") != (old or {}).get("OwnerId"):
        _check_owner(ctx, sobject, new["OwnerId"])
    if new.get("RecordTypeId") and new.get("RecordTypeId") != (old or {}).get("RecordTypeId"):
        _check_record_type(ctx, sobject, new["RecordTypeId"])
    if name in _ACTIVITIES:
        _who_and_what(ctx, new)
    if name == "Event":
        _event_times(new, old)
    elif name == "Task":
        new["IsClosed"] = new.get("Status") == "Completed"
        new["IsHighPriority"] = new.get("Priority") == "High"
        if new["IsClosed"] and not new.get("CompletedDateTime"):
            new["CompletedDateTime"] = ctx.now()
    elif name == "Opportunity":
        stage = new.get("StageName") or ""
        new["IsClosed"] = stage.startswith("Closed")
        new["IsWon"] = stage == "Closed Won"
    elif name == "EventRelation" and old is None:
        _unique_pair(ctx, sobject, new, "EventId", "RelationId")
    elif name == "PermissionSetAssignment" and old is None:
        _unique_pair(ctx, sobject, new, "AssigneeId", "PermissionSetId")


COUNTED_AFTER_WRITE = frozenset({"EventRelation"})  # objects after_write checks or changes something for


def after_write(ctx: Transaction, sobject: SObject, new: dict, old: dict | None) -> None:
    """Checks that count stored rows, and side effects on other records, once `new` is stored.

    Counting after the write (inside the record's savepoint) sees the earlier records of the same
    batch, so the 51st relation of one insert fails as it would in Salesforce.
    """
    if sobject.name == "EventRelation":
        _event_relation_limits(ctx, new, old)
    if sobject.name == "EventRelation" and old is None and new.get("IsInvitee"):
        # an Event with invitees is a group event (Event object reference: IsGroupEvent, GroupEventType 1)
        ctx.conn.execute('UPDATE "Event" SET IsGroupEvent = 1, GroupEventType = \'1\' WHERE Id = ? '
                         "AND IsGroupEvent = 0", (new["EventId"],))


def _check_owner(ctx: Transaction, sobject: SObject, owner_id: str) -> None:
    if not owner_id.startswith("005"):
        return
    active = ctx.__dict__.setdefault("active_owners", set())  # a batch names the same owner on every record
    if owner_id in active:
        return
    row = ctx.conn.execute('SELECT IsActive FROM "User" WHERE Id = ?', (owner_id,)).fetchone()
    if row is not None and row[0]:
        active.add(owner_id)
    if row is not None and not row[0]:
        raise errors.InactiveOwnerOrUser(
            f"operation performed with inactive user [{owner_id}] as owner of {sobject.name.lower()}")


def _check_record_type(ctx: Transaction, sobject: SObject, record_type_id: str) -> None:
    row = ctx.conn.execute('SELECT SobjectType, IsActive FROM "RecordType" WHERE Id = ? AND IsDeleted = 0',
                           (record_type_id,)).fetchone()
    if row is None or row[0].lower() != sobject.name.lower() or not row[1]:
        raise errors.InvalidCrossReferenceKey(
            f"Record Type ID: this ID value isn't valid for the user: {record_type_id}", fields=["RecordTypeId"])


def _who_and_what(ctx: Transaction, new: dict) -> None:
    who, what = new.get("WhoId"), new.get("WhatId")
    if who and who.startswith("00Q") and what:
        raise errors.FieldIntegrityException(
            "field integrity exception: WhoId, WhatId (the Related To must be empty when the Name is a lead)",
            fields=["WhoId", "WhatId"])
    account = None
    if what and what.startswith("001"):
        account = what
    elif what and what.startswith("006"):
        row = ctx.conn.execute('SELECT AccountId FROM "Opportunity" WHERE Id = ?', (what,)).fetchone()
        account = row[0] if row else None
    elif who and who.startswith("003"):
        row = ctx.conn.execute('SELECT AccountId FROM "Contact" WHERE Id = ?', (who,)).fetchone()
        account = row[0] if row else None
    new["AccountId"] = account


def _dt(text: str | None) -> dt.datetime | None:
    return parse_datetime(text) if text else None


def _event_times(new: dict, old: dict | None) -> None:
    """Start/End/Duration kept consistent the way Salesforce does (see the Event object reference)."""
    old = old or {}

    def changed(k: str) -> bool:
        return new.get(k) != old.get(k)

    # StartDateTime and ActivityDateTime are the same instant under two names.
    if changed("StartDateTime") and new.get("StartDateTime"):
        new["ActivityDateTime"] = new["StartDateTime"]
    elif changed("ActivityDateTime") and new.get("ActivityDateTime"):
        new["StartDateTime"] = new["ActivityDateTime"]
    elif changed("StartDateTime") or changed("ActivityDateTime"):
        new["StartDateTime"] = new["ActivityDateTime"] = None
    if new.get("IsAllDayEvent"):
        day = new.get("ActivityDate") or (new.get("StartDateTime") or "")[:10] or None
        if day is None:
            raise errors.RequiredFieldMissing("Required fields are missing: [ActivityDate]", fields=["ActivityDate"])
        start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc)
        duration = new.get("DurationInMinutes") or 1440
        new["DurationInMinutes"] = duration
        new["ActivityDate"] = day
        new["StartDateTime"] = new["ActivityDateTime"] = format_datetime_seconds(start)
        end = start + dt.timedelta(minutes=duration)
        new["EndDateTime"] = format_datetime_seconds(end)
        new["EndDate"] = (end - dt.timedelta(minutes=1)).date().isoformat()
        return
    start = _dt(new.get("StartDateTime"))
    if start is None:
        raise errors.RequiredFieldMissing("Required fields are missing: [ActivityDateTime]",
                                          fields=["ActivityDateTime"])
    end = _dt(new.get("EndDateTime"))
    duration = new.get("DurationInMinutes")
    if end is not None and (changed("EndDateTime") or duration is None):
        minutes = int((end - start).total_seconds() // 60)
        if duration is not None and changed("DurationInMinutes") and duration != minutes:
            raise errors.FieldIntegrityException(
                "Duration: the event's duration and its end time do not match", fields=["DurationInMinutes"])
        duration = minutes
    elif duration is not None:
        end = start + dt.timedelta(minutes=duration)
    else:
        raise errors.RequiredFieldMissing("Required fields are missing: [DurationInMinutes]",
                                          fields=["DurationInMinutes"])
    if duration < 0:
        raise errors.FieldIntegrityException("End Date Time: the end of an event cannot be before its start",
                                             fields=["EndDateTime"])
    if duration > 14 * 24 * 60:
        raise errors.FieldIntegrityException("Event duration cannot exceed 14 days", fields=["EndDateTime"])
    new["DurationInMinutes"] = duration
    new["EndDateTime"] = format_datetime_seconds(end)
    new["ActivityDate"] = start.date().isoformat()
    new["EndDate"] = end.date().isoformat()


def _unique_pair(ctx: Transaction, sobject: SObject, new: dict, a: str, b: str) -> None:
    row = ctx.conn.execute(
        f"SELECT Id FROM {store.quote(sobject.table)} WHERE {a} = ? AND {b} = ? AND IsDeleted = 0",
        (new.get(a), new.get(b))).fetchone()
    if row:
        raise errors.DuplicateValue(f"duplicate value found: <unknown> duplicates value on record with id: {row[0]}")


def _event_relation_limits(ctx: Transaction, new: dict, old: dict | None) -> None:
    """Up to 50 related Contacts or one Lead per event (WhoId included), and 1,000 invitees.

    Salesforce's exact error text for these is not documented; the local org answers
    FIELD_INTEGRITY_EXCEPTION (the code of the other Who/What rule) naming the limit.
    """
    old = old or {}
    event_id = new["EventId"]
    relation = new.get("RelationId") or ""
    if new.get("IsParent") and not old.get("IsParent") and relation[:3] in ("003", "00Q"):
        rows = ctx.conn.execute('SELECT RelationId FROM "EventRelation" WHERE EventId = ? AND IsParent = 1 '
                                "AND IsDeleted = 0", (event_id,)).fetchall()
        who = ctx.conn.execute('SELECT WhoId FROM "Event" WHERE Id = ?', (event_id,)).fetchone()
        people = {r[0] for r in rows if r[0][:3] in ("003", "00Q")} | ({who[0]} if who and who[0] else set())
        leads = sorted(p for p in people if p.startswith("00Q"))
        contacts = len(people) - len(leads)
        if leads and len(people) > 1:
            raise errors.FieldIntegrityException(
                f"Relation ID: an event related to a lead can't be related to other contacts or leads "
                f"(Shared Activities allows up to {MAX_EVENT_CONTACTS} contacts or one lead); event {event_id} "
                f"would relate {len(leads)} lead(s) and {contacts} contact(s)", fields=["RelationId"])
        if contacts > MAX_EVENT_CONTACTS:
            raise errors.FieldIntegrityException(
                f"Relation ID: an event can be related to up to {MAX_EVENT_CONTACTS} contacts or one lead "
                f"(Shared Activities); event {event_id} would relate {contacts} contacts", fields=["RelationId"])
    if new.get("IsInvitee") and not old.get("IsInvitee"):
        (invitees,) = ctx.conn.execute('SELECT COUNT(*) FROM "EventRelation" WHERE EventId = ? AND IsInvitee = 1 '
                                       "AND IsDeleted = 0", (event_id,)).fetchone()
        if invitees > MAX_EVENT_INVITEES:
            raise errors.FieldIntegrityException(
                f"Relation ID: an event can have up to {MAX_EVENT_INVITEES} invitees; event {event_id} would "
                f"have {invitees}", fields=["RelationId"])
