"""Pydantic models of the package's metadata: custom objects, fields, permission sets.

Each model holds only what Salesforce needs to know and checks the rules Salesforce would check at
deploy time (name shapes, lengths, picklist values), so a bad definition fails here with its name,
not later in an org. Rendering to XML lives in `writer.py`; which metadata type goes to which file
lives in `components.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from slotforce.package.flow import Flow
from slotforce.package.names import CUSTOM_NAME, DEVELOPER_NAME

RELATIONSHIP_NAME = DEVELOPER_NAME


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _custom_name(value: str, what: str) -> str:
    if not value.endswith("__c"):
        raise ValueError(f"{what} API name {value!r} must end in __c (custom components always do)")
    if not CUSTOM_NAME.match(value):
        raise ValueError(
            f"{what} API name {value!r} must start with a letter and use only letters, digits and "
            "single underscores, not ending in an underscore before __c"
        )
    if len(value) - 3 > 40:
        raise ValueError(f"{what} API name {value!r} is longer than 40 characters before __c")
    return value


Label = Annotated[str, Field(min_length=1, max_length=40)]
Description = Annotated[str, Field(min_length=1, max_length=1000)]


# --- fields ------------------------------------------------------------------------------------

class _Field(_Model):
    """What every custom field has. `description` says why the field exists (it shows in Setup)."""

    api_name: str
    label: Label
    description: Description
    inline_help_text: Annotated[str, Field(max_length=510)] | None = None
    required: bool = False
    track_history: bool = False

    @field_validator("api_name")
    @classmethod
    def _api_name(cls, value: str) -> str:
        return _custom_name(value, "field")

    @property
    def permissionable(self) -> bool:
        """Salesforce rejects fieldPermissions on required fields (always editable) and on
        computed fields (formula, auto number, which are never editable)."""
        return not self.required


class _Unique(_Field):
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _case_needs_unique(self):
        if self.case_sensitive and not self.unique:
            raise ValueError("case_sensitive only applies to unique fields; set unique: true or drop it")
        return self


class TextField(_Unique):
    type: Literal["Text"] = "Text"
    length: Annotated[int, Field(ge=1, le=255)]


class LongTextAreaField(_Field):
    type: Literal["LongTextArea"] = "LongTextArea"
    length: Annotated[int, Field(ge=256, le=131072)]
    visible_lines: Annotated[int, Field(ge=2, le=50)] = 3

    @model_validator(mode="after")
    def _no_required(self):
        if self.required:
            raise ValueError("a LongTextArea field cannot be required")
        return self


class EmailField(_Unique):
    type: Literal["Email"] = "Email"


class UrlField(_Field):
    """Url fields have no length in metadata: Salesforce fixes it at 255."""

    type: Literal["Url"] = "Url"


class DateTimeField(_Field):
    type: Literal["DateTime"] = "DateTime"


class DateField(_Field):
    type: Literal["Date"] = "Date"


class CheckboxField(_Field):
    """A checkbox is never null: Salesforce demands a defaultValue and refuses `required`."""

    type: Literal["Checkbox"] = "Checkbox"
    default_value: bool = False

    @model_validator(mode="after")
    def _no_required(self):
        if self.required:
            raise ValueError("a Checkbox field cannot be required (it is never blank); use default_value")
        return self


class PicklistValue(_Model):
    full_name: Annotated[str, Field(min_length=1, max_length=255)]
    label: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    default: bool = False

    @property
    def shown(self) -> str:
        return self.label or self.full_name


class PicklistField(_Field):
    type: Literal["Picklist"] = "Picklist"
    values: list[PicklistValue]
    restricted: bool = True
    sorted: bool = False

    @field_validator("values", mode="before")
    @classmethod
    def _plain_strings(cls, value):
        # YAML and definitions may list bare API names: "Pending" is {"full_name": "Pending"}.
        if isinstance(value, list):
            return [{"full_name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _values(self):
        if not self.values:
            raise ValueError("a Picklist needs at least one value under `values`")
        seen: set[str] = set()
        for value in self.values:
            key = value.full_name.lower()
            if key in seen:
                raise ValueError(f"picklist value {value.full_name!r} is listed twice")
            seen.add(key)
        if sum(v.default for v in self.values) > 1:
            raise ValueError("at most one picklist value can be the default")
        return self


class LookupField(_Field):
    type: Literal["Lookup"] = "Lookup"
    reference_to: str
    relationship_name: str
    relationship_label: Label | None = None
    delete_constraint: Literal["SetNull", "Restrict"] = "SetNull"

    @field_validator("relationship_name")
    @classmethod
    def _relationship(cls, value: str) -> str:
        if not RELATIONSHIP_NAME.match(value) or value.endswith("__r"):
            raise ValueError(f"relationship_name {value!r} must be a plain developer name (no __r)")
        return value

    @model_validator(mode="after")
    def _set_null_optional(self):
        if self.required and self.delete_constraint == "SetNull":
            raise ValueError("a required Lookup cannot clear itself on delete; use delete_constraint Restrict")
        return self


CustomField = Annotated[
    Union[
        TextField, LongTextAreaField, EmailField, UrlField, DateTimeField, DateField,
        CheckboxField, PicklistField, LookupField,
    ],
    Field(discriminator="type"),
]
FIELD_TYPES = ("Text", "LongTextArea", "Email", "Url", "DateTime", "Date", "Checkbox", "Picklist", "Lookup")


class NameField(_Model):
    """A custom object's Name: an auto number (`BA-{00000000}`) or free text."""

    label: Label
    type: Literal["AutoNumber", "Text"]
    display_format: str | None = None
    starting_number: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _auto_number(self):
        if self.type == "AutoNumber":
            if not self.display_format or not re.search(r"\{0+\}", self.display_format):
                raise ValueError("an AutoNumber name needs a display_format with a {0...} counter, e.g. BA-{00000000}")
        elif self.display_format or self.starting_number is not None:
            raise ValueError("display_format and starting_number only apply to AutoNumber names")
        return self


# --- objects -----------------------------------------------------------------------------------

class _Object(_Model):
    api_name: str
    fields: list[CustomField] = []

    @model_validator(mode="after")
    def _unique_fields(self):
        seen: set[str] = set()
        for f in self.fields:
            # Salesforce API names are case-insensitive.
            if f.api_name.lower() in seen:
                raise ValueError(f"duplicate field API name {f.api_name} on {self.api_name}")
            seen.add(f.api_name.lower())
        return self

    def field(self, api_name: str):
        return next(f for f in self.fields if f.api_name == api_name)


class CustomObject(_Object):
    """A package-owned object: it gets an object-meta.xml as well as its fields."""

    label: Label
    plural_label: Label
    description: Description
    name_field: NameField
    sharing_model: Literal["ReadWrite", "Read", "Private"] = "ReadWrite"
    enable_history: bool = False
    enable_reports: bool = True
    enable_search: bool = True
    enable_activities: bool = False
    enable_bulk_api: bool = True
    enable_streaming_api: bool = True
    enable_sharing: bool = True

    @field_validator("api_name")
    @classmethod
    def _api_name(cls, value: str) -> str:
        return _custom_name(value, "object")

    @model_validator(mode="after")
    def _enterprise_features(self):
        # Salesforce turns these three on or off together ("enterprise application" objects).
        trio = {self.enable_sharing, self.enable_bulk_api, self.enable_streaming_api}
        if len(trio) > 1:
            raise ValueError(f"{self.api_name}: enable_sharing, enable_bulk_api and enable_streaming_api "
                             "must all be true or all false")
        return self

    @model_validator(mode="after")
    def _history(self):
        for f in self.fields:
            if f.track_history and not self.enable_history:
                raise ValueError(f"{f.api_name} tracks history but {self.api_name} has enable_history false")
        return self


# Standard objects the package may add fields to, and the sObjects their field permissions name:
# custom fields on activities are defined on Activity but permissioned per Event and Task.
STANDARD_OBJECTS: dict[str, tuple[str, ...]] = {
    "Account": ("Account",),
    "Activity": ("Event",),
    "Contact": ("Contact",),
    "Lead": ("Lead",),
    "Opportunity": ("Opportunity",),
    "User": ("User",),
}


class StandardObject(_Object):
    """A Salesforce object the package only adds fields to: no object-meta.xml of ours."""

    @field_validator("api_name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in STANDARD_OBJECTS:
            hint = " (Event and Task custom fields are declared on Activity)" if value in ("Event", "Task") else ""
            raise ValueError(
                f"{value!r} is not a standard object this package can extend{hint}; "
                f"expected one of {', '.join(STANDARD_OBJECTS)}"
            )
        return value

    @model_validator(mode="after")
    def _no_history(self):
        for f in self.fields:
            if f.track_history:
                raise ValueError(f"{f.api_name}: history tracking on standard objects is set up in the org, not here")
        return self

    @property
    def sobjects(self) -> tuple[str, ...]:
        return STANDARD_OBJECTS[self.api_name]


# --- permission sets ---------------------------------------------------------------------------

class ObjectPermission(_Model):
    object: str
    allow_read: bool = True
    allow_create: bool = False
    allow_edit: bool = False
    allow_delete: bool = False
    # Never granted by this package; present so the XML states it explicitly.
    view_all_records: Literal[False] = False
    modify_all_records: Literal[False] = False

    @model_validator(mode="after")
    def _read_first(self):
        if (self.allow_create or self.allow_edit or self.allow_delete) and not self.allow_read:
            raise ValueError(f"{self.object}: create/edit/delete need allow_read")
        if self.allow_delete and not self.allow_edit:
            raise ValueError(f"{self.object}: allow_delete needs allow_edit")
        return self


class FieldPermission(_Model):
    field: str  # Object.Field__c, with Event/Task for activity fields
    readable: bool = True
    editable: bool = False

    @model_validator(mode="after")
    def _read_first(self):
        if self.editable and not self.readable:
            raise ValueError(f"{self.field}: an editable field must be readable")
        return self


class PermissionSet(_Model):
    api_name: str
    label: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(min_length=1, max_length=255)]
    object_permissions: list[ObjectPermission] = []
    field_permissions: list[FieldPermission] = []

    @field_validator("api_name")
    @classmethod
    def _api_name(cls, value: str) -> str:
        if not DEVELOPER_NAME.match(value) or len(value) > 80:
            raise ValueError(f"permission set name {value!r} must be a developer name (letters, digits, single _)")
        return value


# --- the package -------------------------------------------------------------------------------

# Objects a permission set may name besides the package's own. User and RecordType are absent on
# purpose: Salesforce does not take objectPermissions for them (every user reads both).
PERMISSIONABLE_STANDARD = {"Account", "Contact", "Lead", "Opportunity", "Case"}


class Package(_Model):
    name: str = "slotforce"
    api_version: str = "62.0"
    objects: list[Union[CustomObject, StandardObject]]
    permission_sets: list[PermissionSet] = []
    flows: list[Flow] = []

    @model_validator(mode="after")
    def _consistent(self):
        names = [o.api_name for o in self.objects]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"object {name} is defined twice; put all its fields in one definition")
        known_fields = {
            f"{sobject}.{f.api_name}": f for o in self.objects for sobject in permission_targets(o) for f in o.fields
        }
        self._check_lookups()
        self._check_permission_sets(known_fields)
        self._check_flows(known_fields)
        return self

    def _check_lookups(self) -> None:
        custom = {o.api_name for o in self.custom_objects()}
        for o in self.objects:
            for f in o.fields:
                if isinstance(f, LookupField) and f.reference_to.endswith("__c") and f.reference_to not in custom:
                    raise ValueError(f"{o.api_name}.{f.api_name} looks up {f.reference_to}, "
                                     "which is not an object of this package")

    def _check_permission_sets(self, known_fields: dict) -> None:
        objects = {o.api_name for o in self.custom_objects()} | PERMISSIONABLE_STANDARD
        for ps in self.permission_sets:
            for op in ps.object_permissions:
                if op.object not in objects:
                    raise ValueError(f"permission set {ps.api_name}: objectPermissions for {op.object} "
                                     "is not allowed (not a package object or a permissionable standard object)")
            for fp in ps.field_permissions:
                target = known_fields.get(fp.field)
                if target is None:
                    raise ValueError(f"permission set {ps.api_name}: field {fp.field} is not in the package")
                if not target.permissionable:
                    raise ValueError(f"permission set {ps.api_name}: {fp.field} is required; Salesforce "
                                     "rejects fieldPermissions for required fields")

    def _check_flows(self, known_fields: dict) -> None:
        """Custom fields a Flow reads or writes on package objects must exist in the package."""
        ours = {s for o in self.objects for s in permission_targets(o)}
        flow_names = {f.api_name for f in self.flows}
        for flow in self.flows:
            for element in flow.elements:
                if element.kind == "subflows" and element.flow_name not in flow_names:
                    raise ValueError(f"flow {flow.api_name}: {element.name} calls {element.flow_name}, "
                                     "which is not a flow of this package")
            for sobject, field in flow.field_uses():
                if sobject in ours and field.endswith("__c") and f"{sobject}.{field}" not in known_fields:
                    raise ValueError(f"flow {flow.api_name} uses {sobject}.{field}, which the package does not define")

    def custom_objects(self) -> list[CustomObject]:
        return [o for o in self.objects if isinstance(o, CustomObject)]

    def object(self, api_name: str):
        return next(o for o in self.objects if o.api_name == api_name)


def permission_targets(obj: CustomObject | StandardObject) -> tuple[str, ...]:
    """The sObject names a permission set (or a Flow) uses for this object's fields."""
    return obj.sobjects if isinstance(obj, StandardObject) else (obj.api_name,)
