"""Rules of standard objects that describe cannot express (compound names, Event times, Who/What).

`apply` runs on every new/changed record after its fields were coerced (and again after a
before-save trigger edited it), before required fields are checked; it edits `new` in place or
raises the error Salesforce answers. `after_write` runs once the record is stored: limits that
count rows (an event's related contacts/lead and invitees) and side effects on other records.
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
# Case numbers: an auto-number with display format {00000000}; a new org's first case is 00001000.
# Kept in the store's meta under the key auto-number fields deployed by Metadata use.
CASE_NUMBER_META = "autonumber:Case.CaseNumber"
FIRST_CASE_NUMBER = 1000


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
        _opportunity(ctx, new, old)
    elif name == "Case":
        _case(ctx, new, old)
    elif name == "CampaignMember":
        _campaign_member(ctx, sobject, new, old)
    elif name == "Group" and not new.get("DeveloperName") and new.get("Name"):
        new["DeveloperName"] = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", new["Name"])).strip("_")[:80] or None
    elif name == "QueueSobject" and old is None:
        _queue_sobject(ctx, sobject, new)
    elif name == "GroupMember" and old is None:
        _unique_pair(ctx, sobject, new, "GroupId", "UserOrGroupId")
    elif name == "EventRelation" and old is None:
        _unique_pair(ctx, sobject, new, "EventId", "RelationId")
    elif name == "PermissionSetAssignment" and old is None:
        _unique_pair(ctx, sobject, new, "AssigneeId", "PermissionSetId")


# objects after_write checks or changes something for (each record is written on its own for them)
COUNTED_AFTER_WRITE = frozenset({"EventRelation", "CampaignMember", "Opportunity"})


def after_write(ctx: Transaction, sobject: SObject, new: dict, old: dict | None) -> None:
    """Checks that count stored rows, and side effects on other records, once `new` is stored.

    Counting after the write (inside the record's savepoint) sees the earlier records of the same
    batch, so the 51st relation of one insert fails as it would in Salesforce.
    """
    if sobject.name == "EventRelation":
        _event_relation_limits(ctx, new, old)
    if sobject.name in ("CampaignMember", "Opportunity"):
        for campaign_id in {new.get("CampaignId"), (old or {}).get("CampaignId")}:
            campaign_statistics(ctx, campaign_id)
    if sobject.name == "EventRelation" and old is None and new.get("IsInvitee"):
        # an Event with invitees is a group event (Event object reference: IsGroupEvent, GroupEventType 1)
        ctx.conn.execute('UPDATE "Event" SET IsGroupEvent = 1, GroupEventType = \'1\' WHERE Id = ? '
                         "AND IsGroupEvent = 0", (new["EventId"],))


def after_delete(ctx: Transaction, sobject: SObject, record_id: str) -> None:
    """Side effects of a (soft) delete, cascaded ones included, on other records."""
    if sobject.name in ("CampaignMember", "Opportunity"):
        row = ctx.conn.execute(f'SELECT CampaignId FROM "{sobject.table}" WHERE Id = ?', (record_id,)).fetchone()
        campaign_statistics(ctx, row[0] if row else None)


def campaign_statistics(ctx: Transaction, campaign_id: str | None) -> None:
    """A campaign's statistics (Campaign object reference: NumberOfLeads, NumberOfContacts,
    NumberOfResponses, NumberOfConvertedLeads, NumberOfOpportunities, NumberOfWonOpportunities,
    AmountAllOpportunities, AmountWonOpportunities) from its live members and opportunities."""
    if not campaign_id or not campaign_id.startswith("701"):
        return
    leads, contacts, responses, converted = ctx.conn.execute(
        'SELECT COUNT(m.LeadId), COUNT(m.ContactId), COALESCE(SUM(m.HasResponded), 0), '
        'COALESCE(SUM(l.IsConverted), 0) FROM "CampaignMember" m LEFT JOIN "Lead" l ON l.Id = m.LeadId '
        "WHERE m.CampaignId = ? AND m.IsDeleted = 0", (campaign_id,)).fetchone()
    opportunities, won, amount, won_amount = ctx.conn.execute(
        'SELECT COUNT(*), COALESCE(SUM(IsWon), 0), COALESCE(SUM(Amount), 0), '
        'COALESCE(SUM(CASE WHEN IsWon = 1 THEN Amount END), 0) FROM "Opportunity" '
        "WHERE CampaignId = ? AND IsDeleted = 0", (campaign_id,)).fetchone()
    ctx.conn.execute(
        'UPDATE "Campaign" SET NumberOfLeads = ?, NumberOfContacts = ?, NumberOfResponses = ?, '
        "NumberOfConvertedLeads = ?, NumberOfOpportunities = ?, NumberOfWonOpportunities = ?, "
        "AmountAllOpportunities = ?, AmountWonOpportunities = ? WHERE Id = ?",
        (leads, contacts, responses, converted, opportunities, won, amount, won_amount, campaign_id))


# A new org's opportunity stages (Setup > Opportunity Stages): default probability and forecast category.
STAGES = {"Prospecting": (10, "Pipeline"), "Qualification": (10, "Pipeline"), "Needs Analysis": (20, "Pipeline"),
          "Value Proposition": (50, "Pipeline"), "Id. Decision Makers": (60, "Pipeline"),
          "Perception Analysis": (70, "Pipeline"), "Proposal/Price Quote": (75, "Pipeline"),
          "Negotiation/Review": (90, "Pipeline"), "Closed Won": (100, "Closed"), "Closed Lost": (0, "Omitted")}
# ForecastCategoryName (the label) -> ForecastCategory (the API value), as the recorded picklists pair them.
FORECAST_CATEGORIES = {"Omitted": "Omitted", "Pipeline": "Pipeline", "Best Case": "BestCase",
                       "Commit": "Forecast", "Closed": "Closed"}


def _opportunity(ctx: Transaction, new: dict, old: dict | None) -> None:
    """What Salesforce derives from the stage and close date: a new stage brings its probability and
    forecast category unless the same save sets them; IsClosed/IsWon, ExpectedRevenue and the fiscal
    period (a January fiscal year) follow."""
    stage = new.get("StageName") or ""
    moved = old is None or stage != old.get("StageName")
    default = STAGES.get(stage)
    if moved and default:
        if new.get("Probability") is None or (old is not None and new.get("Probability") == old.get("Probability")):
            new["Probability"] = float(default[0])
        if new.get("ForecastCategoryName") is None or (
                old is not None and new.get("ForecastCategoryName") == old.get("ForecastCategoryName")):
            new["ForecastCategoryName"] = default[1]
    if old is not None and moved:
        new["LastStageChangeDate"] = ctx.now()
    new["ForecastCategory"] = FORECAST_CATEGORIES.get(new.get("ForecastCategoryName") or "")
    new["IsClosed"] = stage.startswith("Closed")
    new["IsWon"] = stage == "Closed Won"
    amount, probability = new.get("Amount"), new.get("Probability")
    new["ExpectedRevenue"] = (round(amount * probability / 100, 2)
                              if amount is not None and probability is not None else None)
    close = new.get("CloseDate")
    if close:
        year, month = int(close[:4]), int(close[5:7])
        quarter = (month - 1) // 3 + 1
        new["FiscalYear"], new["FiscalQuarter"], new["Fiscal"] = year, quarter, f"{year} {quarter}"


def _case(ctx: Transaction, new: dict, old: dict | None) -> None:
    """CaseNumber (auto-number), IsClosed from Status, ClosedDate stamped when the case closes."""
    if not new.get("CaseNumber"):
        state = json.loads(store.get_meta(ctx.conn, CASE_NUMBER_META) or "null") or {
            "format": "{00000000}", "next": FIRST_CASE_NUMBER}
        new["CaseNumber"] = f"{state['next']:08d}"
        state["next"] += 1
        store.set_meta(ctx.conn, CASE_NUMBER_META, json.dumps(state))
    new["IsClosed"] = new.get("Status") == "Closed"
    if new["IsClosed"] and not new.get("ClosedDate"):
        new["ClosedDate"] = ctx.now()
    elif not new["IsClosed"]:
        new["ClosedDate"] = None


def _campaign_member(ctx: Transaction, sobject: SObject, new: dict, old: dict | None) -> None:
    """A member is one lead or contact, once per campaign; HasResponded follows Status."""
    new["LeadOrContactId"] = new.get("ContactId") or new.get("LeadId")
    if new["LeadOrContactId"] is None:
        raise errors.RequiredFieldMissing("Required fields are missing: [ContactId, LeadId]",
                                          fields=["ContactId", "LeadId"])
    new["HasResponded"] = new.get("Status") == "Responded"
    if new["HasResponded"] and not new.get("FirstRespondedDate"):
        new["FirstRespondedDate"] = ctx.now()[:10]
    if old is None:
        key = "ContactId" if new.get("ContactId") else "LeadId"
        row = ctx.conn.execute(f'SELECT Id FROM "CampaignMember" WHERE CampaignId = ? AND {key} = ? '
                               "AND IsDeleted = 0", (new.get("CampaignId"), new[key])).fetchone()
        if row:
            raise errors.DuplicateValue("Already a campaign member.", fields=[])


def _queue_sobject(ctx: Transaction, sobject: SObject, new: dict) -> None:
    row = ctx.conn.execute('SELECT Type FROM "Group" WHERE Id = ?', (new.get("QueueId"),)).fetchone()
    if row is not None and row[0] != "Queue":
        raise errors.FieldIntegrityException("Queue: id value of incorrect type: " + new["QueueId"],
                                             fields=["QueueId"])
    _unique_pair(ctx, sobject, new, "QueueId", "SobjectType")


def _check_owner(ctx: Transaction, sobject: SObject, owner_id: str) -> None:
    if owner_id.startswith("00G") and sobject.name != "Group":
        _check_queue(ctx, sobject, owner_id)
        return
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


def _check_queue(ctx: Transaction, sobject: SObject, queue_id: str) -> None:
    """A group owns records only as a queue that lists the object (a QueueSobject row)."""
    row = ctx.conn.execute(
        'SELECT 1 FROM "Group" g JOIN "QueueSobject" q ON q.QueueId = g.Id AND q.IsDeleted = 0 '
        "WHERE g.Id = ? AND g.Type = 'Queue' AND g.IsDeleted = 0 AND q.SobjectType = ?",
        (queue_id, sobject.name)).fetchone()
    if row is None:
        raise errors.FieldIntegrityException(
            f"Owner ID: id value of incorrect type: {queue_id}", fields=["OwnerId"])


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
