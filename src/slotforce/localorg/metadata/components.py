"""Metadata components -> what the org becomes: CustomObject/CustomField XML to schema objects and
fields, PermissionSet, Layout and FlowDefinition checks. Pure: nothing here touches the org."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import access
from ..mdxml import elements, first, local_name, named, text
from ..schema import Field, PicklistValue, Schema, SObject


class ComponentError(Exception):
    """One component cannot be deployed: `problem` is what Salesforce would show, with its line."""

    def __init__(self, problem: str, line: int = 0, column: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column


@dataclass
class ComponentResult:
    component_type: str
    full_name: str
    file_name: str
    success: bool = True
    created: bool = False
    changed: bool = False
    deleted: bool = False
    problem: str | None = None
    line: int = 0
    column: int = 0


@dataclass
class FieldChange:
    sobject: str  # "Activity" means Event and Task
    field: Field
    child_relationship_name: str | None = None
    display_format: str | None = None  # AutoNumber
    parts: list[Field] = field(default_factory=list)  # a Location's Latitude/Longitude components
    formula_line: int = 0  # a formula field's <formula>, for a refusal's line


@dataclass
class ObjectChange:
    name: str
    label: str
    label_plural: str
    name_field: Field
    display_format: str | None = None
    custom_setting: str | None = None  # customSettingsType: Hierarchy or List
    platform_event: str | None = None  # a platform event's publishBehavior


def _flag(el, tag: str) -> bool:
    return (text(el, tag) or "").lower() == "true"


# Field types: MDAPI <type> -> describe type. Types Salesforce has that the org does not model are
# refused by name rather than reported as "invalid".
FIELD_TYPES = {
    "Text": "string", "TextArea": "textarea", "LongTextArea": "textarea", "Html": "textarea",
    "Email": "email", "Url": "url", "Phone": "phone", "Number": "double", "Currency": "currency",
    "Percent": "percent", "Checkbox": "boolean", "Date": "date", "DateTime": "datetime", "Time": "time",
    "Picklist": "picklist", "MultiselectPicklist": "multipicklist", "Lookup": "reference",
    "MasterDetail": "reference", "AutoNumber": "string", "EncryptedText": "encryptedstring",
}
UNSUPPORTED_FIELD_TYPES = {"Summary", "Hierarchy", "ExternalLookup", "IndirectLookup",
                           "MetadataRelationship", "File", "Lookup Filter", "Address"}
_DEFAULT_LENGTH = {"email": 80, "url": 255, "phone": 40, "textarea": 255, "picklist": 255,
                   "multipicklist": 4099, "reference": 18, "encryptedstring": 175}


def field_from_xml(sobject: str, el, *, standard_object: bool) -> FieldChange:
    """A <fields> element of an .object file as a schema Field (plus what the org needs around it)."""
    name = text(el, "fullName") or ""
    line = el.sourceline
    if not name:
        raise ComponentError("a field has no <fullName>", line)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*__c", name) or "__" in name[:-3]:
        raise ComponentError(f"Invalid custom field name {name}: custom fields end with __c and use letters, "
                             "digits and single underscores", line)
    if first(el, "lookupFilter") is not None:
        raise ComponentError(f"{sobject}.{name}: lookup filters are not supported by the local org (they would "
                             "not be enforced)", first(el, "lookupFilter").sourceline)
    if text(el, "summaryOperation") or text(el, "summaryForeignKey"):
        raise ComponentError(f"{sobject}.{name}: roll-up summary fields are not supported by the local org", line)
    mtype = text(el, "type")
    type_el = first(el, "type")
    if mtype is None:
        raise ComponentError(f"{sobject}.{name}: the field has no <type>", line)
    if mtype in UNSUPPORTED_FIELD_TYPES:
        raise ComponentError(f"{sobject}.{name}: field type {mtype} is not supported by the local org",
                             type_el.sourceline)
    if mtype == "Location":
        return _location(sobject, name, el)
    if mtype not in FIELD_TYPES:
        raise ComponentError(f"Invalid field type: {mtype}", type_el.sourceline)
    ftype = FIELD_TYPES[mtype]
    f = Field(name=name, type=ftype, label=text(el, "label") or name[:-3].replace("_", " "), custom=True,
              description=text(el, "description") or "")
    f.length = int(text(el, "length") or 0) or _DEFAULT_LENGTH.get(ftype, 0)
    formula_text = text(el, "formula")
    if formula_text:
        if mtype not in ("Text", "Number", "Currency", "Percent", "Checkbox", "Date", "DateTime"):
            raise ComponentError(f"{sobject}.{name}: a formula field of type {mtype} is not supported by the local "
                                 "org", type_el.sourceline)
        f.formula, f.calculated = formula_text, True
        f.formula_blank_as_zero = (text(el, "formulaTreatBlanksAs") or "BlankAsZero") == "BlankAsZero"
        f.createable = f.updateable = False
        f.nillable = ftype != "boolean"
        f.length = 1300 if ftype == "string" else f.length
        if ftype in ("double", "currency", "percent"):
            f.precision, f.scale = int(text(el, "precision") or 18), int(text(el, "scale") or 0)
        change = FieldChange(sobject, f, formula_line=first(el, "formula").sourceline)
        return change
    if mtype == "Text" and not text(el, "length"):
        raise ComponentError(f"{sobject}.{name}: Text fields need a <length> (1-255)", line)
    if mtype == "Text" and not 1 <= f.length <= 255:
        raise ComponentError(f"{sobject}.{name}: Text length must be 1-255, got {f.length}", line)
    if mtype == "LongTextArea" and not 256 <= f.length <= 131072:
        raise ComponentError(f"{sobject}.{name}: Long Text Area length must be 256-131072, got {f.length}", line)
    if ftype in ("double", "currency", "percent"):
        f.precision = int(text(el, "precision") or 18)
        f.scale = int(text(el, "scale") or 0)
        if f.scale > f.precision:
            raise ComponentError(f"{sobject}.{name}: scale {f.scale} is larger than precision {f.precision}", line)
    f.nillable = not _flag(el, "required")
    f.unique = _flag(el, "unique")
    f.external_id = _flag(el, "externalId")
    f.id_lookup = f.external_id or f.unique
    f.case_sensitive = _flag(el, "caseSensitive")
    if (f.unique or f.external_id) and ftype not in ("string", "email", "double", "encryptedstring") \
            and mtype != "AutoNumber":
        raise ComponentError(f"{sobject}.{name}: only Text, Number, Email and Auto Number fields can be "
                             "Unique or External ID", line)
    change = FieldChange(sobject, f)
    default = text(el, "defaultValue")
    if ftype == "boolean":
        f.nillable = False
        f.defaulted_on_create = True
        f.default_value = (default or "false").lower() == "true"
    elif default:
        m = re.fullmatch(r"""\s*(?:"(.*)"|'(.*)')\s*""", default, re.S)
        if not m:
            raise ComponentError(f"{sobject}.{name}: default value formulas other than a quoted text literal "
                                 "are not supported by the local org", first(el, "defaultValue").sourceline)
        f.default_value = m.group(1) if m.group(1) is not None else m.group(2)
        f.defaulted_on_create = True
    if ftype in ("picklist", "multipicklist"):
        _picklist(sobject, el, f)
    if ftype == "reference":
        target = text(el, "referenceTo")
        if not target:
            raise ComponentError(f"{sobject}.{name}: a {mtype} field needs <referenceTo>", line)
        f.reference_to = [target]
        f.relationship_name = name[:-3] + "__r"
        rel = text(el, "relationshipName")
        change.child_relationship_name = f"{rel}__r" if rel else None
        if mtype == "MasterDetail":
            if standard_object:
                raise ComponentError(f"{sobject}.{name}: a standard object cannot be the detail of a "
                                     "master-detail relationship", line)
            f.nillable = False
            f.cascade_delete = True
            f.updateable = _flag(el, "reparentableMasterDetail")
        else:
            f.cascade_delete = (text(el, "deleteConstraint") or "SetNull") == "Cascade"
    if mtype == "AutoNumber":
        change.display_format = text(el, "displayFormat") or "{0}"
        _auto_number(f)
    return change


def _location(sobject: str, name: str, el) -> FieldChange:
    """A Geolocation field Loc__c: a read-only compound (describe type location) over two writable
    number components, Loc__Latitude__s and Loc__Longitude__s, with the field's <scale>."""
    label = text(el, "label") or name[:-3].replace("_", " ")
    scale = int(text(el, "scale") or 0)
    if not 0 <= scale <= 15:
        raise ComponentError(f"{sobject}.{name}: a Geolocation's decimal places (scale) are 0-15, got {scale}",
                             el.sourceline)
    compound = Field(name=name, type="location", label=label, custom=True, createable=False, updateable=False,
                     description=text(el, "description") or "", scale=scale)
    parts = [Field(name=f"{name[:-3]}__{axis}__s", type="double", label=f"{label} ({axis})", custom=True,
                   precision=scale + 3, scale=scale, nillable=True, compound_field_name=name)
             for axis in ("Latitude", "Longitude")]
    return FieldChange(sobject, compound, parts=parts)


def _auto_number(f: Field) -> None:
    f.type = "string"
    f.length = 30
    f.auto_number = True
    f.createable = False
    f.updateable = False
    f.nillable = False
    f.defaulted_on_create = True


def _picklist(sobject: str, el, f: Field) -> None:
    vs = first(el, "valueSet")
    if vs is None:
        if first(el, "picklist") is not None:
            raise ComponentError(f"{sobject}.{f.name}: the pre-API-38 <picklist> element is not supported; "
                                 "use <valueSet>", first(el, "picklist").sourceline)
        raise ComponentError(f"{sobject}.{f.name}: a picklist needs a <valueSet>", el.sourceline)
    if text(vs, "valueSetName"):
        raise ComponentError(f"{sobject}.{f.name}: global value sets are not supported by the local org",
                             vs.sourceline)
    f.restricted_picklist = _flag(vs, "restricted")
    definition = first(vs, "valueSetDefinition")
    if definition is None:
        raise ComponentError(f"{sobject}.{f.name}: the valueSet has no <valueSetDefinition>", vs.sourceline)
    seen = set()
    for v in named(definition, "value"):
        full = text(v, "fullName") or ""
        if not full:
            raise ComponentError(f"{sobject}.{f.name}: a picklist value has no <fullName>", v.sourceline)
        if full.lower() in seen:
            raise ComponentError(f"{sobject}.{f.name}: duplicate picklist value {full}", v.sourceline)
        seen.add(full.lower())
        is_default = _flag(v, "default")
        f.picklist_values.append(PicklistValue(full, text(v, "label") or full, True, is_default))
        if is_default:
            f.default_value = full
            f.defaulted_on_create = True
    if not f.picklist_values:
        raise ComponentError(f"{sobject}.{f.name}: the picklist has no values", definition.sourceline)


# Parts of an .object file that change nothing the org models; everything else unknown is refused.
_OBJECT_COSMETIC = {"fullName", "label", "pluralLabel", "nameField", "deploymentStatus", "sharingModel",
                    "description", "enableActivities", "enableBulkApi", "enableFeeds", "enableHistory",
                    "enableReports", "enableSearch", "enableSharing", "enableStreamingApi", "enableLicensing",
                    "enableDivisions", "enableEnhancedLookup", "allowInChatterGroups", "compactLayoutAssignment",
                    "externalSharingModel", "visibility", "listViews", "searchLayouts", "actionOverrides",
                    "compactLayouts", "webLinks", "fieldSets", "startsWith", "gender", "recordTypeTrackHistory",
                    "recordTypeTrackFeedHistory", "enableDataTranslation", "fields", "enableChangeDataCapture",
                    "customHelpPage", "historyRetentionPolicy", "profileSearchLayouts", "household",
                    "customSettingsType", "customSettingsVisibility", "eventType", "publishBehavior"}
_OBJECT_REFUSED = {"validationRules": "validation rules", "recordTypes": "record types",
                   "businessProcesses": "business processes", "sharingReasons": "sharing reasons",
                   "indexes": "custom indexes"}


def object_from_xml(name: str, root, schema: Schema) -> tuple[ObjectChange | None, list[tuple[FieldChange | None,
                                                                                         str, ComponentError | None,
                                                                                         int]]]:
    """An .object file -> (ObjectChange for a custom object, [(field change, field full name, error, line)]).
    Object-level problems raise ComponentError."""
    if local_name(root) != "CustomObject":
        raise ComponentError(f"the root element is <{local_name(root)}>, expected <CustomObject>", root.sourceline)
    event = name.endswith("__e")
    custom = name.endswith("__c") or event
    if not event and (first(root, "eventType") is not None or first(root, "publishBehavior") is not None):
        raise ComponentError(f"{name}: only platform events (__e) have an eventType or publishBehavior",
                             root.sourceline)
    if not custom and name != "Activity" and schema.get(name) is None:
        raise ComponentError(f"the local org has no standard object {name}", root.sourceline)
    if not custom and not name[0].isalpha():
        raise ComponentError(f"invalid object name {name}", root.sourceline)
    for c in elements(root):
        tag = local_name(c)
        if tag in _OBJECT_REFUSED:
            if tag == "recordTypes" or tag == "validationRules":
                raise ComponentError(f"{name}: {_OBJECT_REFUSED[tag]} are not supported by the local org",
                                     c.sourceline)
            raise ComponentError(f"{name}: {_OBJECT_REFUSED[tag]} are not supported by the local org", c.sourceline)
        if tag not in _OBJECT_COSMETIC:
            raise ComponentError(f"{name}: <{tag}> is not supported by the local org", c.sourceline)
    obj_change = None
    if custom:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*__[ce]", name) or "__" in name[:-3]:
            raise ComponentError(f"invalid custom object name {name}", root.sourceline)
        label = text(root, "label")
        plural = text(root, "pluralLabel") or (label if text(root, "customSettingsType") else None)
        if not label or not plural:
            existing = schema.get(name)
            if existing is None:
                raise ComponentError(f"{name}: a new custom object needs <label> and <pluralLabel>", root.sourceline)
            label, plural = label or existing.label, plural or existing.label_plural
        behavior = None
        if event:
            behavior = text(root, "publishBehavior") or "PublishAfterCommit"
            if behavior not in ("PublishAfterCommit", "PublishImmediately"):
                raise ComponentError(f"{name}: publishBehavior {behavior} is not PublishAfterCommit or "
                                     "PublishImmediately", first(root, "publishBehavior").sourceline)
            if behavior == "PublishImmediately":
                raise ComponentError(f"{name}: publishBehavior PublishImmediately is not supported by the local "
                                     "org (its events are kept with the publishing transaction: "
                                     "PublishAfterCommit)", first(root, "publishBehavior").sourceline)
        setting = text(root, "customSettingsType")
        if setting is not None and setting not in ("Hierarchy", "List"):
            raise ComponentError(f"{name}: customSettingsType {setting} is not one of Hierarchy, List",
                                 first(root, "customSettingsType").sourceline)
        nf = first(root, "nameField")
        if setting is not None and nf is not None:
            raise ComponentError(f"{name}: a custom setting has no <nameField> (its Name is the setting's own)",
                                 nf.sourceline)
        if nf is None and schema.get(name) is None and setting is None and not event:
            raise ComponentError(f"{name}: a new custom object needs a <nameField>", root.sourceline)
        # A Text name field may be left out on API inserts (Salesforce then uses the record Id).
        name_field = Field("Name", "string", (text(nf, "label") if nf is not None else None) or f"{label} Name",
                           length=80, name_field=True, defaulted_on_create=True)
        display_format = None
        if nf is not None:
            nf_type = text(nf, "type") or "Text"
            if nf_type == "AutoNumber":
                display_format = text(nf, "displayFormat")
                if not display_format or not re.search(r"\{0+\}", display_format):
                    raise ComponentError(f"{name}: an Auto Number name field needs a <displayFormat> with a "
                                         "{0...} number part, like A-{0000}", nf.sourceline)
                _auto_number(name_field)
            elif nf_type != "Text":
                raise ComponentError(f"{name}: name field type {nf_type} is not supported (Text or AutoNumber)",
                                     nf.sourceline)
        if setting is not None or event:
            name_field.nillable = True
        obj_change = ObjectChange(name, label, plural, name_field, display_format, setting, behavior)
    fields = []
    for fel in named(root, "fields"):
        full = f"{name}.{text(fel, 'fullName') or '?'}"
        fname = text(fel, "fullName") or ""
        if not fname.endswith("__c") and not custom:
            continue  # a standard field's settings (help text, tracking): nothing the org models
        try:
            fields.append((field_from_xml(name, fel, standard_object=not custom), full, None, fel.sourceline))
        except ComponentError as exc:
            fields.append((None, full, exc, fel.sourceline))
    return obj_change, fields


def check_field_targets(change: FieldChange, schema: Schema, line: int) -> None:
    for target in change.field.reference_to:
        if schema.get(target) is None:
            raise ComponentError(f"{change.sobject}.{change.field.name}: referenceTo {target} is not an object "
                                 "in this org", line)


def check_permission_set(name: str, root, schema: Schema) -> dict:
    """Validate a PermissionSet; returns the PermissionSet record values (Name, Label, Description) and its
    read grants ("_grants")."""
    if local_name(root) != "PermissionSet":
        raise ComponentError(f"the root element is <{local_name(root)}>, expected <PermissionSet>", root.sourceline)
    label = text(root, "label")
    if not label:
        raise ComponentError(f"{name}: a permission set needs a <label>", root.sourceline)
    for op in named(root, "objectPermissions"):
        obj = text(op, "object") or ""
        if schema.get(obj) is None:
            raise ComponentError(f"In field: object - no CustomObject named {obj} found", op.sourceline)
    for fp in named(root, "fieldPermissions"):
        path = text(fp, "field") or ""
        obj_name, _, field_name = path.partition(".")
        obj = schema.get(obj_name if obj_name != "Activity" else "Event")
        f = obj.field(field_name) if obj else None
        if f is None:
            raise ComponentError(f"In field: field - no CustomField named {path} found", fp.sourceline)
        if not f.nillable and f.type != "boolean" and f.custom:
            raise ComponentError(f"You cannot deploy to a required field: {path}", fp.sourceline)
    for up in named(root, "userPermissions"):
        if (text(up, "name") or "") == "ModifyAllData" and _flag(up, "enabled"):
            pass  # allowed by Salesforce; the package's own test guards against it
    # "_grants": what it lets its assignees read (access.py keeps them; not a field of the record)
    return {"Name": name, "Label": label[:80], "Description": (text(root, "description") or "")[:255] or None,
            "_grants": access.grants_from_xml(root, text, named)}


def check_layout(full_name: str, root, schema: Schema) -> None:
    if local_name(root) != "Layout":
        raise ComponentError(f"the root element is <{local_name(root)}>, expected <Layout>", root.sourceline)
    obj_name = full_name.split("-", 1)[0]
    obj = schema.get(obj_name if obj_name != "Activity" else "Event")
    if obj is None:
        raise ComponentError(f"a layout for {obj_name}, which is not an object in this org", root.sourceline)
    for item in root.iter("{*}layoutItems"):
        fname = text(item, "field")
        if fname and obj.field(fname) is None:
            raise ComponentError(f"Field: {fname} does not exist; check the spelling", item.sourceline)


def flow_definition(root) -> int:
    """activeVersionNumber of a FlowDefinition (0 when absent: deactivate)."""
    if local_name(root) != "FlowDefinition":
        raise ComponentError(f"the root element is <{local_name(root)}>, expected <FlowDefinition>", root.sourceline)
    raw = text(root, "activeVersionNumber") or "0"
    if not raw.isdigit():
        raise ComponentError(f"activeVersionNumber {raw!r} is not a number", first(root, "activeVersionNumber").sourceline)
    return int(raw)


def plan_object(schema: Schema, change: ObjectChange) -> SObject:
    """The object as it will be after the deploy (for checking later components against)."""
    existing = schema.get(change.name)
    if existing is not None:
        existing.label, existing.label_plural = change.label, change.label_plural
        return existing
    s = SObject(change.name, change.label, change.label_plural, f"x{len(list(schema)):02d}", custom=True,
                custom_setting=change.custom_setting, platform_event=change.platform_event,
                queryable=change.platform_event is None)
    owner = "OwnerId" if change.custom_setting is None else "SetupOwnerId"
    for fname, ftype in (("Id", "id"), (owner, "reference"), ("CreatedDate", "datetime"),
                         ("CreatedById", "reference"), ("LastModifiedDate", "datetime"),
                         ("LastModifiedById", "reference"), ("SystemModstamp", "datetime"), ("IsDeleted", "boolean")):
        s.add_field(Field(fname, ftype, createable=fname == owner, updateable=fname == owner))
    s.add_field(change.name_field)
    schema.add(s)
    return s


def plan_field(schema: Schema, change: FieldChange) -> None:
    targets = ["Event", "Task"] if change.sobject == "Activity" else [change.sobject]
    for t in targets:
        obj = schema.get(t)
        if obj is not None:
            for part in change.parts:
                obj.add_field(part)
            obj.add_field(change.field)


QUICK_ACTION_RUNS = {"Create", "Update"}  # the kinds a flow's quickAction action call runs here


def check_quick_action(full_name: str, root, schema: Schema) -> tuple[str, str, dict]:
    """A QuickAction (quickActions/Account.New_Contact.quickAction) -> (object, action name, definition).
    Only object-specific actions: a global one (no `Object.` prefix) is refused."""
    if local_name(root) != "QuickAction":
        raise ComponentError(f"the root element is <{local_name(root)}>, expected <QuickAction>", root.sourceline)
    obj_name, _, action = full_name.partition(".")
    if not action:
        raise ComponentError(f"{full_name}: global quick actions are not supported by the local org (only "
                             "object-specific ones, Object.Action)", root.sourceline)
    obj = schema.get(obj_name)
    if obj is None:
        raise ComponentError(f"{full_name}: {obj_name} is not an object in this org", root.sourceline)
    kind = text(root, "type") or ""
    definition: dict = {"type": kind, "label": text(root, "label") or action, "overrides": {}, "fields": []}
    if kind not in QUICK_ACTION_RUNS:
        return obj.name, action, definition  # accepted; a flow calling it is refused
    target = obj if kind == "Update" else schema.get(text(root, "targetObject") or "")
    if target is None:
        raise ComponentError(f"{full_name}: targetObject {text(root, 'targetObject')} is not an object in this org",
                             root.sourceline)
    definition["targetObject"] = target.name
    parent = text(root, "targetParentField")
    if kind == "Create" and parent:
        lookup = target.relationship(parent) or target.field(parent)
        if lookup is None or lookup.type != "reference":
            raise ComponentError(f"{full_name}: targetParentField {parent} is not a lookup of {target.name}",
                                 first(root, "targetParentField").sourceline)
        definition["parentField"] = lookup.name
    for o in named(root, "fieldOverrides"):
        fname = text(o, "field") or ""
        f = target.field(fname)
        if f is None:
            raise ComponentError(f"{full_name}: fieldOverrides: {target.name} has no field {fname}", o.sourceline)
        literal, formula = text(o, "literalValue"), text(o, "formula")
        if formula is not None:
            m = re.fullmatch(r"""\s*(?:"(.*)"|'(.*)')\s*""", formula, re.S)
            if not m:
                raise ComponentError(f"{full_name}: fieldOverrides {fname}: formula values other than a quoted text "
                                     "literal are not supported by the local org", o.sourceline)
            literal = m.group(1) if m.group(1) is not None else m.group(2)
        definition["overrides"][f.name] = literal
    for item in root.iter("{*}quickActionLayoutItems"):
        fname = text(item, "field")
        if fname:
            if target.field(fname) is None:
                raise ComponentError(f"{full_name}: the layout field {fname} is not a field of {target.name}",
                                     item.sourceline)
            definition["fields"].append(target.field(fname).name)
    return obj.name, action, definition


# WorkflowAlert recipients the org can resolve from the record and its users (WorkflowEmailRecipientType).
ALERT_RECIPIENTS = {"email", "user", "owner", "creator", "userLookup", "contactLookup"}
_TEMPLATE_MERGE = re.compile(r"\{!([^}]*)\}")


def email_template(full_name: str, meta_root, body: bytes) -> dict:
    """An EmailTemplate (email/folder/Name.email + Name.email-meta.xml) -> {subject, body, type}."""
    if local_name(meta_root) != "EmailTemplate":
        raise ComponentError(f"the root element is <{local_name(meta_root)}>, expected <EmailTemplate>",
                             meta_root.sourceline)
    kind = text(meta_root, "type") or "text"
    if kind not in ("text", "html", "custom"):
        raise ComponentError(f"{full_name}: email templates of type {kind} are not supported by the local org "
                             "(text, html and custom are)", first(meta_root, "type").sourceline)
    try:
        content = body.decode(text(meta_root, "encodingKey") or "utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise ComponentError(f"{full_name}: the template body cannot be read: {exc}") from None
    return {"subject": text(meta_root, "subject") or "", "body": content, "type": kind}


def template_merge_fields(template: dict) -> list[str]:
    return [m.strip() for part in (template["subject"], template["body"]) for m in _TEMPLATE_MERGE.findall(part)]


def check_workflow(obj_name: str, root, schema: Schema, templates: dict[str, dict]) -> list[tuple[str, dict, int]]:
    """A Workflow file (workflows/Contact.workflow): its email alerts as [(name, definition, line)]. Workflow
    rules, field updates, tasks and outbound messages are refused (flows replace them)."""
    if local_name(root) != "Workflow":
        raise ComponentError(f"the root element is <{local_name(root)}>, expected <Workflow>", root.sourceline)
    obj = schema.get(obj_name)
    if obj is None:
        raise ComponentError(f"{obj_name} is not an object in this org", root.sourceline)
    alerts = []
    for c in elements(root):
        tag = local_name(c)
        if tag == "fullName":
            continue
        if tag != "alerts":
            raise ComponentError(f"{obj_name}: workflow <{tag}> are not supported by the local org (only email "
                                 "alerts, run from flows)", c.sourceline)
        name = text(c, "fullName") or ""
        where = f"WorkflowAlert {obj_name}.{name}"
        sender = text(c, "senderType") or "CurrentUser"
        template_name = text(c, "template") or ""
        template = templates.get(template_name)
        if template is None:
            raise ComponentError(f"{where}: the email template {template_name} is not in this org or this "
                                 "deployment", c.sourceline)
        for merge in template_merge_fields(template):
            head, _, field_name = merge.partition(".")
            if head.lower() != obj.name.lower() or not field_name or obj.field(field_name) is None:
                raise ComponentError(f"{where}: the template {template_name} uses the merge field {{!{merge}}}, "
                                     f"which the local org cannot fill (it fills {obj.name} fields)", c.sourceline)
        recipients = []
        for r in named(c, "recipients"):
            rtype = text(r, "type") or ""
            if rtype not in ALERT_RECIPIENTS:
                raise ComponentError(f"{where}: recipients of type {rtype} are not supported by the local org "
                                     f"(supported: {', '.join(sorted(ALERT_RECIPIENTS))})", r.sourceline)
            field_name = text(r, "field")
            if rtype in ("email", "userLookup", "contactLookup"):
                f = obj.field(field_name or "")
                if f is None:
                    raise ComponentError(f"{where}: the recipient field {field_name} is not a field of {obj.name}",
                                         r.sourceline)
                field_name = f.name
            recipients.append({"type": rtype, "field": field_name, "recipient": text(r, "recipient")})
        alerts.append((name, {"template": template_name, "senderType": sender,
                              "senderAddress": text(c, "senderAddress"), "recipients": recipients,
                              "ccEmails": [(e.text or "").strip() for e in named(c, "ccEmails")],
                              "label": text(c, "description") or name}, c.sourceline))
    return alerts
