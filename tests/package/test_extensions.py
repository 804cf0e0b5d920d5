"""Admin extensions: extra fields from YAML, and errors that name the file and the key path."""

from pathlib import Path

import pytest

from slotforce.package import DefinitionError, build
from slotforce.package.definition import slotforce_package

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, text):
    path = tmp_path / "extensions.yml"
    path.write_text(text)
    return path


def test_example_file_adds_contact_fields_with_permissions(tmp_path):
    package = slotforce_package(REPO / "extensions.example.yml")
    contact = package.object("Contact")
    assert {f.api_name: f.type for f in contact.fields}["Last_Booking_Status__c"] == "Text"
    assert {f.api_name: f.type for f in contact.fields}["Last_Cancel_Date__c"] == "Date"
    for ps in package.permission_sets:
        assert "Contact.Last_Cancel_Date__c" in {p.field for p in ps.field_permissions}
    report = build(tmp_path / "fa", REPO / "extensions.example.yml")
    assert (tmp_path / "fa/main/default/objects/Contact/fields/Last_Cancel_Date__c.field-meta.xml").is_file()
    assert len(report.files) == 75


def test_new_standard_object_and_picklist(tmp_path):
    path = write(tmp_path, """
objects:
  Account:
    fields:
      - {api_name: Tier__c, type: Picklist, label: Tier, description: Sales tier, values: [Gold, Silver]}
""")
    package = slotforce_package(path)
    assert [v.full_name for v in package.object("Account").field("Tier__c").values] == ["Gold", "Silver"]


BAD = [
    ("objects: [", "not valid YAML: line"),
    ("fields: []", "expected a mapping with one key, `objects`"),
    ("objects:\n  Contact: {fields: {}}", "objects.Contact: expected `fields:`"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: X__c, type: Strng, label: X, description: d}",
     "objects.Contact.fields[0].type: unknown field type 'Strng'"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: X__c, type: Picklist, label: X, description: d, values: []}",
     "objects.Contact.fields[0]: a Picklist needs at least one value"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: X__c, type: Picklist, label: X, description: d}",
     "objects.Contact.fields[0].values: Field required"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: Meeting_Type__c, type: Text, length: 5, label: X, description: d}",
     "objects.Contact.fields[0].api_name: duplicate API name Meeting_Type__c"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: Plain, type: Text, length: 5, label: X, description: d}",
     "objects.Contact.fields[0].api_name: field API name 'Plain' must end in __c"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: X__c, type: Text, length: 300, label: X, description: d}",
     "objects.Contact.fields[0].length: Input should be less than or equal to 255"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: X__c, type: LongTextArea, length: 10, label: X, description: d}",
     "objects.Contact.fields[0].length: Input should be greater than or equal to 256"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: X__c, type: Date, label: X, description: d, colour: red}",
     "objects.Contact.fields[0].colour: unknown key for a Date field"),
    ("objects:\n  Event:\n    fields: []", "objects.Event: 'Event' is not a standard object this package can extend"),
    ("objects:\n  Other__c:\n    fields: []", "objects.Other__c: Other__c is not an object of this package"),
    ("objects:\n  Contact:\n    fields:\n      - {api_name: A__c, type: Date, label: X, description: d}\n"
     "      - {api_name: a__c, type: Date, label: X, description: d}",
     "objects.Contact.fields[1].api_name: duplicate API name a__c"),
]


@pytest.mark.parametrize("text, message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_extensions_name_file_and_key_path_and_write_nothing(tmp_path, text, message):
    path = write(tmp_path, text)
    out = tmp_path / "fa"
    with pytest.raises(DefinitionError) as caught:
        build(out, path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert not out.exists()


def test_lookup_to_an_unknown_custom_object_names_the_file(tmp_path):
    path = write(tmp_path, "objects:\n  Contact:\n    fields:\n      - {api_name: Thing__c, type: Lookup, label: T, "
                           "description: d, reference_to: Thing__c, relationship_name: Things}\n")
    with pytest.raises(DefinitionError, match=r"extensions.yml: Contact.Thing__c looks up Thing__c, which is not"):
        slotforce_package(path)
