"""The rendered SFDX source: layout, XML shape, schema order, validity."""

import pytest
from lxml import etree

from slotforce.package import render
from slotforce.package.definition import slotforce_package
from slotforce.package.writer import to_schema_order
from slotforce.package.xsd import validate_text

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
ROOT = "main/default"


@pytest.fixture(scope="module")
def files():
    return render(slotforce_package())


def xml(files, path):
    return etree.fromstring(files[f"{ROOT}/{path}"].encode())


def test_sfdx_layout(files):
    assert f"{ROOT}/objects/Booking_Action__c/Booking_Action__c.object-meta.xml" in files
    assert f"{ROOT}/objects/Scheduling_Link__c/Scheduling_Link__c.object-meta.xml" in files
    assert f"{ROOT}/objects/Activity/fields/Booking_Uid__c.field-meta.xml" in files
    assert f"{ROOT}/permissionsets/Slotforce_Integration.permissionset-meta.xml" in files
    # standard objects only get their fields folder
    for std in ("Activity", "Lead", "Contact", "User"):
        assert f"{ROOT}/objects/{std}/{std}.object-meta.xml" not in files
    assert len(files) == 2 + 33 + 7 + 10 + 6 + 7 + 1 + 3 + 4


def test_every_file_is_valid_in_schema_order_with_salesforce_formatting(files):
    for path, text in files.items():
        assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<'), path
        assert text.endswith(">\n") and not text.endswith("\n\n"), path
        assert "\n    <" in text and "\t" not in text, path
        assert validate_text(text, path) == [], path
        assert to_schema_order(text) == text, path  # already in XSD order


def test_field_details(files):
    status = xml(files, "objects/Booking_Action__c/fields/Status__c.field-meta.xml")
    values = status.findall("m:valueSet/m:valueSetDefinition/m:value", NS)
    assert [(v.findtext("m:fullName", namespaces=NS), v.findtext("m:default", namespaces=NS)) for v in values][0] == (
        "Pending", "true")
    assert status.findtext("m:valueSet/m:restricted", namespaces=NS) == "true"
    assert status.findtext("m:valueSet/m:valueSetDefinition/m:sorted", namespaces=NS) == "false"
    key = xml(files, "objects/Booking_Action__c/fields/Action_Key__c.field-meta.xml")
    assert [key.findtext(f"m:{n}", namespaces=NS) for n in ("externalId", "unique", "length")] == ["true", "true", "255"]
    user = xml(files, "objects/Scheduling_Link__c/fields/User__c.field-meta.xml")
    assert [user.findtext(f"m:{n}", namespaces=NS) for n in ("referenceTo", "relationshipName", "deleteConstraint")] == [
        "User", "Scheduling_Links", "SetNull"]
    checkbox = xml(files, "objects/Lead/fields/No_Show__c.field-meta.xml")
    assert checkbox.findtext("m:defaultValue", namespaces=NS) == "false"
    obj = xml(files, "objects/Booking_Action__c/Booking_Action__c.object-meta.xml")
    assert obj.findtext("m:nameField/m:type", namespaces=NS) == "AutoNumber"
    assert obj.findtext("m:nameField/m:displayFormat", namespaces=NS) == "BA-{00000000}"
    assert obj.findtext("m:deploymentStatus", namespaces=NS) == "Deployed"
    assert obj.findtext("m:sharingModel", namespaces=NS) == "ReadWrite"


def test_text_is_escaped(files):
    # descriptions with apostrophes/ampersands survive as XML text
    desc = xml(files, "objects/Activity/fields/Booking_Uid__c.field-meta.xml").findtext("m:description", namespaces=NS)
    assert desc.startswith("The booking's stable id")
