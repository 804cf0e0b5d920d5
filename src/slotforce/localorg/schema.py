"""Objects and fields of the local org: what describe reports and what storage and SOQL obey.

Storage convention (store.py and soql/ both rely on it):
- one SQLite table per sObject, named exactly like the sObject (`"Contact"`, `"Booking_Action__c"`);
- one column per field, named exactly like the field's API name (`"Email"`, `"Action_Key__c"`);
- values: Id/reference as the 18-character id text; boolean as 0/1; date as 'YYYY-MM-DD';
  datetime as 'YYYY-MM-DDTHH:MM:SS.000+0000' (UTC, so text order is time order); int as INTEGER;
  double/currency/percent as REAL; everything else as TEXT; NULL for null;
- every table has `IsDeleted` (0/1) even where describe hides it: delete is a soft delete
  (queryAll sees it), and text columns compare case-insensitively (COLLATE NOCASE) as SOQL does.
Compound fields (type address, e.g. BillingAddress; type location) have no column: they are
read-only views over their components, the fields whose `compound_field_name` names them
(BillingStreet, BillingCity, ... BillingLatitude), which are stored and writable.
Polymorphic references (WhoId, WhatId, OwnerId) hold any id; the target object is the one whose
key prefix starts the id (`Schema.by_prefix`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


# Describe `type` values the org understands, and the SQLite storage class of each.
STORAGE: dict[str, str] = {
    "id": "TEXT",
    "reference": "TEXT",
    "string": "TEXT",
    "textarea": "TEXT",
    "email": "TEXT",
    "url": "TEXT",
    "phone": "TEXT",
    "picklist": "TEXT",
    "multipicklist": "TEXT",
    "combobox": "TEXT",
    "encryptedstring": "TEXT",
    "boolean": "INTEGER",
    "int": "INTEGER",
    "double": "REAL",
    "currency": "REAL",
    "percent": "REAL",
    "date": "TEXT",
    "datetime": "TEXT",
    "time": "TEXT",
}
# Types of compound fields: no column of their own, their value is made of their components.
COMPOUND_TYPES = frozenset({"address", "location"})


@dataclass
class PicklistValue:
    value: str
    label: str
    active: bool = True
    default: bool = False


@dataclass
class Field:
    """One field as describe reports it (names in Salesforce's spelling)."""

    name: str
    type: str  # a key of STORAGE
    label: str = ""
    length: int = 0  # for text-like types
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    name_field: bool = False
    auto_number: bool = False
    calculated: bool = False
    custom: bool = False
    case_sensitive: bool = False
    default_value: object = None
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    polymorphic: bool = False
    picklist_values: list[PicklistValue] = field(default_factory=list)
    restricted_picklist: bool = False
    cascade_delete: bool = False
    description: str = ""
    compound_field_name: str | None = None  # BillingCity -> BillingAddress (describe's compoundFieldName)
    extra_type_info: str | None = None  # describe's extraTypeInfo (plaintextarea, personname, ...)
    formula: str | None = None  # a formula field's expression (formula_fields.py; calculated is True)
    formula_blank_as_zero: bool = True  # formulaTreatBlanksAs BlankAsZero (Salesforce's default)

    @property
    def column(self) -> str:
        return self.name

    @property
    def stored(self) -> bool:
        """False for a compound field (BillingAddress): it has no column of its own."""
        return self.type not in COMPOUND_TYPES

    @property
    def storage(self) -> str:
        return STORAGE[self.type]


def compound_key(compound: Field, part: Field) -> str:
    """The key of `part` in its compound field's value: BillingPostalCode -> postalCode (as Salesforce
    shapes an address), Loc__Latitude__s -> latitude (a geolocation field)."""
    if compound.name.endswith("__c"):
        prefix = compound.name[:-3] + "__"
    else:
        prefix = compound.name.removesuffix("Address")
    rest = part.name[len(prefix):] if part.name.startswith(prefix) else part.name
    rest = rest.removesuffix("__s")
    return rest[:1].lower() + rest[1:]


@dataclass
class ChildRelationship:
    child_sobject: str
    field: str
    relationship_name: str | None
    cascade_delete: bool = False


@dataclass
class SObject:
    """One object: its fields by lower-cased name (SOQL and REST names are case-insensitive)."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    custom_setting: str | None = None  # "Hierarchy" or "List" for a custom setting (customSettingsType)
    platform_event: str | None = None  # publishBehavior of a platform event (X__e): PublishAfterCommit | ...
    # Deployed with the object's metadata, run by flow action calls (flows/actions.py), by action name:
    quick_actions: dict[str, dict] = field(default_factory=dict)  # QuickAction (components.check_quick_action)
    email_alerts: dict[str, dict] = field(default_factory=dict)  # WorkflowAlert with its EmailTemplate
    fields: dict[str, Field] = field(default_factory=dict)
    child_relationships: list[ChildRelationship] = field(default_factory=list)
    global_flags: dict[str, bool] = field(default_factory=dict)  # recorded global describe flags (mergeable...)

    @property
    def table(self) -> str:
        return self.name

    def add_field(self, f: Field) -> None:
        self.fields[f.name.lower()] = f

    def field(self, name: str) -> Field | None:
        """The field named `name` (any case), or None."""
        return self.fields.get(name.lower())

    def stored_fields(self) -> list[Field]:
        """The fields that have a column (every field but the compound ones), in describe order."""
        return self._split()[0]

    def compound_names(self) -> frozenset[str]:
        """Names of the compound fields (BillingAddress, ...): keys a stored row never has."""
        return self._split()[1]

    def _split(self) -> tuple[list[Field], frozenset[str]]:
        # Saves ask for every record: remembered until the field set changes (not a dataclass
        # field, so the persisted JSON never holds it).
        key = (id(self.fields), len(self.fields))
        cached = self.__dict__.get("_split_cache")
        if cached is None or cached[0] != key:
            stored = [f for f in self.fields.values() if f.stored]
            cached = (key, (stored, frozenset(f.name for f in self.fields.values() if not f.stored)))
            self.__dict__["_split_cache"] = cached
        return cached[1]

    def components(self, compound: Field) -> list[Field]:
        """The stored parts of a compound field (BillingAddress -> BillingStreet, BillingCity, ...)."""
        return [f for f in self.fields.values() if f.compound_field_name == compound.name and f.stored]

    def relationship(self, name: str) -> Field | None:
        """The reference field whose relationshipName is `name` (any case), e.g. Account -> AccountId."""
        lname = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == lname:
                return f
        return None

    def child_relationship(self, name: str) -> ChildRelationship | None:
        lname = name.lower()
        for rel in self.child_relationships:
            if rel.relationship_name and rel.relationship_name.lower() == lname:
                return rel
        return None


class Schema:
    """Every sObject of the org, looked up case-insensitively by name or by id key prefix."""

    def __init__(self, sobjects: list[SObject] | None = None) -> None:
        self._by_name: dict[str, SObject] = {}
        self._by_prefix: dict[str, SObject] = {}
        for s in sobjects or []:
            self.add(s)

    def add(self, sobject: SObject) -> None:
        self._by_name[sobject.name.lower()] = sobject
        self._by_prefix[sobject.key_prefix] = sobject

    def get(self, name: str) -> SObject | None:
        return self._by_name.get(name.lower())

    def by_prefix(self, record_id: str) -> SObject | None:
        """The sObject a record id belongs to, by its first three characters."""
        return self._by_prefix.get(record_id[:3]) if record_id else None

    def __iter__(self):
        return iter(self._by_name.values())

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._by_name
