"""The standard objects of a fresh local org: recorded describes plus hand-written definitions.

Account, Contact, Lead, Event, Case, Opportunity and OpportunityContactRole come from real describe
responses (`recorded.json`, made by `generate.py`; each object's `source` names its recording).
User, Profile, Organization, RecordType, Task, EventRelation, PermissionSet, PermissionSetAssignment,
Campaign, CampaignMember, Group, GroupMember and QueueSobject are written here from the Object Reference
(`REFERENCE` names each page; only the fields an integration touches). References and child
relationships are kept only among these objects.
"""

from __future__ import annotations

import json
import pathlib

from slotforce.localorg.schema import ChildRelationship, Field, PicklistValue, SObject
from slotforce.localorg.values import ID_TYPES, TEXT_TYPES

# Objects with record types: RecordTypeId is always there, so queries on it work before any
# record type is deployed (Salesforce adds it with the first record type; see docs/design.md).
WITH_RECORD_TYPES = ("Account", "Contact", "Lead", "Opportunity", "Event", "Task")
OBJECT_REFERENCE = "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference"
# The Object Reference page each hand-written object follows.
REFERENCE = {name: f"{OBJECT_REFERENCE}/sforce_api_objects_{name.lower()}.htm" for name in (
    "User", "Profile", "Organization", "RecordType", "Task", "EventRelation", "PermissionSet",
    "PermissionSetAssignment", "Campaign", "CampaignMember", "Group", "GroupMember", "QueueSobject")}
# Child relationship names Salesforce uses for the hand-written objects' lookups.
CHILD_NAMES = {
    ("Campaign", "ParentId"): "ChildCampaigns",
    ("CampaignMember", "CampaignId"): "CampaignMembers",
    ("Opportunity", "CampaignId"): "Opportunities",
    ("QueueSobject", "QueueId"): "QueueSobjects",
    ("GroupMember", "GroupId"): "GroupMembers",
    ("Case", "AccountId"): "Cases",
    ("Case", "ContactId"): "Cases",
    ("Task", "WhoId"): "Tasks",
    ("Task", "WhatId"): "Tasks",
    ("Event", "WhatId"): "Events",
    ("EventRelation", "RelationId"): "EventRelations",
    ("EventRelation", "EventId"): "EventRelations",
    ("User", "ProfileId"): "Users",
    ("User", "ManagerId"): "ManagedUsers",
    ("PermissionSetAssignment", "AssigneeId"): "PermissionSetAssignments",
    ("PermissionSetAssignment", "PermissionSetId"): "Assignments",
}
CASCADE = {("EventRelation", "EventId"), ("PermissionSetAssignment", "AssigneeId"), ("QueueSobject", "QueueId"),
           ("GroupMember", "GroupId"), ("GroupMember", "UserOrGroupId"),
           ("CampaignMember", "CampaignId"), ("CampaignMember", "LeadId"), ("CampaignMember", "ContactId"),
           ("PermissionSetAssignment", "PermissionSetId"), ("Task", "WhoId"), ("Task", "WhatId")}


def field_def(name: str, type_: str, label: str = "", **kw) -> Field:
    """A Field with the usual length for its type (255 for text, 18 for ids)."""
    if type_ in TEXT_TYPES and "length" not in kw:
        kw["length"] = 255
    if type_ in ID_TYPES:
        kw.setdefault("length", 18)
    return Field(name=name, type=type_, label=label or name, **kw)


def _required(name: str, type_: str, label: str = "", **kw) -> Field:
    return field_def(name, type_, label, nillable=False, **kw)


def _readonly(name: str, type_: str, label: str = "", **kw) -> Field:
    return field_def(name, type_, label, createable=False, updateable=False, **kw)


def _picklist(values: list[str], default: str | None = None) -> list[PicklistValue]:
    return [PicklistValue(v, v, True, v == default) for v in values]


def _ref(name: str, targets: list[str], relationship: str, label: str = "", **kw) -> Field:
    return field_def(name, "reference", label, reference_to=targets, relationship_name=relationship,
              polymorphic=len(targets) > 1, **kw)


def system_fields(owned: bool) -> list[Field]:
    """Id, IsDeleted, audit fields and (for owned objects) OwnerId, as every object has them."""
    fields = [
        field_def("Id", "id", "Record ID", nillable=False, createable=False, updateable=False,
           defaulted_on_create=True, id_lookup=True),
        field_def("IsDeleted", "boolean", "Deleted", nillable=False, createable=False, updateable=False,
           defaulted_on_create=True, default_value=False),
        _readonly("CreatedDate", "datetime", "Created Date", nillable=False, defaulted_on_create=True),
        _ref("CreatedById", ["User"], "CreatedBy", "Created By ID", nillable=False, createable=False,
             updateable=False, defaulted_on_create=True),
        _readonly("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, defaulted_on_create=True),
        _ref("LastModifiedById", ["User"], "LastModifiedBy", "Last Modified By ID", nillable=False,
             createable=False, updateable=False, defaulted_on_create=True),
        _readonly("SystemModstamp", "datetime", "System Modstamp", nillable=False, defaulted_on_create=True),
    ]
    if owned:
        fields.append(_ref("OwnerId", ["User"], "Owner", "Owner ID", nillable=False, defaulted_on_create=True))
    return fields


def setup_owner_field() -> Field:
    """A hierarchy custom setting's SetupOwnerId: the org (its default), a profile or a user; one record each."""
    return _ref("SetupOwnerId", ["Organization", "Profile", "User"], "SetupOwner", "Location",
                nillable=False, defaulted_on_create=True, unique=True)


def _sobject(name: str, label: str, plural: str, prefix: str, fields: list[Field], *,
             owned: bool = False, **kw) -> SObject:
    s = SObject(name=name, label=label, label_plural=plural, key_prefix=prefix, **kw)
    for f in system_fields(owned) + fields:
        s.add_field(f)
    return s


TIME_ZONES_FALLBACK = ["America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin",
                       "Europe/Paris", "Asia/Tokyo", "Australia/Sydney", "GMT"]
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "ja_JP", "pt_BR"]
LANGUAGES = ["en_US", "en_GB", "de", "fr", "es", "it", "nl_NL", "ja", "pt_BR"]
ENCODINGS = ["UTF-8", "ISO-8859-1", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "ks_c_5601-1987", "Big5", "GB2312"]


def hand_written(time_zones: list[str]) -> list[SObject]:
    tz = _picklist(time_zones)
    user = _sobject("User", "User", "Users", "005", [
        _required("Username", "string", "Username", length=80, unique=True, id_lookup=True),
        _required("LastName", "string", "Last Name", length=80),
        field_def("FirstName", "string", "First Name", length=40),
        _readonly("Name", "string", "Full Name", length=121, name_field=True, id_lookup=True),
        _required("Email", "email", "Email", length=128, id_lookup=True),
        _required("Alias", "string", "Alias", length=8),
        field_def("CommunityNickname", "string", "Nickname", length=40, defaulted_on_create=True),
        field_def("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True, default_value=True),
        _ref("ProfileId", ["Profile"], "Profile", "Profile ID", nillable=False),
        _ref("ManagerId", ["User"], "Manager", "Manager ID"),
        field_def("Title", "string", "Title", length=80),
        field_def("Department", "string", "Department", length=80),
        field_def("CompanyName", "string", "Company Name", length=80),
        field_def("Phone", "phone", "Phone", length=40),
        field_def("FederationIdentifier", "string", "SAML Federation ID", length=512, id_lookup=True),
        _required("TimeZoneSidKey", "picklist", "Time Zone", length=40, picklist_values=tz, restricted_picklist=True),
        _required("LocaleSidKey", "picklist", "Locale", length=40, picklist_values=_picklist(LOCALES)),
        _required("EmailEncodingKey", "picklist", "Email Encoding", length=40, picklist_values=_picklist(ENCODINGS)),
        _required("LanguageLocaleKey", "picklist", "Language", length=40, picklist_values=_picklist(LANGUAGES)),
        _readonly("UserType", "picklist", "User Type", length=40, defaulted_on_create=True, default_value="Standard",
                  picklist_values=_picklist(["Standard", "PowerPartner", "CsnOnly", "Guest"], "Standard")),
        _readonly("LastLoginDate", "datetime", "Last Login"),
    ], deletable=False)
    profile = _sobject("Profile", "Profile", "Profiles", "00e", [
        _required("Name", "string", "Name", length=255, name_field=True),
        field_def("Description", "string", "Description", length=255),
        _readonly("UserType", "picklist", "User Type", length=40,
                  picklist_values=_picklist(["Standard", "PowerPartner", "Guest"])),
    ], createable=False, deletable=False)
    organization = _sobject("Organization", "Organization", "Organizations", "00D", [
        _readonly("Name", "string", "Name", length=80, name_field=True),
        _readonly("OrganizationType", "picklist", "Edition", length=40,
                  picklist_values=_picklist(["Developer Edition", "Enterprise Edition", "Unlimited Edition"])),
        _readonly("IsSandbox", "boolean", "Is Sandbox", nillable=False),
        _readonly("InstanceName", "string", "Instance Name", length=5),
        _readonly("NamespacePrefix", "string", "Namespace Prefix", length=15),
        _readonly("TrialExpirationDate", "datetime", "Trial Expiration Date"),
        _readonly("Country", "string", "Country", length=80),
        _readonly("LanguageLocaleKey", "picklist", "Language", length=40, picklist_values=_picklist(LANGUAGES)),
        _readonly("TimeZoneSidKey", "picklist", "Default Time Zone", length=40, picklist_values=tz),
        _readonly("DefaultLocaleSidKey", "picklist", "Default Locale", length=40, picklist_values=_picklist(LOCALES)),
    ], createable=False, updateable=False, deletable=False)
    record_type = _sobject("RecordType", "Record Type", "Record Types", "012", [
        _required("Name", "string", "Name", length=80, name_field=True),
        _required("DeveloperName", "string", "Record Type Name", length=80),
        _required("SobjectType", "picklist", "SObject Type Name", length=40),
        field_def("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True, default_value=True),
        field_def("Description", "string", "Description", length=255),
        _readonly("NamespacePrefix", "string", "Namespace Prefix", length=15),
        field_def("BusinessProcessId", "id", "Business Process ID"),
    ], deletable=False)
    task = _sobject("Task", "Task", "Tasks", "00T", [
        _ref("WhoId", ["Contact", "Lead"], "Who", "Name ID"),
        _ref("WhatId", ["Account", "Opportunity", "Case", "Campaign"], "What", "Related To ID"),
        field_def("Subject", "combobox", "Subject", picklist_values=_picklist(["Call", "Send Letter", "Send Quote", "Other"])),
        field_def("ActivityDate", "date", "Due Date Only"),
        _required("Status", "picklist", "Status", length=40, defaulted_on_create=True, default_value="Not Started",
                  picklist_values=_picklist(["Not Started", "In Progress", "Completed", "Waiting on someone else",
                                             "Deferred"], "Not Started")),
        _required("Priority", "picklist", "Priority", length=40, defaulted_on_create=True, default_value="Normal",
                  picklist_values=_picklist(["High", "Normal", "Low"], "Normal")),
        field_def("Type", "picklist", "Type", length=40, picklist_values=_picklist(["Call", "Meeting", "Other", "Email"])),
        field_def("Description", "textarea", "Comments", length=32000),
        _ref("AccountId", ["Account"], "Account", "Account ID", createable=False, updateable=False),
        _readonly("IsClosed", "boolean", "Closed", nillable=False, defaulted_on_create=True, default_value=False),
        _readonly("IsHighPriority", "boolean", "High Priority", nillable=False, defaulted_on_create=True,
                  default_value=False),
        field_def("TaskSubtype", "picklist", "Task Subtype", length=40, updateable=False, restricted_picklist=True,
           picklist_values=_picklist(["Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"])),
        field_def("CallDurationInSeconds", "int", "Call Duration", precision=8),
        field_def("CallType", "picklist", "Call Type", length=40, restricted_picklist=True,
           picklist_values=_picklist(["Internal", "Inbound", "Outbound"])),
        field_def("CallDisposition", "string", "Call Result", length=255),
        field_def("IsReminderSet", "boolean", "Reminder Set", nillable=False, defaulted_on_create=True, default_value=False),
        field_def("ReminderDateTime", "datetime", "Reminder Date/Time"),
        _readonly("CompletedDateTime", "datetime", "Completed Date/Time"),
    ], owned=True)
    event_relation = _sobject("EventRelation", "Event Relation", "Event Relations", "0RE", [
        _ref("EventId", ["Event"], "Event", "Event ID", nillable=False, updateable=False),
        _ref("RelationId", ["Contact", "Lead", "User"], "Relation", "Relation ID", nillable=False, updateable=False),
        field_def("IsInvitee", "boolean", "Is Invitee", nillable=False, defaulted_on_create=True, default_value=True),
        field_def("IsParent", "boolean", "Is Parent", nillable=False, defaulted_on_create=True, default_value=False),
        field_def("IsWhat", "boolean", "Is What", nillable=False, defaulted_on_create=True, default_value=False),
        field_def("Status", "picklist", "Status", length=40, defaulted_on_create=True, default_value="New",
           restricted_picklist=True,
           picklist_values=_picklist(["New", "Declined", "Accepted", "Uninvited", "Maybe"], "New")),
        field_def("RespondedDate", "datetime", "Response Date"),
        field_def("Response", "string", "Response", length=255),
        _ref("AccountId", ["Account"], "Account", "Account ID", createable=False, updateable=False),
    ])
    permission_set = _sobject("PermissionSet", "Permission Set", "Permission Sets", "0PS", [
        _required("Name", "string", "Name", length=80),
        _required("Label", "string", "Label", length=80, name_field=True),
        field_def("Description", "string", "Description", length=255),
        _readonly("IsOwnedByProfile", "boolean", "Is Owned By Profile", nillable=False, defaulted_on_create=True,
                  default_value=False),
        _ref("ProfileId", ["Profile"], "Profile", "Profile ID", createable=False, updateable=False),
        _readonly("NamespacePrefix", "string", "Namespace Prefix", length=15),
    ])
    assignment = _sobject("PermissionSetAssignment", "Permission Set Assignment", "Permission Set Assignments",
                          "0Pa", [
        _ref("AssigneeId", ["User"], "Assignee", "Assignee ID", nillable=False, updateable=False),
        _ref("PermissionSetId", ["PermissionSet"], "PermissionSet", "Permission Set ID", nillable=False,
             updateable=False),
    ], updateable=False)
    return [user, profile, organization, record_type, task, event_relation, permission_set,
            assignment, *_marketing(), *_queues()]


_STAT = {"defaulted_on_create": True, "default_value": 0}  # campaign statistics start at 0


def _marketing() -> list[SObject]:
    """Campaign and CampaignMember (Object Reference; standard picklist values of a Developer Edition)."""
    campaign = _sobject("Campaign", "Campaign", "Campaigns", "701", [
        _required("Name", "string", "Name", length=80, name_field=True),
        _ref("ParentId", ["Campaign"], "Parent", "Parent Campaign ID"),
        field_def("Type", "picklist", "Type", length=40, picklist_values=_picklist([
            "Conference", "Webinar", "Trade Show", "Public Relations", "Partners", "Referral Program",
            "Advertisement", "Banner Ads", "Direct Mail", "Email", "Telemarketing", "Other"])),
        field_def("Status", "picklist", "Status", length=40, picklist_values=_picklist(
            ["Planned", "In Progress", "Completed", "Aborted"], "Planned")),
        field_def("StartDate", "date", "Start Date"),
        field_def("EndDate", "date", "End Date"),
        field_def("ExpectedRevenue", "currency", "Expected Revenue in Campaign", precision=18, scale=0),
        field_def("BudgetedCost", "currency", "Budgeted Cost in Campaign", precision=18, scale=0),
        field_def("ActualCost", "currency", "Actual Cost in Campaign", precision=18, scale=0),
        field_def("ExpectedResponse", "percent", "Expected Response (%)", precision=10, scale=2),
        field_def("NumberSent", "double", "Num Sent in Campaign", precision=18, scale=0),
        field_def("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True, default_value=False),
        field_def("Description", "textarea", "Description", length=32000),
        _readonly("NumberOfLeads", "int", "Leads in Campaign", precision=9, **_STAT),
        _readonly("NumberOfConvertedLeads", "int", "Converted Leads in Campaign", precision=9, **_STAT),
        _readonly("NumberOfContacts", "int", "Contacts in Campaign", precision=9, **_STAT),
        _readonly("NumberOfResponses", "int", "Responses in Campaign", precision=9, **_STAT),
        _readonly("NumberOfOpportunities", "int", "Opportunities in Campaign", precision=9, **_STAT),
        _readonly("NumberOfWonOpportunities", "int", "Won Opportunities in Campaign", precision=9, **_STAT),
        _readonly("AmountAllOpportunities", "currency", "Value Opportunities in Campaign", precision=18, scale=0, **_STAT),
        _readonly("AmountWonOpportunities", "currency", "Value Won Opportunities in Campaign", precision=18,
                  scale=0, **_STAT),
        _readonly("LastActivityDate", "date", "Last Activity"),
    ], owned=True)
    member = _sobject("CampaignMember", "Campaign Member", "Campaign Members", "00v", [
        _ref("CampaignId", ["Campaign"], "Campaign", "Campaign ID", nillable=False, updateable=False),
        _ref("LeadId", ["Lead"], "Lead", "Lead ID", updateable=False),
        _ref("ContactId", ["Contact"], "Contact", "Contact ID", updateable=False),
        field_def("Status", "picklist", "Status", length=40, defaulted_on_create=True,
                  picklist_values=_picklist(["Planned", "Received", "Responded", "Sent"], "Sent")),
        _readonly("HasResponded", "boolean", "Responded", nillable=False, defaulted_on_create=True,
                  default_value=False),
        _readonly("FirstRespondedDate", "date", "First Responded Date"),
        _ref("LeadOrContactId", ["Contact", "Lead"], None, "Contact or Lead ID", createable=False,
             updateable=False),
    ])
    return [campaign, member]


# Group.Type values (Object Reference, Group); Queue groups own records through QueueSobject rows.
GROUP_TYPES = ["Regular", "Queue", "Role", "RoleAndSubordinates", "RoleAndSubordinatesInternal", "Manager",
               "ManagerAndSubordinatesInternal", "Organization", "PRMOrganization", "AllCustomerPortal"]


def _queues() -> list[SObject]:
    """Group (public groups and queues) and QueueSobject (the objects a queue may own)."""
    group = _sobject("Group", "Group", "Groups", "00G", [
        _required("Name", "string", "Name", length=40, name_field=True),
        field_def("DeveloperName", "string", "Developer Name", length=80, defaulted_on_create=True),
        _ref("RelatedId", ["User"], "Related", "Related ID", createable=False, updateable=False),
        _required("Type", "picklist", "Type", length=40, updateable=False, restricted_picklist=True,
                  defaulted_on_create=True, default_value="Regular", picklist_values=_picklist(GROUP_TYPES)),
        field_def("Email", "email", "Email", length=255),
        field_def("DoesSendEmailToMembers", "boolean", "Send Email to Members", nillable=False,
                  defaulted_on_create=True, default_value=False),
        field_def("DoesIncludeBosses", "boolean", "Include Bosses", nillable=False, defaulted_on_create=True,
                  default_value=True),
    ], owned=True)
    owner = group.field("OwnerId")
    owner.reference_to, owner.polymorphic = ["Organization", "User"], True
    owner.createable = owner.updateable = False
    queue_object = _sobject("QueueSobject", "Queue Sobject", "Queue Sobjects", "03g", [
        _ref("QueueId", ["Group"], "Queue", "Group ID", nillable=False, updateable=False),
        _required("SobjectType", "picklist", "Sobject Type", length=40, updateable=False,
                  picklist_values=_picklist(["Case", "Lead", "Campaign", "Opportunity", "Task"])),
    ], updateable=False)
    member = _sobject("GroupMember", "Group Member", "Group Members", "011", [
        _ref("GroupId", ["Group"], "Group", "Group ID", nillable=False, updateable=False),
        _ref("UserOrGroupId", ["User", "Group"], None, "User/Group ID", nillable=False, updateable=False),
    ], updateable=False)
    return [group, queue_object, member]


def _recorded() -> list[SObject]:
    data = json.loads(pathlib.Path(__file__).with_name("recorded.json").read_text())
    out = []
    for o in data:
        s = SObject(name=o["name"], label=o["label"], label_plural=o["label_plural"],
                    key_prefix=o["key_prefix"])  # o["source"]: the recording it comes from
        for f in o["fields"]:
            f = dict(f)
            f["picklist_values"] = [PicklistValue(**p) for p in f.get("picklist_values", [])]
            s.add_field(Field(**f))
        s.child_relationships = [ChildRelationship(**c) for c in o["child_relationships"]]
        out.append(s)
    return out


def standard_objects() -> list[SObject]:
    """Fresh definitions of every standard object of the local org (new objects on each call)."""
    recorded = _recorded()
    event = next(s for s in recorded if s.name == "Event")
    tz_field = event.field("RecurrenceTimeZoneSidKey")
    time_zones = [p.value for p in tz_field.picklist_values] if tz_field else TIME_ZONES_FALLBACK
    objects = recorded + hand_written(time_zones)
    flags = json.loads(pathlib.Path(__file__).with_name("recorded_global.json").read_text())["sobjects"]
    for s in objects:
        s.global_flags = dict(flags.get(s.name, {}))
    _keep_modeled(objects)
    by_name = {s.name: s for s in objects}
    for name in WITH_RECORD_TYPES:
        s = by_name[name]
        if not s.field("RecordTypeId"):
            s.add_field(_ref("RecordTypeId", ["RecordType"], "RecordType", "Record Type ID"))
    # Recorded owners keep the targets the local org has: Lead and Case are owned by users or
    # queues (User, Group); Event's Calendar owners are left out, so its OwnerId is User only.
    for s in objects:
        owner = s.field("OwnerId")
        if owner and owner.type == "reference":
            owner.polymorphic = len(owner.reference_to) > 1
    _link_children(objects)
    return objects


def _keep_modeled(objects: list[SObject]) -> None:
    """References keep the targets the local org has (in recorded order); a reference left with none
    (Case.AssetId, Opportunity.Pricebook2Id) is dropped, as its object is."""
    names = {s.name for s in objects}
    for s in objects:
        for f in list(s.fields.values()):
            if f.type == "reference":
                f.reference_to = [t for t in f.reference_to if t in names]
                if not f.reference_to:
                    del s.fields[f.name.lower()]


def _link_children(objects: list[SObject]) -> None:
    """Child relationships among the modeled objects: keep recorded ones whose field exists, add the rest."""
    by_name = {s.name: s for s in objects}
    for parent in objects:
        parent.child_relationships = [
            c for c in parent.child_relationships
            if c.child_sobject in by_name and by_name[c.child_sobject].field(c.field)
        ]
    for child in objects:
        for f in child.fields.values():
            if f.type != "reference" or f.name in ("CreatedById", "LastModifiedById"):
                continue
            for target in f.reference_to:
                parent = by_name.get(target)
                if parent is None:
                    continue
                if any(c.child_sobject == child.name and c.field == f.name for c in parent.child_relationships):
                    continue
                key = (child.name, f.name)
                parent.child_relationships.append(ChildRelationship(
                    child.name, f.name, CHILD_NAMES.get(key), cascade_delete=key in CASCADE))
