"""The package's four Flows (DESIGN.md "Flows"), written as models.

All are bulk-safe: queries and DML happen once per interview, never on a loop or goto cycle (the
`Flow` model refuses that), so Salesforce can batch the interviews of up to 200 records into one
query or DML per element. Every Booking Action ends Processed, Skipped or Failed: each data
element has a fault connector to `Mark_Failed`, which stores `$Flow.FaultMessage` in Error__c.
"""

from __future__ import annotations

from slotforce.package.flow import (
    FALSE, NULL, TRUE, Assignment, AssignmentItem, Condition, Decision, FieldValue, Flow, Formula, Loop,
    RecordCreate, RecordDelete, RecordFilter, RecordLookup, RecordUpdate, Rule, Start, Subflow, SubflowInput,
    SubflowOutput, TextTemplate, Variable, number, ref, text,
)

BOOKING_ACTION = "Booking_Action__c"


def _is(left: str, op: str, right) -> Condition:
    return Condition(left=left, operator=op, right=right)


def _set(to: str, value, operator: str = "Assign") -> AssignmentItem:
    return AssignmentItem(to=to, operator=operator, value=value)


def _id_is(reference: str) -> list[RecordFilter]:
    return [RecordFilter(field="Id", operator="EqualTo", value=ref(reference))]


def _mark(name: str, status: str, *, error=None, event_id: str | None = None, fault: str | None = "Mark_Failed",
          description: str | None = None) -> RecordUpdate:
    """Write the outcome on the triggering Booking Action (a DML on it, not on $Record in memory)."""
    values = [FieldValue(field="Status__c", value=text(status)),
              FieldValue(field="Processed_At__c", value=ref("$Flow.CurrentDateTime"))]
    if error is not None:
        values.append(FieldValue(field="Error__c", value=error))
    if event_id is not None:
        values.append(FieldValue(field="Event_Id__c", value=ref(event_id)))
    return RecordUpdate(name=name, object=BOOKING_ACTION, filters=_id_is("$Record.Id"), values=values,
                        fault=fault, description=description)


MARK_FAILED = _mark("Mark_Failed", "Failed", error=ref("$Flow.FaultMessage"), fault=None,
                    description="Fault path of every data element: keep the fault message for replay.")


def _who_update(name: str, sobject: str, where: str, values: list[FieldValue]) -> RecordUpdate:
    return RecordUpdate(name=name, object=sobject, filters=_id_is(where), values=values,
                        next="Mark_Processed", fault="Mark_Failed")


def _participants(name: str, event_id: str, who: str, guests: str, next_: str, *, not_related: bool = True) -> Subflow:
    """Call Event_Participants: relate guests (emails, one per line) and the co-hosts to the Event."""
    outputs = [SubflowOutput(name="ErrorMessage", to="ParticipantsError")]
    if not_related:
        outputs.append(SubflowOutput(name="NotRelatedEmails", to="GuestsNotRelated"))
    return Subflow(name=name, flow_name="Event_Participants", inputs=[
        SubflowInput(name="EventId", value=ref(event_id)),
        SubflowInput(name="WhoId", value=ref(who)),
        SubflowInput(name="GuestEmails", value=ref(guests)),
        SubflowInput(name="CoHostEmails", value=ref("$Record.Co_Host_Emails__c")),
    ], outputs=outputs, next=next_)


def _active_user(name: str, label: str, email: str, output: str, next_: str, fault: str) -> RecordLookup:
    """The oldest active User with `email` (SOQL compares strings case-insensitively, so the email match is too)."""
    return RecordLookup(name=name, label=label, object="User", fields=["Id"],
                        filters=[RecordFilter(field="Email", operator="EqualTo", value=ref(email)),
                                 RecordFilter(field="IsActive", operator="EqualTo", value=TRUE)],
                        sort_field="CreatedDate", sort_order="Asc", output=output, next=next_, fault=fault)


def _who_kind(who: str) -> Decision:
    # Lead ids start 00Q, Contact ids 003: the key prefix says which object to update.
    return Decision(name="Who_Kind", label="Who is a Lead or a Contact?", rules=[
        Rule(name="Who_Is_Lead", conditions=[_is(who, "StartsWith", text("00Q"))], next="Update_Lead"),
        Rule(name="Who_Is_Contact", conditions=[_is(who, "StartsWith", text("003"))], next="Update_Contact"),
    ], default="Mark_Processed", default_label="No Who")


def booking_action_created() -> Flow:
    event = [FieldValue(field=f, value=v) for f, v in [
        ("Subject", ref("$Record.Subject__c")),
        ("StartDateTime", ref("$Record.Start__c")),
        ("EndDateTime", ref("$Record.End__c")),
        ("Location", ref("$Record.Location__c")),
        ("Description", ref("$Record.Description__c")),
        ("WhoId", ref("$Record.Who_Id__c")),
        ("WhatId", ref("$Record.What_Id__c")),
        ("Booking_Uid__c", ref("$Record.Booking_Uid__c")),
        ("Meeting_Type__c", ref("EventMeetingType")),
        ("Meeting_Url__c", ref("$Record.Meeting_Url__c")),
        ("Router_Name__c", ref("$Record.Router_Name__c")),
        ("Meeting_Status__c", text("Scheduled")),
        ("Canceled__c", FALSE),
    ]]
    who = [
        FieldValue(field="Meeting_Type__c", value=ref("$Record.Meeting_Type__c")),
        FieldValue(field="Meeting_Date__c", value=ref("$Record.Start__c")),
        FieldValue(field="Meeting_Status__c", value=text("Scheduled")),
        FieldValue(field="No_Show__c", value=FALSE),
        FieldValue(field="Router_Name__c", value=ref("$Record.Router_Name__c")),
        FieldValue(field="Meeting_Created_At__c", value=ref("$Record.CreatedDate")),
    ]
    return Flow(
        api_name="Booking_Action_Created",
        label="Booking Action Created",
        description="A new booking: create its Event (or update the Event that already has its Booking UID), "
        "invite guests and co-hosts, stamp the attendee's Lead/Contact, and mark the Booking Action "
        "Processed, Skipped or Failed.",
        start=Start(next="Has_Booking_Uid", object=BOOKING_ACTION, trigger_type="RecordAfterSave",
                    record_trigger_type="Create", filter_logic="and",
                    filters=[RecordFilter(field="Action__c", operator="EqualTo", value=text("Created"))]),
        elements=[
            Decision(name="Has_Booking_Uid", rules=[
                Rule(name="Booking_Uid_Present", conditions=[_is("$Record.Booking_Uid__c", "IsNull", FALSE)],
                     next="Get_Event")], default="Mark_Skipped", default_label="No Booking UID"),
            RecordLookup(name="Get_Event", label="Get Event by Booking UID", object="Event",
                         filters=[RecordFilter(field="Booking_Uid__c", operator="EqualTo",
                                               value=ref("$Record.Booking_Uid__c"))],
                         output="FoundEvent", fields=["Id", "OwnerId", "WhoId"], next="Is_Existing_Event",
                         fault="Mark_Failed"),
            Decision(name="Is_Existing_Event", rules=[
                # another seat of a seated booking: its attendee joins the Event, which stays as it is
                Rule(name="Seat_Joins", conditions=[_is("FoundEvent", "IsNull", FALSE),
                                                    _is("$Record.Seat_Id__c", "IsNull", FALSE)],
                     next="Remember_Seat_Event"),
                Rule(name="Event_Found", conditions=[_is("FoundEvent", "IsNull", FALSE)], next="Update_Event")],
                default="Create_Event", default_label="New Event"),
            Assignment(name="Remember_Seat_Event", items=[_set("EventId", ref("FoundEvent.Id"))],
                       next="Add_Seat_Attendee"),
            _participants("Add_Seat_Attendee", "EventId", "FoundEvent.WhoId", "$Record.Invitee_Email__c",
                          "Participants_Added"),
            # Field values written straight from the Booking Action (no record variable to fill in
            # first), the same list for both paths; only the owner fallback differs.
            RecordUpdate(name="Update_Event", object="Event", filters=_id_is("FoundEvent.Id"),
                         values=[*event, FieldValue(field="OwnerId", value=ref("ExistingEventOwner"))],
                         next="Remember_Event_Id", fault="Mark_Failed"),
            Assignment(name="Remember_Event_Id", items=[_set("EventId", ref("FoundEvent.Id"))],
                       next="Add_Participants"),
            RecordCreate(name="Create_Event", object="Event",
                         values=[*event, FieldValue(field="OwnerId", value=ref("NewEventOwner"))],
                         id_to="EventId", next="Add_Participants", fault="Mark_Failed"),
            _participants("Add_Participants", "EventId", "$Record.Who_Id__c", "$Record.Guest_Emails__c",
                          "Participants_Added"),
            Decision(name="Participants_Added", rules=[
                Rule(name="Participants_Failed", conditions=[_is("ParticipantsError", "IsNull", FALSE)],
                     next="Mark_Participants_Failed")], default="Who_Kind", default_label="Invited"),
            _mark("Mark_Participants_Failed", "Failed", error=ref("ParticipantsError"), event_id="EventId"),
            _who_kind("$Record.Who_Id__c"),
            _who_update("Update_Lead", "Lead", "$Record.Who_Id__c", who),
            _who_update("Update_Contact", "Contact", "$Record.Who_Id__c", who),
            _mark("Mark_Processed", "Processed", error=ref("ParticipantsNote"), event_id="EventId",
                  description="Processed; Error__c notes the guests Salesforce's limit kept from being related."),
            _mark("Mark_Skipped", "Skipped", error=text("Booking_Uid__c is blank: no Event can be matched or created.")),
            MARK_FAILED,
        ],
        variables=[
            Variable(name="FoundEvent", data_type="SObject", object_type="Event",
                     description="The Event that already has this Booking UID, if any."),
            Variable(name="EventId", data_type="String", description="Id of the Event updated or created."),
            Variable(name="ParticipantsError", data_type="String",
                     description="Fault message from Event_Participants, blank when all went well."),
            Variable(name="GuestsNotRelated", data_type="String",
                     description="Guests invited but not related to the Event (over 50 contacts or one lead)."),
        ],
        formulas=[
            Formula(name="EventMeetingType", data_type="String", expression="LEFT({!$Record.Meeting_Type__c}, 75)",
                    description="Event.Meeting_Type__c holds 75 characters, the Booking Action's 100."),
            Formula(name="NewEventOwner", data_type="String",
                    expression="IF(ISBLANK({!$Record.Owner_Id__c}), {!$Record.OwnerId}, {!$Record.Owner_Id__c})",
                    description="The resolved owner, else whoever inserted the Booking Action (the integration "
                    "user, who would own the Event by default anyway)."),
            Formula(name="ParticipantsNote", data_type="String",
                    expression='IF(ISBLANK({!GuestsNotRelated}), "", LEFT("Invited, but not related to the Event: '
                    'Salesforce relates up to 50 contacts or one lead to an event (Shared Activities). Not related: " '
                    '& {!GuestsNotRelated}, 32000))',
                    description="Error__c of a Processed action: which guests the limit kept off the Event's "
                    "related contacts/lead (blank when none)."),
            Formula(name="ExistingEventOwner", data_type="String",
                    expression="IF(ISBLANK({!$Record.Owner_Id__c}), {!FoundEvent.OwnerId}, {!$Record.Owner_Id__c})",
                    description="The resolved owner, else the Event keeps its owner."),
        ],
    )


def booking_action_changed() -> Flow:
    def status(name: str, items: list[AssignmentItem], next_: str = "Update_Event") -> Assignment:
        return Assignment(name=name, items=items, next=next_)

    event_fields = ["Id", "WhoId", "StartDateTime", "Booking_Uid__c", "Meeting_Status__c", "No_Show__c", "Location",
                    "Meeting_Url__c", "Subject", "Description"]

    def lookup(name: str, uid: str, next_: str) -> RecordLookup:
        return RecordLookup(name=name, object="Event", output="TheEvent", fields=event_fields,
                            filters=[RecordFilter(field="Booking_Uid__c", operator="EqualTo", value=ref(uid))],
                            next=next_, fault="Mark_Failed")

    mirror = [
        FieldValue(field="Meeting_Status__c", value=ref("TheEvent.Meeting_Status__c")),
        FieldValue(field="No_Show__c", value=ref("TheEvent.No_Show__c")),
        FieldValue(field="Meeting_Date__c", value=ref("TheEvent.StartDateTime")),
    ]
    actions = ["Rescheduled", "Canceled", "No_Show", "No_Show_Cleared", "Completed"]
    no_show_split, no_show_vars, no_show_formulas = _split_lines("NoShow", "No-show emails", "Get_No_Show_Contacts")

    def no_show_people(sobject: str, more: list[RecordFilter], after: str) -> list:
        """The named attendees' records of one object: found by email, marked in a loop (no DML in
        it), updated at once after; whether the Event's Who is among them is noted on the way."""
        found, item, updates = f"NoShow{sobject}s", f"NoShow{sobject}", f"NoShow{sobject}Updates"
        return [
            RecordLookup(name=f"Get_No_Show_{sobject}s", label=f"Get the named attendees' {sobject}s", object=sobject,
                         filters=[RecordFilter(field="Email", operator="In", value=ref("NoShowList")), *more],
                         first_only=False, output=found, fields=["Id"], next=f"Loop_No_Show_{sobject}s",
                         fault="Mark_Failed"),
            Loop(name=f"Loop_No_Show_{sobject}s", collection=found, item=item, each=f"Mark_No_Show_{sobject}",
                 done=after),
            Assignment(name=f"Mark_No_Show_{sobject}", items=[
                _set(f"{item}.No_Show__c", ref("NoShowValue")),
                _set(f"{item}.Meeting_Status__c", ref("NoShowStatus")),
                _set(updates, ref(item), "Add"),
            ], next=f"Is_Who_{sobject}"),
            Decision(name=f"Is_Who_{sobject}", rules=[
                Rule(name=f"{sobject}_Is_Who", conditions=[_is(f"{item}.Id", "EqualTo", ref("TheEvent.WhoId"))],
                     next=f"Note_Who_{sobject}")], default=f"Loop_No_Show_{sobject}s", default_label="A guest"),
            Assignment(name=f"Note_Who_{sobject}", items=[_set("WhoNamed", TRUE)], next=f"Loop_No_Show_{sobject}s"),
        ]

    def people_vars(sobject: str) -> list[Variable]:
        return [Variable(name=f"NoShow{sobject}s", data_type="SObject", object_type=sobject, collection=True,
                         description=f"The named attendees' {sobject}s."),
                Variable(name=f"NoShow{sobject}", data_type="SObject", object_type=sobject),
                Variable(name=f"NoShow{sobject}Updates", data_type="SObject", object_type=sobject, collection=True,
                         description=f"Those {sobject}s, marked, updated at once.")]

    return Flow(
        api_name="Booking_Action_Changed",
        label="Booking Action Changed",
        description="A rescheduled, canceled, no-show or completed booking: find its Event by Booking UID (or "
        "the previous UID), change or delete it, mirror the meeting status on the Lead/Contact, and mark "
        "the Booking Action Processed, Skipped or Failed.",
        start=Start(next="Has_Booking_Uid", object=BOOKING_ACTION, trigger_type="RecordAfterSave",
                    record_trigger_type="Create", filter_logic="or",
                    filters=[RecordFilter(field="Action__c", operator="EqualTo", value=text(a)) for a in actions]),
        elements=[
            Decision(name="Has_Booking_Uid", rules=[
                Rule(name="Booking_Uid_Present", conditions=[_is("$Record.Booking_Uid__c", "IsNull", FALSE)],
                     next="Get_Event")], default="Mark_Skipped", default_label="No Booking UID"),
            lookup("Get_Event", "$Record.Booking_Uid__c", "Found_By_Uid"),
            Decision(name="Found_By_Uid", rules=[
                Rule(name="Event_Found", conditions=[_is("TheEvent", "IsNull", FALSE)], next="Route_Action")],
                default="Has_Previous_Uid", default_label="Not found"),
            Decision(name="Has_Previous_Uid", rules=[
                Rule(name="Previous_Uid_Present",
                     conditions=[_is("$Record.Previous_Booking_Uid__c", "IsNull", FALSE)],
                     next="Get_Event_By_Previous_Uid")], default="Mark_Not_Found", default_label="No previous UID"),
            lookup("Get_Event_By_Previous_Uid", "$Record.Previous_Booking_Uid__c", "Found_By_Previous_Uid"),
            Decision(name="Found_By_Previous_Uid", rules=[
                Rule(name="Previous_Event_Found", conditions=[_is("TheEvent", "IsNull", FALSE)],
                     next="Take_New_Uid")], default="Mark_Not_Found", default_label="Not found"),
            Assignment(name="Take_New_Uid", label="Event takes the new Booking UID",
                       items=[_set("TheEvent.Booking_Uid__c", ref("$Record.Booking_Uid__c"))], next="Route_Action"),
            Decision(name="Route_Action", rules=[
                Rule(name=f"Is_{a}", conditions=[_is("$Record.Action__c", "EqualTo", text(a))], next=target)
                for a, target in [("Rescheduled", "Set_Rescheduled"), ("Canceled", "Is_Seat_Leaving"),
                                  ("No_Show", "No_Show_Marked"), ("No_Show_Cleared", "No_Show_Unmarked")]
            ], default="Set_Completed", default_label="Completed"),
            Assignment(name="No_Show_Marked", items=[_set("NoShowValue", TRUE), _set("NoShowStatus", text("No Show"))],
                       next="No_Show_Whom"),
            Assignment(name="No_Show_Unmarked", items=[_set("NoShowValue", FALSE),
                                                       _set("NoShowStatus", text("Completed"))], next="No_Show_Whom"),
            # Whose no-show: the host's (an Event checkbox of its own), the named attendees' (only their
            # records; the Event's No_Show__c when its Who is among them), or the booking's attendee.
            Decision(name="No_Show_Whom", rules=[
                Rule(name="Host_Missed", conditions=[_is("$Record.Host_No_Show__c", "EqualTo", TRUE)],
                     next="Set_Host_No_Show"),
                Rule(name="Attendees_Named", conditions=[_is("$Record.No_Show_Emails__c", "IsNull", FALSE)],
                     next="Prepare_No_Shows"),
            ], default="Set_No_Show", default_label="The attendee"),
            Assignment(name="Set_Host_No_Show", items=[_set("TheEvent.Host_No_Show__c", ref("NoShowValue"))],
                       next="Update_Event_Only"),
            Assignment(name="Prepare_No_Shows", items=[_set("NoShowRemaining", ref("$Record.No_Show_Emails__c"))],
                       next="Split_NoShow"),
            *no_show_split,
            *no_show_people("Contact", [], "Get_No_Show_Leads"),
            *no_show_people("Lead", [RecordFilter(field="IsConverted", operator="EqualTo", value=FALSE)],
                            "Update_No_Show_Contacts"),
            RecordUpdate(name="Update_No_Show_Contacts", input_reference="NoShowContactUpdates",
                         next="Update_No_Show_Leads", fault="Mark_Failed"),
            RecordUpdate(name="Update_No_Show_Leads", input_reference="NoShowLeadUpdates",
                         next="Who_Missed", fault="Mark_Failed"),
            Decision(name="Who_Missed", label="Is the Event's Who one of them?", rules=[
                Rule(name="Who_Named", conditions=[_is("WhoNamed", "EqualTo", TRUE)], next="Set_Who_No_Show")],
                default="Mark_Processed", default_label="Only others"),
            status("Set_Who_No_Show", [_set("TheEvent.No_Show__c", ref("NoShowValue")),
                                       _set("TheEvent.Meeting_Status__c", ref("NoShowStatus"))], "Update_Event_Only"),
            RecordUpdate(name="Update_Event_Only", label="Update the Event (its people are done)",
                         input_reference="TheEvent", next="Mark_Processed", fault="Mark_Failed"),
            # A reschedule may change more than the time: a new meeting link (Cal Video, Calendly
            # join_url), subject, description, a new organizer; what the action leaves blank stays.
            status("Set_Rescheduled", [
                _set("TheEvent.StartDateTime", ref("$Record.Start__c")),
                _set("TheEvent.EndDateTime", ref("$Record.End__c")),
                _set("TheEvent.Meeting_Status__c", text("Rescheduled")),
                _set("TheEvent.Location", ref("RescheduledLocation")),
                _set("TheEvent.Meeting_Url__c", ref("RescheduledMeetingUrl")),
                _set("TheEvent.Subject", ref("RescheduledSubject")),
                _set("TheEvent.Description", ref("RescheduledDescription")),
            ], "Has_Organizer"),
            Decision(name="Has_Organizer", rules=[
                Rule(name="Organizer_Given", conditions=[_is("$Record.Organizer_Email__c", "IsNull", FALSE)],
                     next="Get_Organizer")], default="Update_Rescheduled_Event", default_label="No organizer"),
            _active_user("Get_Organizer", "Get the organizer's active User", "$Record.Organizer_Email__c", "Organizer",
                         "Organizer_Found", "Mark_Failed"),
            Decision(name="Organizer_Found", rules=[
                Rule(name="Organizer_Is_User", conditions=[_is("Organizer", "IsNull", FALSE)], next="Set_Organizer")],
                default="Update_Rescheduled_Event", default_label="No such User"),
            Assignment(name="Set_Organizer", label="The organizer owns the Event",
                       items=[_set("TheEvent.OwnerId", ref("Organizer.Id"))], next="Update_Rescheduled_Event"),
            RecordUpdate(name="Update_Rescheduled_Event", input_reference="TheEvent", next="Invite_New_Participants",
                         fault="Mark_Failed"),
            # People the reschedule added are invited; those already related are left as they are.
            _participants("Invite_New_Participants", "TheEvent.Id", "TheEvent.WhoId", "$Record.Guest_Emails__c",
                          "Participants_Invited", not_related=False),
            Decision(name="Participants_Invited", rules=[
                Rule(name="Invite_Failed", conditions=[_is("ParticipantsError", "IsNull", FALSE)],
                     next="Mark_Participants_Failed")], default="Who_Kind", default_label="Invited"),
            _mark("Mark_Participants_Failed", "Failed", error=ref("ParticipantsError"), event_id="TheEvent.Id"),
            # One seat of a seated booking leaves: take its attendee off the Event; the last one cancels it.
            Decision(name="Is_Seat_Leaving", rules=[
                Rule(name="Seat_Leaves", conditions=[_is("$Record.Seat_Id__c", "IsNull", FALSE)],
                     next="Remove_Seat_Attendee")], default="Cancel_Mode", default_label="The whole booking"),
            RecordDelete(name="Remove_Seat_Attendee", label="Take the seat's attendee off the Event", object="EventRelation",
                         filters=[RecordFilter(field="EventId", operator="EqualTo", value=ref("TheEvent.Id")),
                                  RecordFilter(field="RelationId", operator="EqualTo", value=ref("SeatPersonId"))],
                         next="Seat_Person_Kind", fault="Mark_Failed"),
            Decision(name="Seat_Person_Kind", label="The seat's attendee is a Lead or a Contact?", rules=[
                Rule(name="Seat_Is_Lead", conditions=[_is("SeatPersonId", "StartsWith", text("00Q"))],
                     next="Cancel_Seat_Lead"),
                Rule(name="Seat_Is_Contact", conditions=[_is("SeatPersonId", "StartsWith", text("003"))],
                     next="Cancel_Seat_Contact"),
            ], default="Get_Remaining", default_label="Not found"),
            *[RecordUpdate(name=f"Cancel_Seat_{o}", object=o, filters=_id_is("SeatPersonId"),
                           values=[FieldValue(field="Meeting_Status__c", value=text("Canceled"))],
                           next="Get_Remaining", fault="Mark_Failed") for o in ("Lead", "Contact")],
            RecordLookup(name="Get_Remaining", label="Get who is still on the Event", object="EventRelation",
                         filters=[RecordFilter(field="EventId", operator="EqualTo", value=ref("TheEvent.Id"))],
                         first_only=False, output="RemainingRelations", fields=["Id", "RelationId"],
                         next="Loop_Remaining", fault="Mark_Failed"),
            Loop(name="Loop_Remaining", collection="RemainingRelations", item="RemainingRelation",
                 each="Is_Remaining_Attendee", done="Was_Seat_The_Who"),
            Decision(name="Is_Remaining_Attendee", label="A Lead or Contact other than the one leaving?", rules=[
                Rule(name=f"Remaining_{o}", conditions=[
                    _is("RemainingRelation.RelationId", "StartsWith", text(prefix)),
                    _is("RemainingRelation.RelationId", "NotEqualTo", ref("SeatPersonId"))], next="Count_Remaining")
                for o, prefix in (("Lead", "00Q"), ("Contact", "003"))], default="Loop_Remaining", default_label="No"),
            Assignment(name="Count_Remaining", items=[_set("SeatsLeft", number(1), "Add"),
                                                      _set("NextWho", ref("RemainingRelation.RelationId"))],
                       next="Loop_Remaining"),
            # The Event's Who leaving: another attendee still there becomes the Who (or none).
            Decision(name="Was_Seat_The_Who", rules=[
                Rule(name="Who_Leaves", conditions=[_is("TheEvent.WhoId", "EqualTo", ref("SeatPersonId"))],
                     next="Next_Who"),
                Rule(name="Who_Stays", conditions=[_is("TheEvent.WhoId", "IsNull", FALSE)], next="Count_Who")],
                default="Any_Seats_Left", default_label="No Who"),
            Assignment(name="Next_Who", items=[_set("TheEvent.WhoId", ref("NextWho"))], next="Any_Seats_Left"),
            Assignment(name="Count_Who", items=[_set("SeatsLeft", number(1), "Add")], next="Any_Seats_Left"),
            Decision(name="Any_Seats_Left", rules=[
                Rule(name="Seats_Left", conditions=[_is("SeatsLeft", "GreaterThan", number(0))],
                     next="Update_Event_Only")], default="Cancel_Mode", default_label="That was the last seat"),
            Decision(name="Cancel_Mode", rules=[
                Rule(name="Delete_Mode", conditions=[_is("$Record.Cancel_Mode__c", "EqualTo", text("Delete"))],
                     next="Set_Canceled_Before_Delete")], default="Set_Canceled", default_label="Keep"),
            status("Set_Canceled", [_set("TheEvent.Canceled__c", TRUE),
                                    _set("TheEvent.Meeting_Status__c", text("Canceled")),
                                    _set("TheEvent.Canceled_By__c", ref("$Record.Canceled_By__c")),
                                    _set("TheEvent.Reschedule_Requested__c", ref("$Record.Reschedule_Requested__c"))]),
            # The Event goes, but the Who record still mirrors "Canceled" from it.
            status("Set_Canceled_Before_Delete", [_set("TheEvent.Meeting_Status__c", text("Canceled"))],
                   "Delete_Event"),
            RecordDelete(name="Delete_Event", input_reference="TheEvent", next="Who_Kind", fault="Mark_Failed"),
            status("Set_No_Show", [_set("TheEvent.No_Show__c", ref("NoShowValue")),
                                   _set("TheEvent.Meeting_Status__c", ref("NoShowStatus"))]),
            status("Set_Completed", [_set("TheEvent.Meeting_Status__c", text("Completed"))]),
            RecordUpdate(name="Update_Event", input_reference="TheEvent", next="Who_Kind", fault="Mark_Failed"),
            _who_kind("TheEvent.WhoId"),
            _who_update("Update_Lead", "Lead", "TheEvent.WhoId", mirror),
            _who_update("Update_Contact", "Contact", "TheEvent.WhoId", mirror),
            _mark("Mark_Processed", "Processed", event_id="TheEvent.Id"),
            _mark("Mark_Not_Found", "Failed", error=ref("NotFoundMessage")),
            _mark("Mark_Skipped", "Skipped", error=text("Booking_Uid__c is blank: no Event can be matched.")),
            MARK_FAILED,
        ],
        variables=[Variable(name="TheEvent", data_type="SObject", object_type="Event",
                            description="The booking's Event, found by Booking UID or previous UID."),
                   Variable(name="NoShowValue", data_type="Boolean", value=FALSE,
                            description="No_Show__c of the people a no-show change is about: true marked, false cleared."),
                   Variable(name="NoShowStatus", data_type="String",
                            description="Their Meeting_Status__c: No Show, or Completed when cleared."),
                   Variable(name="Organizer", data_type="SObject", object_type="User",
                            description="The active User whose email is the reschedule's organizer."),
                   Variable(name="ParticipantsError", data_type="String",
                            description="Fault message from Event_Participants, blank when all went well."),
                   Variable(name="RemainingRelations", data_type="SObject", object_type="EventRelation",
                            collection=True, description="Who is on the Event after a seat left."),
                   Variable(name="RemainingRelation", data_type="SObject", object_type="EventRelation"),
                   Variable(name="SeatsLeft", data_type="Number", value=number(0),
                            description="Attendees (Leads, Contacts) still on the Event after a seat left."),
                   Variable(name="NextWho", data_type="String",
                            description="An attendee still on the Event: the Who when the Who's seat left."),
                   Variable(name="WhoNamed", data_type="Boolean", value=FALSE,
                            description="The Event's Who is one of the attendees the no-show names."),
                   *people_vars("Contact"), *people_vars("Lead"), *no_show_vars],
        formulas=[
            Formula(name="LineBreak", data_type="String", expression="MID({!LineBreakHolder}, 2, 1)",
                    description="A line break: no-show emails are one per line."),
            *no_show_formulas,
            Formula(name="SeatPersonId", data_type="String", expression="{!$Record.Who_Id__c}",
                    description="The leaving seat's attendee (the engine resolved them by email)."),
            *(Formula(name=f"Rescheduled{name}", data_type="String",
                      expression=f"IF(ISBLANK({{!$Record.{action_field}}}), {{!TheEvent.{event_field}}}, "
                                 f"{{!$Record.{action_field}}})",
                      description=f"The Event's {event_field} after a reschedule: the action's, else the Event keeps its own.")
              for name, action_field, event_field in [("Location", "Location__c", "Location"),
                                                      ("MeetingUrl", "Meeting_Url__c", "Meeting_Url__c"),
                                                      ("Subject", "Subject__c", "Subject"),
                                                      ("Description", "Description__c", "Description")]),
        ],
        text_templates=[TextTemplate(name="LineBreakHolder", text="[\n]",
                                     description="Holds a line break between brackets (see LineBreak)."),
                        TextTemplate(
            name="NotFoundMessage",
            text="No Event with Booking_Uid__c {!$Record.Booking_Uid__c} "
                 "(previous uid: {!$Record.Previous_Booking_Uid__c}).",
            description="Error__c when the booking's Event cannot be found.")],
    )


def scheduling_link_map_user() -> Flow:
    return Flow(
        api_name="Scheduling_Link_Map_User",
        label="Scheduling Link Map User",
        description="A profile scheduling link was created or its owner/URL/active flag changed: find the "
        "active User with that email, put the link on the User, and mark the link Mapped or Unmatched. A "
        "retired link (Active unchecked) comes off the User it was on, if the User still holds it, and is "
        "marked Unmatched.",
        start=Start(next="Needs_Mapping", object="Scheduling_Link__c", trigger_type="RecordAfterSave",
                    record_trigger_type="CreateAndUpdate", filter_logic="and",
                    filters=[RecordFilter(field="Kind__c", operator="EqualTo", value=text("Profile"))]),
        elements=[
            # Our own Mark_* updates re-trigger this flow; they change none of these fields, so it stops.
            Decision(name="Needs_Mapping", rules=[Rule(name="Link_New_Or_Changed", logic="or", conditions=[
                _is("$Record__Prior.Id", "IsNull", TRUE),
                _is("$Record.Owner_Email__c", "IsChanged", TRUE),
                _is("$Record.Url__c", "IsChanged", TRUE),
                _is("$Record.Kind__c", "IsChanged", TRUE),
                _is("$Record.Active__c", "IsChanged", TRUE),
            ], next="Is_Active")], default_label="Unchanged"),
            Decision(name="Is_Active", label="Is the link active?", rules=[
                Rule(name="Link_Active", conditions=[_is("$Record.Active__c", "EqualTo", TRUE)],
                     next="Has_Owner_Email")], default="Was_Mapped", default_label="Retired"),
            # A retired link leaves no User holding it. The User it was mapped to is the one before this
            # save (the flow blanks User__c once the link is off it), with the URL it had then.
            Decision(name="Was_Mapped", label="Was the link on a User?", rules=[
                Rule(name="Mapped_Before", conditions=[_is("$Record__Prior.User__c", "IsNull", FALSE)],
                     next="Clear_User_Link")], default="Mark_Unmatched", default_label="Not mapped"),
            # The filter on the URL leaves a User alone who has had a newer link put on them since, even
            # by another link in the same batch (the condition is checked when the update runs).
            RecordUpdate(name="Clear_User_Link", label="Take the retired link off its User", object="User",
                         filters=[*_id_is("$Record__Prior.User__c"),
                                  RecordFilter(field="Scheduling_Link__c", operator="EqualTo",
                                               value=ref("$Record__Prior.Url__c"))],
                         values=[FieldValue(field="Scheduling_Link__c", value=NULL)],
                         next="Mark_Unmatched", fault="Mark_Unmatched"),
            Decision(name="Has_Owner_Email", rules=[
                Rule(name="Owner_Email_Present", conditions=[_is("$Record.Owner_Email__c", "IsNull", FALSE)],
                     next="Get_User")], default="Mark_Unmatched", default_label="No email"),
            _active_user("Get_User", "Get active User by email", "$Record.Owner_Email__c", "TheUser", "User_Found",
                         "Mark_Unmatched"),
            Decision(name="User_Found", rules=[
                Rule(name="Active_User_Found", conditions=[_is("TheUser", "IsNull", FALSE)], next="Update_User")],
                default="Mark_Unmatched", default_label="No match"),
            RecordUpdate(name="Update_User", label="Put the link on the User", object="User",
                         filters=_id_is("TheUser.Id"),
                         values=[FieldValue(field="Scheduling_Link__c", value=ref("$Record.Url__c"))],
                         next="Mark_Mapped", fault="Mark_Unmatched"),
            RecordUpdate(name="Mark_Mapped", object="Scheduling_Link__c", filters=_id_is("$Record.Id"), values=[
                FieldValue(field="User__c", value=ref("TheUser.Id")),
                FieldValue(field="Status__c", value=text("Mapped")),
            ], fault="Mark_Unmatched"),
            RecordUpdate(name="Mark_Unmatched", object="Scheduling_Link__c", filters=_id_is("$Record.Id"),
                         description="No User holds the link: none active has its email, it is retired, "
                         "or mapping failed.",
                         values=[FieldValue(field="User__c", value=NULL),
                                 FieldValue(field="Status__c", value=text("Unmatched"))]),
        ],
        variables=[Variable(name="TheUser", data_type="SObject", object_type="User",
                            description="The active User whose email is the link's Owner Email.")],
    )


def _split_lines(prefix: str, source: str, after: str) -> tuple[list, list, list]:
    """Elements, variables, formulas that turn a one-email-per-line text into a String collection.

    A decision/assignment cycle peels off one line per pass: no query or DML on the cycle. Emails
    are lower-cased: Flow compares text case-sensitively (collection RemoveAll, In), Salesforce
    stores emails as typed, and the queries that use the list match case-insensitively anyway.
    """
    rest, line_end = f"{prefix}Remaining", f"{prefix}LineEnd"
    elements = [
        Decision(name=f"Split_{prefix}", label=f"{prefix} emails left?", rules=[
            Rule(name=f"More_{prefix}", conditions=[_is(f"{prefix}CharsLeft", "GreaterThan", number(0))],
                 next=f"Take_{prefix}")], default=after, default_label="Done"),
        Assignment(name=f"Take_{prefix}", label=f"Take one {prefix} email", items=[
            _set(f"{prefix}List", ref(f"{prefix}First"), "Add"),
            _set(rest, ref(f"{prefix}Rest")),
        ], next=f"Split_{prefix}"),
    ]
    variables = [
        Variable(name=rest, data_type="String", description=f"{source} still to split."),
        Variable(name=f"{prefix}List", data_type="String", collection=True,
                 description=f"{source}, one per item, lower-cased."),
    ]
    formulas = [
        Formula(name=line_end, data_type="Number", expression=f"FIND({{!LineBreak}}, {{!{rest}}})"),
        Formula(name=f"{prefix}First", data_type="String",
                expression=f"LOWER(TRIM(IF({{!{line_end}}} > 0, LEFT({{!{rest}}}, {{!{line_end}}} - 1), {{!{rest}}})))"),
        Formula(name=f"{prefix}Rest", data_type="String",
                expression=f'IF({{!{line_end}}} > 0, MID({{!{rest}}}, {{!{line_end}}} + 1, LEN({{!{rest}}})), "")'),
        Formula(name=f"{prefix}CharsLeft", data_type="Number", expression=f"LEN(TRIM({{!{rest}}}))"),
    ]
    return elements, variables, formulas


def _invite(prefix: str, loop_item: str, after_loop: str, *, slot: list[Condition] | None = None,
            counter: str | None = None, matched: str | None = None) -> list:
    """Loop over found people, skipping those already related to the Event, collecting EventRelations.

    Guests (`slot` given) are related as the Event's people (IsParent) while the Shared Activities
    limit has room, else only invited, their email noted; co-hosts (Users) are invitees only.
    `matched` names the lower-cased email of the loop item, collected in MatchedEmails.
    """
    loop = f"Loop_{prefix}"

    def relation(parent: bool) -> list[AssignmentItem]:
        return [_set("Relation.RelationId", ref(f"{loop_item}.Id")),
                _set("Relation.EventId", ref("EventId")),
                _set("Relation.IsInvitee", TRUE),
                _set("Relation.IsParent", TRUE if parent else FALSE),
                _set("Relations", ref("Relation"), "Add"),
                _set("RelatedIds", ref(f"{loop_item}.Id"), "Add"),
                *([_set("MatchedEmails", ref(matched), "Add")] if matched else [])]

    first = f"{prefix}_Room_Left" if slot else f"Invite_{prefix}"
    elements = [
        Loop(name=loop, collection=f"{prefix}Records", item=loop_item, each=f"{prefix}_Already_Related",
             done=after_loop),
        Decision(name=f"{prefix}_Already_Related", rules=[
            Rule(name=f"{prefix}_Related", conditions=[_is(f"{loop_item}.Id", "In", ref("RelatedIds"))], next=loop)],
            default=first, default_label="Not yet"),
    ]
    if not slot:
        return [*elements, Assignment(name=f"Invite_{prefix}", items=relation(False), next=loop)]
    return [
        *elements,
        Decision(name=f"{prefix}_Room_Left", label=f"Room for one more related {prefix}?", rules=[
            Rule(name=f"{prefix}_Fits", conditions=slot, next=f"Relate_{prefix}")],
            default=f"Invite_{prefix}_Only", default_label="Limit reached"),
        Assignment(name=f"Relate_{prefix}", label=f"Relate and invite the {prefix}",
                   items=[*relation(True), _set(counter, number(1), "Add")], next=loop),
        Assignment(name=f"Invite_{prefix}_Only", label=f"Invite the {prefix}, note the email",
                   items=[*relation(False), _set("NotRelatedEmails", ref("NotRelatedSeparator"), "Add"),
                          _set("NotRelatedEmails", ref(f"{loop_item}.Email"), "Add")], next=loop),
    ]


def event_participants() -> Flow:
    guest_split, guest_vars, guest_formulas = _split_lines("Guest", "Guest emails", "Split_CoHost")
    cohost_split, cohost_vars, cohost_formulas = _split_lines("CoHost", "Co-host emails", "Get_Related")

    def count(name: str, collection: str, next_: str) -> Assignment:
        return Assignment(name=name, items=[_set("Count", ref(collection), "AssignCount")], next=next_)

    def any_(name: str, yes: str, no: str) -> Decision:
        return Decision(name=name, rules=[Rule(name=f"{name}_Yes", label="Yes",
                                               conditions=[_is("Count", "GreaterThan", number(0))], next=yes)],
                        default=no, default_label="None")

    def records(sobject: str, collection: str) -> list[Variable]:
        return [Variable(name=f"{collection}Records", data_type="SObject", object_type=sobject, collection=True),
                Variable(name=f"{collection}Record", data_type="SObject", object_type=sobject)]

    def who(prefix: str, key: str) -> list[Condition]:
        return [_is(f"{prefix}.IsParent", "EqualTo", TRUE), _is(f"{prefix}.RelationId", "StartsWith", text(key))]

    no_lead = _is("RelatedLeads", "EqualTo", number(0))
    return Flow(
        api_name="Event_Participants",
        label="Event Participants",
        description="Subflow: invite an Event's guests (Contacts, else unconverted Leads, by email) and co-hosts "
        "(active Users by email), in one query per object and one insert. Guests are also related to the "
        "Event as its people while Salesforce's limit allows (up to 50 contacts, or one lead, the Who "
        "included); the others are only invited and their emails returned in NotRelatedEmails.",
        start=Start(next="Has_Event"),
        elements=[
            Decision(name="Has_Event", rules=[
                Rule(name="Event_Given", conditions=[_is("EventId", "IsNull", FALSE)], next="Prepare")],
                default_label="No Event"),
            Assignment(name="Prepare", items=[_set("GuestRemaining", ref("GuestEmails")),
                                              _set("CoHostRemaining", ref("CoHostEmails"))], next="Split_Guest"),
            *guest_split,
            *cohost_split,
            RecordLookup(name="Get_Related", label="Get existing Event relations", object="EventRelation",
                         filters=[RecordFilter(field="EventId", operator="EqualTo", value=ref("EventId"))],
                         first_only=False, output="ExistingRecords", fields=["Id", "RelationId", "IsParent"],
                         next="Loop_Existing", fault="Capture_Fault"),
            Loop(name="Loop_Existing", collection="ExistingRecords", item="ExistingRecord",
                 each="Remember_Existing", done="Who_Not_Counted"),
            Assignment(name="Remember_Existing", items=[_set("RelatedIds", ref("ExistingRecord.RelationId"), "Add")],
                       next="Existing_Person"),
            # Related people so far, against the limit: Who relations (IsParent) of Leads and Contacts.
            Decision(name="Existing_Person", label="Already one of the Event's people?", rules=[
                Rule(name="Existing_Lead", conditions=who("ExistingRecord", "00Q"), next="Count_Existing_Lead"),
                Rule(name="Existing_Contact", conditions=who("ExistingRecord", "003"), next="Count_Existing_Contact"),
            ], default="Loop_Existing", default_label="Invitee only"),
            Assignment(name="Count_Existing_Lead", items=[_set("RelatedLeads", number(1), "Add")],
                       next="Loop_Existing"),
            Assignment(name="Count_Existing_Contact", items=[_set("RelatedContacts", number(1), "Add")],
                       next="Loop_Existing"),
            # The Event's WhoId is one of its people; orgs that list it in EventRelation counted it above.
            Decision(name="Who_Not_Counted", label="Is the Who still to count?", rules=[
                Rule(name="Who_Lead", conditions=[_is("WhoId", "StartsWith", text("00Q")),
                                                  _is("WhoId", "NotIn", ref("RelatedIds"))], next="Count_Who_Lead"),
                Rule(name="Who_Contact", conditions=[_is("WhoId", "StartsWith", text("003")),
                                                     _is("WhoId", "NotIn", ref("RelatedIds"))],
                     next="Count_Who_Contact"),
            ], default="Count_Guests", default_label="Counted or none"),
            Assignment(name="Count_Who_Lead", items=[_set("RelatedLeads", number(1), "Add"),
                                                     _set("RelatedIds", ref("WhoId"), "Add")], next="Count_Guests"),
            Assignment(name="Count_Who_Contact", items=[_set("RelatedContacts", number(1), "Add"),
                                                        _set("RelatedIds", ref("WhoId"), "Add")], next="Count_Guests"),
            count("Count_Guests", "GuestList", "Any_Guests"),
            any_("Any_Guests", "Get_Contacts", "Count_CoHosts"),
            RecordLookup(name="Get_Contacts", label="Get guest Contacts", object="Contact",
                         filters=[RecordFilter(field="Email", operator="In", value=ref("GuestList"))],
                         first_only=False, output="ContactRecords", fields=["Id", "Email"],
                         sort_field="CreatedDate", sort_order="Asc",
                         next="Loop_Contact", fault="Capture_Fault"),
            *_invite("Contact", "ContactRecord", "Lead_Emails", counter="RelatedContacts", matched="ContactEmail",
                     slot=[no_lead, _is("RelatedContacts", "LessThan", number(50))]),
            # RemoveAll compares text case-sensitively: both lists hold lower-case emails.
            Assignment(name="Lead_Emails", label="Guests without a Contact", items=[
                _set("LeadEmails", ref("GuestList")),
                _set("LeadEmails", ref("MatchedEmails"), "RemoveAll"),
            ], next="Count_Lead_Emails"),
            count("Count_Lead_Emails", "LeadEmails", "Any_Lead_Emails"),
            any_("Any_Lead_Emails", "Get_Leads", "Count_CoHosts"),
            RecordLookup(name="Get_Leads", label="Get guest Leads", object="Lead",
                         filters=[RecordFilter(field="Email", operator="In", value=ref("LeadEmails")),
                                  RecordFilter(field="IsConverted", operator="EqualTo", value=FALSE)],
                         first_only=False, output="LeadRecords", fields=["Id", "Email"],
                         sort_field="CreatedDate", sort_order="Asc",
                         next="Loop_Lead", fault="Capture_Fault"),
            *_invite("Lead", "LeadRecord", "Count_CoHosts", counter="RelatedLeads",
                     slot=[no_lead, _is("RelatedContacts", "EqualTo", number(0))]),
            count("Count_CoHosts", "CoHostList", "Any_CoHosts"),
            any_("Any_CoHosts", "Get_Users", "Count_Relations"),
            RecordLookup(name="Get_Users", label="Get co-host Users", object="User",
                         filters=[RecordFilter(field="Email", operator="In", value=ref("CoHostList")),
                                  RecordFilter(field="IsActive", operator="EqualTo", value=TRUE)],
                         first_only=False, output="UserRecords", fields=["Id"],
                         next="Loop_User", fault="Capture_Fault"),
            *_invite("User", "UserRecord", "Count_Relations"),
            count("Count_Relations", "Relations", "Any_Relations"),
            any_("Any_Relations", "Create_Relations", None),
            RecordCreate(name="Create_Relations", input_reference="Relations", fault="Capture_Fault"),
            Assignment(name="Capture_Fault", label="Hand the fault to the caller",
                       items=[_set("ErrorMessage", ref("$Flow.FaultMessage"))]),
        ],
        variables=[
            Variable(name="EventId", data_type="String", input=True, description="The Event to relate people to."),
            Variable(name="WhoId", data_type="String", input=True,
                     description="The Event's WhoId (Lead or Contact): one of its people, counted against the limit."),
            Variable(name="GuestEmails", data_type="String", input=True,
                     description="Guest emails, one per line (Booking_Action__c.Guest_Emails__c)."),
            Variable(name="CoHostEmails", data_type="String", input=True,
                     description="Co-host emails, one per line (Booking_Action__c.Co_Host_Emails__c)."),
            Variable(name="ErrorMessage", data_type="String", output=True,
                     description="Fault message when a query or the insert failed; blank otherwise."),
            Variable(name="NotRelatedEmails", data_type="String", output=True,
                     description="Emails of guests invited but not related (limit reached), comma-separated."),
            *guest_vars, *cohost_vars,
            *records("EventRelation", "Existing"),
            *records("Contact", "Contact"),
            *records("Lead", "Lead"),
            *records("User", "User"),
            Variable(name="LeadEmails", data_type="String", collection=True,
                     description="Guest emails no Contact matched: look for Leads."),
            Variable(name="MatchedEmails", data_type="String", collection=True,
                     description="Emails of guests already matched to a Contact, lower-cased."),
            Variable(name="RelatedIds", data_type="String", collection=True,
                     description="People already related to the Event: never related twice."),
            Variable(name="RelatedContacts", data_type="Number", value=number(0),
                     description="Contacts related to the Event as its people (at most 50)."),
            Variable(name="RelatedLeads", data_type="Number", value=number(0),
                     description="Leads related to the Event as its people (at most one, and then no contact)."),
            Variable(name="Relation", data_type="SObject", object_type="EventRelation"),
            Variable(name="Relations", data_type="SObject", object_type="EventRelation", collection=True,
                     description="All new relations, inserted at once after the loops."),
            Variable(name="Count", data_type="Number", value=number(0)),
        ],
        formulas=[
            Formula(name="LineBreak", data_type="String", expression="MID({!LineBreakHolder}, 2, 1)",
                    description="A line break: guest and co-host emails are one per line."),
            Formula(name="ContactEmail", data_type="String", expression="LOWER({!ContactRecord.Email})",
                    description="The matched Contact's email as the guest list holds it (lower case)."),
            Formula(name="NotRelatedSeparator", data_type="String",
                    expression='IF(ISBLANK({!NotRelatedEmails}), "", ", ")',
                    description="Comma between the emails of NotRelatedEmails."),
            *guest_formulas, *cohost_formulas,
        ],
        # Tools that read flow XML often trim element text, which would turn a template holding
        # only a line break into "". The brackets keep it inside; LineBreak takes it out again.
        text_templates=[TextTemplate(name="LineBreakHolder", text="[\n]",
                                     description="Holds a line break between brackets (see LineBreak).")],
    )


def slotforce_flows() -> list[Flow]:
    return [booking_action_created(), event_participants(), booking_action_changed(), scheduling_link_map_user()]
