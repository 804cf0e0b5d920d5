"""Model rules: each bad definition fails with a message that says what to change."""

import pytest
from pydantic import ValidationError

from slotforce.package.model import (
    CheckboxField, CustomObject, LongTextAreaField, LookupField, NameField, ObjectPermission, Package,
    PermissionSet, FieldPermission, PicklistField, StandardObject, TextField,
)

WHY = "because tests need it"


def text(name="Ok__c", length=10, **kw):
    return TextField(api_name=name, label="Ok", description=WHY, length=length, **kw)


@pytest.mark.parametrize("name, words", [
    ("Status", "must end in __c"),
    ("Bad__Name__c", "single underscores"),
    ("1Bad__c", "start with a letter"),
    ("Trailing___c", "single underscores"),
    ("A" * 41 + "__c", "longer than 40"),
])
def test_api_names(name, words):
    with pytest.raises(ValidationError, match=words):
        text(name)


@pytest.mark.parametrize("factory, length", [
    (text, 0), (text, 256),
    (lambda length: LongTextAreaField(api_name="L__c", label="L", description=WHY, length=length), 255),
    (lambda length: LongTextAreaField(api_name="L__c", label="L", description=WHY, length=length), 131073),
])
def test_length_ranges(factory, length):
    with pytest.raises(ValidationError, match="length"):
        factory(length=length)


def test_picklist_needs_values_unique_and_one_default():
    with pytest.raises(ValidationError, match="at least one value"):
        PicklistField(api_name="P__c", label="P", description=WHY, values=[])
    with pytest.raises(ValidationError, match="listed twice"):
        PicklistField(api_name="P__c", label="P", description=WHY, values=["A", "a"])
    with pytest.raises(ValidationError, match="at most one"):
        PicklistField(api_name="P__c", label="P", description=WHY,
                      values=[{"full_name": "A", "default": True}, {"full_name": "B", "default": True}])


def test_checkbox_and_lookup_rules():
    with pytest.raises(ValidationError, match="cannot be required"):
        CheckboxField(api_name="C__c", label="C", description=WHY, required=True)
    with pytest.raises(ValidationError, match="Restrict"):
        LookupField(api_name="U__c", label="U", description=WHY, reference_to="User",
                    relationship_name="Us", required=True)
    with pytest.raises(ValidationError, match="no __r"):
        LookupField(api_name="U__c", label="U", description=WHY, reference_to="User", relationship_name="Us__r")


def test_duplicate_field_names_are_case_insensitive():
    with pytest.raises(ValidationError, match="duplicate field API name"):
        StandardObject(api_name="Lead", fields=[text("Dup__c"), text("DUP__c")])


def test_auto_number_needs_a_counter_and_event_fields_live_on_activity():
    with pytest.raises(ValidationError, match=r"\{0"):
        NameField(label="N", type="AutoNumber", display_format="BA-")
    with pytest.raises(ValidationError, match="declared on Activity"):
        StandardObject(api_name="Event")


def test_permission_sets_only_name_package_fields_and_allowed_objects():
    obj = CustomObject(api_name="Thing__c", label="Thing", plural_label="Things", description=WHY,
                       name_field=NameField(label="Name", type="Text"),
                       fields=[text(), text("Req__c", required=True)])
    ok = PermissionSet(api_name="P", label="P", description=WHY,
                       object_permissions=[ObjectPermission(object="Thing__c")],
                       field_permissions=[FieldPermission(field="Thing__c.Ok__c")])
    Package(objects=[obj], permission_sets=[ok])
    for bad, words in [
        (ok.model_copy(update={"object_permissions": [ObjectPermission(object="User")]}), "not allowed"),
        (ok.model_copy(update={"field_permissions": [FieldPermission(field="Thing__c.Nope__c")]}), "not in the package"),
        (ok.model_copy(update={"field_permissions": [FieldPermission(field="Thing__c.Req__c")]}), "required"),
    ]:
        with pytest.raises(ValidationError, match=words):
            Package(objects=[obj], permission_sets=[bad])
    with pytest.raises(ValidationError):
        ObjectPermission(object="Thing__c", modify_all_records=True)


def test_sharing_bulk_and_streaming_go_together():
    with pytest.raises(ValidationError, match="must all be true or all false"):
        CustomObject(api_name="Thing__c", label="Thing", plural_label="Things", description=WHY,
                     name_field=NameField(label="Name", type="Text"), enable_bulk_api=False)
