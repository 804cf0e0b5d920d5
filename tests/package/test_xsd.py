"""The XSD from simple-salesforce's WSDL: order comes from it, and it rejects what Salesforce would."""

from slotforce.package.writer import to_schema_order
from slotforce.package.xsd import metadata_schema, validate_text

FIELD = """<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Bad__c</fullName>
    <label>Bad</label>
    <type>{type}</type>
</CustomField>
"""


def test_child_order_is_read_from_the_xsd_with_base_type_first():
    names = [c.name for c in metadata_schema().children("CustomField")]
    assert names[0] == "fullName"  # from the Metadata base type
    assert names.index("label") < names.index("length") < names.index("type") < names.index("valueSet")
    perm = [c.name for c in metadata_schema().children("PermissionSetObjectPermissions")]
    assert perm == ["allowCreate", "allowDelete", "allowEdit", "allowRead", "modifyAllRecords", "object",
                    "viewAllFields", "viewAllRecords"]


def test_unknown_enum_value_names_file_line_element_and_rule():
    problems = validate_text(FIELD.format(type="Strng"), "objects/X__c/fields/Bad__c.field-meta.xml")
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.line, p.element) == ("objects/X__c/fields/Bad__c.field-meta.xml", 5, "type")
    assert "Strng" in p.message and "enumeration" in p.message
    assert str(p).startswith("objects/X__c/fields/Bad__c.field-meta.xml:5: <type>:")


def test_out_of_order_children_are_rejected_and_sorting_fixes_them():
    swapped = FIELD.format(type="Text").replace(
        "<fullName>Bad__c</fullName>\n    <label>Bad</label>", "<label>Bad</label>\n    <fullName>Bad__c</fullName>")
    assert validate_text(swapped, "f.xml")
    fixed = to_schema_order(swapped)
    assert validate_text(fixed, "f.xml") == []
    assert fixed.index("<fullName>") < fixed.index("<label>")


def test_unknown_element_and_non_metadata_root_are_problems():
    bogus = FIELD.format(type="Text").replace("<label>Bad</label>", "<label>Bad</label><bogus>1</bogus>")
    assert any(p.element == "bogus" for p in validate_text(bogus, "f.xml"))
    assert "not a Metadata API type" in validate_text(
        '<Nope xmlns="http://soap.sforce.com/2006/04/metadata"/>', "n.xml")[0].message
    assert "not well-formed" in validate_text("<CustomField>", "broken.xml")[0].message
