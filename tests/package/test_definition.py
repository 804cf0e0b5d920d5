"""The slotforce package holds exactly what DESIGN.md lists, and both permission sets cover it."""

import pytest

from slotforce.package.definition import slotforce_package
from slotforce.package.model import CustomObject

# (object, field) -> (type, length or None) straight from DESIGN.md "The package".
DESIGN = {
    "Booking_Action__c": {
        "Action_Key__c": ("Text", 255), "Action__c": ("Picklist", None), "Booking_Uid__c": ("Text", 255),
        "Previous_Booking_Uid__c": ("Text", 255), "Source__c": ("Text", 40), "Subject__c": ("Text", 255),
        "Description__c": ("LongTextArea", 32000), "Start__c": ("DateTime", None), "End__c": ("DateTime", None),
        "Invitee_Timezone__c": ("Text", 64), "Location__c": ("Text", 255), "Meeting_Url__c": ("Url", None),
        "Meeting_Type__c": ("Text", 100), "Router_Name__c": ("Text", 75), "Organizer_Email__c": ("Email", None),
        "Owner_Id__c": ("Text", 18), "Who_Id__c": ("Text", 18), "What_Id__c": ("Text", 18),
        "Invitee_Email__c": ("Email", None), "Invitee_Name__c": ("Text", 255),
        "Guest_Emails__c": ("LongTextArea", 32000), "Co_Host_Emails__c": ("LongTextArea", 32000),
        "Cancel_Mode__c": ("Picklist", None), "Cancel_Reason__c": ("Text", 255), "Status__c": ("Picklist", None),
        "Error__c": ("LongTextArea", 32000), "Event_Id__c": ("Text", 18), "Processed_At__c": ("DateTime", None),
        # DESIGN.md "Contracts of the next capabilities" (issue 9), and what per-person no-shows need
        "Canceled_By__c": ("Picklist", None), "Reschedule_Requested__c": ("Checkbox", None),
        "No_Show_Emails__c": ("LongTextArea", 32000), "Host_No_Show__c": ("Checkbox", None), "Seat_Id__c": ("Text", 255),
    },
    "Scheduling_Link__c": {
        "Link_Key__c": ("Text", 255), "Url__c": ("Url", None), "Kind__c": ("Picklist", None),
        "Owner_Email__c": ("Email", None), "Active__c": ("Checkbox", None), "User__c": ("Lookup", None),
        "Status__c": ("Picklist", None),
    },
    "Activity": {
        "Booking_Uid__c": ("Text", 255), "Meeting_Type__c": ("Text", 75), "Meeting_Status__c": ("Picklist", None),
        "No_Show__c": ("Checkbox", None), "Canceled__c": ("Checkbox", None), "Router_Name__c": ("Text", 75),
        "Meeting_Url__c": ("Url", None),
        "Host_No_Show__c": ("Checkbox", None), "Canceled_By__c": ("Picklist", None),
        "Reschedule_Requested__c": ("Checkbox", None),
    },
    "Contact": {
        "Meeting_Type__c": ("Text", 100), "Meeting_Date__c": ("DateTime", None),
        "Meeting_Status__c": ("Picklist", None), "No_Show__c": ("Checkbox", None),
        "Router_Name__c": ("Text", 75), "Meeting_Created_At__c": ("DateTime", None),
    },
    "User": {"Scheduling_Link__c": ("Url", None)},
}
DESIGN["Lead"] = {**DESIGN["Contact"], "Created_By_Scheduler__c": ("Checkbox", None)}


@pytest.fixture(scope="module")
def package():
    return slotforce_package()


def test_every_object_and_field_of_the_design(package):
    actual = {o.api_name: {f.api_name: (f.type, getattr(f, "length", None)) for f in o.fields}
              for o in package.objects}
    assert actual == DESIGN
    assert all(f.description for o in package.objects for f in o.fields)


def test_picklists_keys_and_names(package):
    ba = package.object("Booking_Action__c")
    assert [v.full_name for v in ba.field("Action__c").values] == [
        "Created", "Rescheduled", "Canceled", "No_Show", "No_Show_Cleared", "Completed"]
    assert [(v.full_name, v.default) for v in ba.field("Status__c").values][0] == ("Pending", True)
    assert [v.full_name for v in package.object("Activity").field("Meeting_Status__c").values] == [
        "Scheduled", "Rescheduled", "Completed", "No Show", "Canceled"]
    keys = [("Booking_Action__c", "Action_Key__c"), ("Scheduling_Link__c", "Link_Key__c"), ("Activity", "Booking_Uid__c")]
    for obj, name in keys:
        f = package.object(obj).field(name)
        assert f.external_id and f.unique, (obj, name)
    assert ba.name_field.display_format == "BA-{00000000}" and ba.name_field.starting_number == 1
    assert package.object("Scheduling_Link__c").name_field.type == "Text"
    user = package.object("Scheduling_Link__c").field("User__c")
    assert (user.reference_to, user.delete_constraint) == ("User", "SetNull")


def test_permission_sets_cover_every_field_and_never_grant_all_data(package):
    sets = {ps.api_name: ps for ps in package.permission_sets}
    assert set(sets) == {"Slotforce_Integration", "Slotforce_Admin", "Slotforce_User"}
    every = {f"{'Event' if o.api_name == 'Activity' else o.api_name}.{f.api_name}"
             for o in package.objects for f in o.fields}
    integration, admin = sets["Slotforce_Integration"], sets["Slotforce_Admin"]
    assert {p.field for p in integration.field_permissions if p.readable and p.editable} == every
    assert {p.field for p in admin.field_permissions if p.readable and not p.editable} == every
    crud = {p.object: (p.allow_create, p.allow_read, p.allow_edit, p.allow_delete)
            for p in integration.object_permissions}
    assert crud == {o: (True, True, True, False) for o in ["Booking_Action__c", "Scheduling_Link__c", "Lead", "Contact"]} | {
        "Account": (False, True, False, False)}
    assert {p.object for p in admin.object_permissions} == {o.api_name for o in package.objects
                                                           if isinstance(o, CustomObject)}
    sales = sets["Slotforce_User"]  # sales users read the meeting fields and the Booking Actions, edit nothing
    assert {p.field for p in sales.field_permissions if p.readable and not p.editable} == {
        f for f in every if f.split(".")[0] in ("Booking_Action__c", "Contact", "Event", "Lead")}
    assert [(p.object, p.allow_read, p.allow_create, p.allow_edit) for p in sales.object_permissions] == [
        ("Booking_Action__c", True, False, False)]
    for ps in sets.values():
        assert not any(p.modify_all_records or p.view_all_records for p in ps.object_permissions)
