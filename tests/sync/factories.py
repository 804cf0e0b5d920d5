"""Plain-data builders for the sync tests: bookings, settings, snapshots, describes."""

from __future__ import annotations

from typing import Any

from slotforce.sync.booking import BookingChange
from slotforce.sync.outcome import DroppedFieldsReport
from slotforce.sync.describe import FieldInfo, SObjectInfo
from slotforce.sync.settings import Settings, parse_settings
from slotforce.sync.snapshot import AccountRecord, DomainCount, PersonRecord, Snapshot, UserRecord


class DroppedFieldsLog(list[DroppedFieldsReport]):
    """An ErrorSink that keeps every report, for tests to read."""

    def fields_dropped(self, report: DroppedFieldsReport) -> None:
        self.append(report)


def booking(**over: Any) -> BookingChange:
    data: dict[str, Any] = {
        "source": "calcom",
        "action": "Created",
        "booking_uid": "bk-1",
        "event_type_slug": "discovery-call",
        "event_type_name": "Discovery Call",
        "title": "Discovery Call between Host and Pat",
        "start": "2024-05-01T10:00:00Z",
        "end": "2024-05-01T10:30:00Z",
        "organizer": {"email": "host@corp.com", "name": "Host One"},
        "attendee": {"email": "pat@acme.com", "name": "Pat Jones", "time_zone": "Europe/Berlin"},
        "occurred_at": "2024-04-30T09:00:00Z",
        "booking_created_at": "2024-04-30T08:59:00Z",
    }
    data.update(over)
    return BookingChange.model_validate(data)


def settings(**event_type: Any) -> Settings:
    return parse_settings({"event_types": {"default": {}, "discovery-call": event_type}})


def contact(id: str, email: str, **kw: Any) -> PersonRecord:
    return PersonRecord(id=id, sobject="Contact", email=email, **kw)


def lead(id: str, email: str, **kw: Any) -> PersonRecord:
    return PersonRecord(id=id, sobject="Lead", email=email, **kw)


def account(id: str, website: str | None = None, **kw: Any) -> AccountRecord:
    return AccountRecord(id=id, website=website, **kw)


def snapshot(people: list[PersonRecord] = (), accounts: list[AccountRecord] = (),
             users: list[UserRecord] = (), domains: dict[str, list[tuple[str, int]]] | None = None) -> Snapshot:
    snap = Snapshot()
    for p in people:
        (snap.contacts if p.sobject == "Contact" else snap.leads).setdefault(p.email, []).append(p)
        if p.sobject == "Contact":
            snap.contacts_by_id[p.id] = p
    for a in accounts:
        snap.accounts[a.id] = a
    for u in users:
        snap.users_by_email[u.email] = u
        if u.username:
            snap.users_by_username[u.username] = u
    for d, rows in (domains or {}).items():
        snap.domain_counts[d] = [DomainCount(a, n) for a, n in rows]
    return snap


HOST = UserRecord(id="005000000000001AAA", email="host@corp.com", username="host@corp.com", name="Host One")


def describes() -> dict[str, SObjectInfo]:
    text = lambda name, length=255: FieldInfo(name, "string", length)  # noqa: E731
    common = [text("FirstName", 40), text("LastName", 80), text("Email"), text("Phone", 40), FieldInfo("OwnerId", "reference", 18),
              FieldInfo("Meeting_Status__c", "picklist", 255, picklist=("Scheduled", "Canceled", "No Show")),
              FieldInfo("No_Show__c", "boolean"), FieldInfo("Meeting_Date__c", "datetime"),
              FieldInfo("Last_Meeting_Day__c", "date"), text("Meeting_Type__c", 100), text("Source_Detail__c", 20),
              FieldInfo("Notes__c", "textarea", 32000), FieldInfo("Score__c", "double")]
    return {
        "Lead": SObjectInfo.simple("Lead", *common, text("Company"), FieldInfo("Created_By_Scheduler__c", "boolean"),
                                   FieldInfo("IsConverted", "boolean", updateable=False, createable=False)),
        "Contact": SObjectInfo.simple("Contact", *common, FieldInfo("AccountId", "reference", 18)),
        "Event": SObjectInfo.simple("Event", text("Subject"), FieldInfo("No_Show__c", "boolean"), FieldInfo("Canceled__c", "boolean"),
                                    FieldInfo("Meeting_Status__c", "picklist", picklist=("Scheduled", "Canceled")),
                                    text("Meeting_Type__c", 75), FieldInfo("Canceled_On__c", "date")),
        "Account": SObjectInfo.simple("Account", text("Name"), text("Website"), text("Sub_Region__c")),
    }
