"""Helpers for deploy tests: MDAPI zips built from dicts, and a small package in MDAPI form."""

from __future__ import annotations

import io
import zipfile

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content if isinstance(content, bytes) else content.encode())
    return buf.getvalue()


def package_xml(types: dict[str, list[str]], version: str = "62.0") -> str:
    body = "".join(f"<types>{''.join(f'<members>{m}</members>' for m in members)}<name>{t}</name></types>"
                   for t, members in types.items())
    return f'{HEADER}<Package xmlns="http://soap.sforce.com/2006/04/metadata">{body}<version>{version}</version></Package>'


BOOKING_OBJECT = HEADER + """<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
    <fields>
        <fullName>Action_Key__c</fullName>
        <externalId>true</externalId>
        <label>Action Key</label>
        <length>255</length>
        <required>false</required>
        <type>Text</type>
        <unique>true</unique>
    </fields>
    <fields>
        <fullName>Action__c</fullName>
        <label>Action</label>
        <type>Picklist</type>
        <valueSet>
            <restricted>true</restricted>
            <valueSetDefinition>
                <sorted>false</sorted>
                <value><fullName>Created</fullName><default>false</default><label>Created</label></value>
                <value><fullName>Canceled</fullName><default>false</default><label>Canceled</label></value>
            </valueSetDefinition>
        </valueSet>
    </fields>
    <fields>
        <fullName>Status__c</fullName>
        <label>Status</label>
        <type>Picklist</type>
        <valueSet>
            <restricted>true</restricted>
            <valueSetDefinition>
                <value><fullName>Pending</fullName><default>true</default><label>Pending</label></value>
                <value><fullName>Processed</fullName><default>false</default><label>Processed</label></value>
            </valueSetDefinition>
        </valueSet>
    </fields>
    <fields>
        <fullName>Description__c</fullName>
        <label>Description</label>
        <length>32000</length>
        <type>LongTextArea</type>
        <visibleLines>3</visibleLines>
    </fields>
    <fields>
        <fullName>Start__c</fullName>
        <label>Start</label>
        <type>DateTime</type>
    </fields>
    <fields>
        <fullName>Organizer_Email__c</fullName>
        <label>Organizer Email</label>
        <type>Email</type>
    </fields>
    <fields>
        <fullName>Meeting_Url__c</fullName>
        <label>Meeting URL</label>
        <type>Url</type>
    </fields>
    <fields>
        <fullName>Active__c</fullName>
        <defaultValue>true</defaultValue>
        <label>Active</label>
        <type>Checkbox</type>
    </fields>
    <fields>
        <fullName>User__c</fullName>
        <deleteConstraint>SetNull</deleteConstraint>
        <label>User</label>
        <referenceTo>User</referenceTo>
        <relationshipName>Booking_Actions</relationshipName>
        <type>Lookup</type>
    </fields>
    <label>Booking Action</label>
    <nameField>
        <displayFormat>BA-{00000000}</displayFormat>
        <label>Booking Action Number</label>
        <type>AutoNumber</type>
    </nameField>
    <pluralLabel>Booking Actions</pluralLabel>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
"""

CONTACT_OBJECT = HEADER + """<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <fields>
        <fullName>Meeting_Type__c</fullName>
        <label>Meeting Type</label>
        <length>100</length>
        <type>Text</type>
    </fields>
</CustomObject>
"""

ACTIVITY_OBJECT = HEADER + """<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <fields>
        <fullName>Booking_Uid__c</fullName>
        <externalId>true</externalId>
        <label>Booking UID</label>
        <length>255</length>
        <type>Text</type>
        <unique>true</unique>
    </fields>
</CustomObject>
"""

FLOW = HEADER + """<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <label>Booking Action Created</label>
    <processType>AutoLaunchedFlow</processType>
    <recordCreates>
        <name>Create_Event</name>
        <label>Create Event</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <inputAssignments><field>Subject</field><value><stringValue>Booking {!$Record.Name}</stringValue></value></inputAssignments>
        <inputAssignments><field>StartDateTime</field><value><elementReference>$Record.Start__c</elementReference></value></inputAssignments>
        <inputAssignments><field>DurationInMinutes</field><value><numberValue>30</numberValue></value></inputAssignments>
        <inputAssignments><field>Booking_Uid__c</field><value><elementReference>$Record.Action_Key__c</elementReference></value></inputAssignments>
        <object>Event</object>
    </recordCreates>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>Create_Event</targetReference></connector>
        <filterLogic>and</filterLogic>
        <filters><field>Action__c</field><operator>EqualTo</operator><value><stringValue>Created</stringValue></value></filters>
        <object>Booking_Action__c</object>
        <recordTriggerType>Create</recordTriggerType>
        <triggerType>RecordAfterSave</triggerType>
    </start>
    <status>Active</status>
</Flow>
"""

PERMSET = HEADER + """<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <description>What the engine's integration user needs</description>
    <fieldPermissions><editable>true</editable><field>Booking_Action__c.Action__c</field><readable>true</readable></fieldPermissions>
    <fieldPermissions><editable>true</editable><field>Contact.Meeting_Type__c</field><readable>true</readable></fieldPermissions>
    <hasActivationRequired>false</hasActivationRequired>
    <label>Slotforce Integration</label>
    <objectPermissions>
        <allowCreate>true</allowCreate><allowDelete>false</allowDelete><allowEdit>true</allowEdit><allowRead>true</allowRead>
        <modifyAllRecords>false</modifyAllRecords><object>Booking_Action__c</object><viewAllRecords>false</viewAllRecords>
    </objectPermissions>
</PermissionSet>
"""

LAYOUT = HEADER + """<Layout xmlns="http://soap.sforce.com/2006/04/metadata">
    <layoutSections>
        <editHeading>true</editHeading><label>Information</label><style>TwoColumnsTopToBottom</style>
        <layoutColumns>
            <layoutItems><behavior>Readonly</behavior><field>Name</field></layoutItems>
            <layoutItems><behavior>Edit</behavior><field>Action__c</field></layoutItems>
        </layoutColumns>
    </layoutSections>
</Layout>
"""


def full_package() -> dict[str, str]:
    return {
        "package.xml": package_xml({
            "CustomField": ["Activity.Booking_Uid__c", "Contact.Meeting_Type__c"],
            "CustomObject": ["Booking_Action__c"],
            "Flow": ["Booking_Action_Created"],
            "Layout": ["Booking_Action__c-Booking Action Layout"],
            "PermissionSet": ["Slotforce_Integration"],
        }),
        "objects/Booking_Action__c.object": BOOKING_OBJECT,
        "objects/Contact.object": CONTACT_OBJECT,
        "objects/Activity.object": ACTIVITY_OBJECT,
        "flows/Booking_Action_Created.flow": FLOW,
        "permissionsets/Slotforce_Integration.permissionset": PERMSET,
        "layouts/Booking_Action__c-Booking Action Layout.layout": LAYOUT,
    }
