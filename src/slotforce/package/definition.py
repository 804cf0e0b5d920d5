"""The slotforce package itself: every object, field and permission set of DESIGN.md, as models.

Permission sets are derived from the objects, so a field added here (or by an admin extension)
gets its field-level access without a second edit.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from slotforce.package.errors import DefinitionError
from slotforce.package.flows import slotforce_flows
from slotforce.package.model import (
    CheckboxField,
    CustomObject,
    DateTimeField,
    EmailField,
    FieldPermission,
    LongTextAreaField,
    LookupField,
    NameField,
    ObjectPermission,
    Package,
    PermissionSet,
    PicklistField,
    PicklistValue,
    StandardObject,
    TextField,
    UrlField,
    permission_targets,
)

API_VERSION = "62.0"
LONG_TEXT = 32000
MEETING_STATUSES = ["Scheduled", "Rescheduled", "Completed", "No Show", "Canceled"]


def _picklist(*names: str, default: str | None = None) -> list[PicklistValue]:
    # API names use underscores (No_Show); labels read naturally (No Show).
    return [PicklistValue(full_name=n, label=n.replace("_", " "), default=(n == default)) for n in names]


def _text(name: str, label: str, length: int, why: str, **kw) -> TextField:
    return TextField(api_name=name, label=label, length=length, description=why, **kw)


def _long(name: str, label: str, why: str) -> LongTextAreaField:
    return LongTextAreaField(api_name=name, label=label, length=LONG_TEXT, visible_lines=5, description=why)


def booking_action() -> CustomObject:
    text, long = _text, _long
    return CustomObject(
        api_name="Booking_Action__c",
        label="Booking Action",
        plural_label="Booking Actions",
        description="One row per booking change, written by the slotforce sync engine and consumed by "
        "the package's Flows, which turn it into Events. Keeps what happened and how it was processed.",
        name_field=NameField(label="Booking Action Name", type="AutoNumber",
                             display_format="BA-{00000000}", starting_number=1),
        enable_history=True,
        fields=[
            text("Action_Key__c", "Action Key", 255,
                 "Idempotency key {source}:{booking_uid}:{action}:{sequence}; the engine upserts by it so a "
                 "retried webhook never creates a second action.", external_id=True, unique=True),
            PicklistField(api_name="Action__c", label="Action",
                          description="What happened to the booking; the Flows branch on it.",
                          values=_picklist("Created", "Rescheduled", "Canceled", "No_Show",
                                           "No_Show_Cleared", "Completed")),
            text("Booking_Uid__c", "Booking UID", 255,
                 "The booking's stable id at the scheduling source; joins to Event.Booking_Uid__c."),
            text("Previous_Booking_Uid__c", "Previous Booking UID", 255,
                 "The uid before a reschedule that gave the booking a new uid (Cal.com rescheduleUid, "
                 "Calendly old invitee), so the Flows can still find the Event."),
            text("Source__c", "Source", 40, "Which scheduling backend sent the booking: calcom, calendly or api."),
            text("Subject__c", "Subject", 255, "Subject the Event gets."),
            long("Description__c", "Description", "Description the Event gets."),
            DateTimeField(api_name="Start__c", label="Start", description="Meeting start (UTC); the Event's start."),
            DateTimeField(api_name="End__c", label="End", description="Meeting end (UTC); the Event's end."),
            text("Invitee_Timezone__c", "Invitee Time Zone", 64,
                 "IANA time zone of the primary attendee, for follow-ups in their local time."),
            text("Location__c", "Location", 255, "Where the meeting happens; the Event's location."),
            UrlField(api_name="Meeting_Url__c", label="Meeting URL",
                     description="Video link of the meeting, copied to the Event."),
            text("Meeting_Type__c", "Meeting Type", 100,
                 "Event type name at the scheduling source, copied to the Event and the attendee record."),
            text("Router_Name__c", "Router Name", 75,
                 "Routing form or router that produced the booking, for attribution reports."),
            EmailField(api_name="Organizer_Email__c", label="Organizer Email",
                       description="Email of the host, kept for tracing when no User matched."),
            text("Owner_Id__c", "Owner Id", 18,
                 "Salesforce User id the engine resolved as the Event owner; blank lets the Flow keep the default owner."),
            text("Who_Id__c", "Who Id", 18, "Lead or Contact id the engine resolved for the primary attendee."),
            text("What_Id__c", "What Id", 18, "Account id the engine resolved; blank when the attendee is a Lead."),
            EmailField(api_name="Invitee_Email__c", label="Invitee Email",
                       description="Email of the primary attendee, kept for tracing and matching."),
            text("Invitee_Name__c", "Invitee Name", 255, "Name of the primary attendee as booked."),
            long("Guest_Emails__c", "Guest Emails",
                 "Other attendees, one email per line; the Flows add matching Leads/Contacts to the Event."),
            long("Co_Host_Emails__c", "Co-Host Emails",
                 "Other hosts, one email per line; the Flows add matching active Users to the Event."),
            PicklistField(api_name="Cancel_Mode__c", label="Cancel Mode",
                          description="On cancel: Delete removes the Event, Keep marks it Canceled.",
                          values=_picklist("Delete", "Keep")),
            text("Cancel_Reason__c", "Cancel Reason", 255, "Reason the attendee or host gave for canceling."),
            _canceled_by("Who canceled the booking: the host or the attendee (blank when the source does not say)."),
            CheckboxField(api_name="Reschedule_Requested__c", label="Reschedule Requested",
                          description="Checked when the host canceled to ask the attendee to pick a new time "
                          "(Cal.com's request reschedule)."),
            long("No_Show_Emails__c", "No-Show Emails",
                 "On a no-show change: the attendees it is about, one email per line; only their Leads/Contacts "
                 "are marked (or cleared). Blank: the booking's attendee."),
            CheckboxField(api_name="Host_No_Show__c", label="Host No Show",
                          description="On a no-show change: it is the host who missed the meeting."),
            text("Seat_Id__c", "Seat Id", 255,
                 "Set when the action is about one seat of a seated booking (Cal.com seats): a Created adds "
                 "its attendee to the booking's Event, a Canceled takes them off; the last seat cancels the Event."),
            PicklistField(api_name="Status__c", label="Status", track_history=True,
                          description="Processing state set by the Flows: Pending until processed, then "
                          "Processed, Skipped or Failed (see Error).",
                          values=_picklist("Pending", "Processed", "Failed", "Skipped", default="Pending")),
            long("Error__c", "Error", "Fault message the Flows wrote when processing failed, for replay."),
            text("Event_Id__c", "Event Id", 18, "The Event the Flows created or changed, for tracing."),
            DateTimeField(api_name="Processed_At__c", label="Processed At",
                          description="When the Flows processed this action."),
        ],
    )


def scheduling_link() -> CustomObject:
    return CustomObject(
        api_name="Scheduling_Link__c",
        label="Scheduling Link",
        plural_label="Scheduling Links",
        description="One row per scheduling link at the source, upserted by link sync; a Flow maps "
        "profile links to the matching User.",
        name_field=NameField(label="Scheduling Link Name", type="Text"),
        enable_history=True,
        fields=[
            TextField(api_name="Link_Key__c", label="Link Key", length=255, external_id=True, unique=True,
                      description="The source's stable id of the link; link sync upserts by it."),
            UrlField(api_name="Url__c", label="URL", description="The link itself, with https://."),
            PicklistField(api_name="Kind__c", label="Kind",
                          description="What the link books: a person's profile page, one event type, "
                          "or a managed (team) event; only Profile links map to a User.",
                          values=_picklist("Profile", "Event_Type", "Managed_Event")),
            EmailField(api_name="Owner_Email__c", label="Owner Email",
                       description="Email of the person the link belongs to; the Flow matches Users by it."),
            CheckboxField(api_name="Active__c", label="Active",
                          description="Whether the link still works at the source."),
            LookupField(api_name="User__c", label="User", reference_to="User",
                        relationship_name="Scheduling_Links", relationship_label="Scheduling Links",
                        description="The active User the Flow matched by Owner Email."),
            PicklistField(api_name="Status__c", label="Status", track_history=True,
                          description="Set by the Flow: Mapped when a User matched, Unmatched when none did.",
                          values=_picklist("Pending", "Mapped", "Unmatched", default="Pending")),
        ],
    )


def _canceled_by(why: str) -> PicklistField:
    return PicklistField(api_name="Canceled_By__c", label="Canceled By", description=why,
                         values=_picklist("Host", "Attendee"))


def _meeting_status(why: str) -> PicklistField:
    return PicklistField(api_name="Meeting_Status__c", label="Meeting Status", description=why,
                         values=[PicklistValue(full_name=s) for s in MEETING_STATUSES])


def activity() -> StandardObject:
    return StandardObject(api_name="Activity", fields=[
        TextField(api_name="Booking_Uid__c", label="Booking UID", length=255, external_id=True, unique=True,
                  description="The booking's stable id at the scheduling source; the Flows find the Event by it."),
        TextField(api_name="Meeting_Type__c", label="Meeting Type", length=75,
                  description="Event type name at the scheduling source."),
        _meeting_status("Where the booked meeting stands, kept current by the Flows."),
        CheckboxField(api_name="No_Show__c", label="No Show",
                      description="Checked when the host marked the attendee as a no-show."),
        CheckboxField(api_name="Canceled__c", label="Canceled",
                      description="Checked when the booking was canceled and the Event kept (Cancel Mode Keep)."),
        TextField(api_name="Router_Name__c", label="Router Name", length=75,
                  description="Routing form or router that produced the booking."),
        UrlField(api_name="Meeting_Url__c", label="Meeting URL", description="Video link of the meeting."),
        CheckboxField(api_name="Host_No_Show__c", label="Host No Show",
                      description="Checked when the host missed the meeting (Cal Video saw no host join)."),
        _canceled_by("Who canceled the meeting (Cancel Mode Keep): the host or the attendee."),
        CheckboxField(api_name="Reschedule_Requested__c", label="Reschedule Requested",
                      description="Checked when the host canceled to ask the attendee to pick a new time."),
    ])


def _person_fields() -> list:
    return [
        TextField(api_name="Meeting_Type__c", label="Meeting Type", length=100,
                  description="Event type of the person's latest booked meeting."),
        DateTimeField(api_name="Meeting_Date__c", label="Meeting Date",
                      description="Start of the person's latest booked meeting."),
        _meeting_status("Where the person's latest meeting stands, mirrored from the Event by the Flows."),
        CheckboxField(api_name="No_Show__c", label="No Show",
                      description="Checked when the person missed their latest meeting."),
        TextField(api_name="Router_Name__c", label="Router Name", length=75,
                  description="Routing form or router that produced the person's latest booking."),
        DateTimeField(api_name="Meeting_Created_At__c", label="Meeting Created At",
                      description="When the person's latest meeting was booked, for speed-to-lead reports."),
    ]


def lead() -> StandardObject:
    return StandardObject(api_name="Lead", fields=[
        *_person_fields(),
        CheckboxField(api_name="Created_By_Scheduler__c", label="Created By Scheduler",
                      description="Checked when slotforce created this Lead from a booking, so admins can "
                      "tell scheduler leads from others."),
    ])


def contact() -> StandardObject:
    return StandardObject(api_name="Contact", fields=_person_fields())


def user() -> StandardObject:
    return StandardObject(api_name="User", fields=[
        UrlField(api_name="Scheduling_Link__c", label="Scheduling Link",
                 description="The User's own booking page, set by the Flow from their Profile scheduling link."),
    ])


def permission_sets(objects: list) -> list[PermissionSet]:
    """Slotforce_Integration (the engine's user), Slotforce_Admin (read everything of ours) and
    Slotforce_User (sales users: read the meeting fields on their Leads, Contacts and Events, and the
    Booking Actions behind them)."""
    custom = [o.api_name for o in objects if isinstance(o, CustomObject)]
    field_names = sorted(
        (f"{sobject}.{f.api_name}", f) for o in objects for sobject in permission_targets(o) for f in o.fields
    )
    permissionable = [name for name, f in field_names if f.permissionable]
    integration = PermissionSet(
        api_name="Slotforce_Integration",
        label="Slotforce Integration",
        description="For the sync engine's integration user: writes Booking Actions, Scheduling Links, "
        "Leads and Contacts; reads Accounts. No Modify/View All Data.",
        object_permissions=sorted(
            [ObjectPermission(object=o, allow_create=True, allow_edit=True) for o in [*custom, "Contact", "Lead"]]
            + [ObjectPermission(object="Account")],
            key=lambda p: p.object,
        ),
        field_permissions=[FieldPermission(field=n, editable=True) for n in permissionable],
    )
    admin = PermissionSet(
        api_name="Slotforce_Admin",
        label="Slotforce Admin",
        description="For admins who watch the sync: read access to every slotforce object and field.",
        object_permissions=[ObjectPermission(object=o) for o in sorted(custom)],
        field_permissions=[FieldPermission(field=n) for n in permissionable],
    )
    sales = PermissionSet(
        api_name="Slotforce_User",
        label="Slotforce User",
        description="For sales users: read the meeting fields slotforce fills on Leads, Contacts and Events, "
        "and the Booking Actions behind them. Nothing editable.",
        object_permissions=[ObjectPermission(object="Booking_Action__c")],
        field_permissions=[FieldPermission(field=n) for n in permissionable
                           if n.split(".")[0] in ("Booking_Action__c", "Contact", "Event", "Lead")],
    )
    return [admin, integration, sales]


def base_objects() -> list:
    return [booking_action(), scheduling_link(), activity(), contact(), lead(), user()]


def slotforce_package(extensions: Path | None = None) -> Package:
    """The package model; `extensions` is an admin's YAML of extra fields (see extensions.py)."""
    try:
        objects = base_objects()
        flows = slotforce_flows()
    except ValidationError as error:  # a mistake in this file: name the model and the rule
        raise _definition_error(f"slotforce package ({error.title})", error) from None
    if extensions is not None:
        from slotforce.package.extensions import apply_extensions

        objects = apply_extensions(objects, Path(extensions))
    try:
        return Package(name="slotforce", api_version=API_VERSION, objects=objects,
                       permission_sets=permission_sets(objects), flows=flows)
    except ValidationError as error:  # whole-package rules, e.g. a lookup to an object we lack
        raise _definition_error(str(extensions) if extensions is not None else "slotforce package", error) from None


def _definition_error(where: str, error: ValidationError) -> DefinitionError:
    first = error.errors()[0]
    loc = ".".join(map(str, first["loc"]))
    return DefinitionError(f"{where}: {loc}" if loc else where, first["msg"].removeprefix("Value error, "))
