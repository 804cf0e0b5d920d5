"""Formula fields deployed with an object: values on REST retrieve, in SOQL (select, filter, order) and in flows."""

from __future__ import annotations

import time

import pytest
from mdkit import make_zip, package_xml

from slotforce.localorg.server import LocalOrg
from slotforce.package.writer import to_schema_order
from slotforce.package.xsd import validate_text

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def text_field(name: str) -> str:
    return f"""    <fields>
        <fullName>{name}</fullName>
        <externalId>false</externalId>
        <label>{name[:-3]}</label>
        <length>80</length>
        <required>false</required>
        <type>Text</type>
        <unique>false</unique>
    </fields>
"""


def number_field(name: str) -> str:
    return f"""    <fields>
        <fullName>{name}</fullName>
        <externalId>false</externalId>
        <label>{name[:-3]}</label>
        <precision>10</precision>
        <required>false</required>
        <scale>2</scale>
        <type>Number</type>
        <unique>false</unique>
    </fields>
"""


def formula_field(name: str, ftype: str, expression: str, extra: str = "") -> str:
    return f"""    <fields>
        <fullName>{name}</fullName>
        <externalId>false</externalId>
        <formula>{expression}</formula>
        {extra}<label>{name[:-3]}</label>
        <required>false</required>
        <type>{ftype}</type>
        <unique>false</unique>
    </fields>
"""


def order_object(*formulas: str) -> str:
    return to_schema_order(HEADER + f"""<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
{text_field("Customer__c")}{number_field("Price__c")}{number_field("Quantity__c")}{''.join(formulas)}    <label>Order Line</label>
    <nameField><label>Line Name</label><type>Text</type></nameField>
    <pluralLabel>Order Lines</pluralLabel>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
""")


TOTAL = formula_field("Total__c", "Number", "Price__c * Quantity__c", "<formulaTreatBlanksAs>BlankAsZero</formulaTreatBlanksAs>\n        <precision>12</precision>\n        <scale>2</scale>\n        ")
BIG = formula_field("Is_Big__c", "Checkbox", "Total__c &gt;= 100", "<formulaTreatBlanksAs>BlankAsZero</formulaTreatBlanksAs>\n        ")
LABEL = formula_field("Label__c", "Text", "UPPER(Customer__c) &amp; ' x' &amp; TEXT(Quantity__c)",
                      "<formulaTreatBlanksAs>BlankAsBlank</formulaTreatBlanksAs>\n        ")


def files(obj: str) -> dict[str, str]:
    return {"objects/Order_Line__c.object": obj, "package.xml": package_xml({"CustomObject": ["Order_Line__c"]})}


@pytest.fixture(scope="module")
def server():
    with LocalOrg() as lo:
        yield lo


@pytest.fixture
def sf(server, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.combined_ca_bundle)
    return server.client()


def https_deploy(sf, files_: dict[str, str], tmp_path) -> dict:
    path = tmp_path / "pkg.zip"
    path.write_bytes(make_zip(files_))
    result = sf.deploy(str(path), sandbox=False, checkOnly=False, singlePackage=True)
    for _ in range(100):
        status = sf.checkDeployStatus(result["asyncId"])
        if status.get("state") in ("Succeeded", "Failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(status)


def test_the_object_is_valid_against_the_xsd():
    assert [str(p) for p in validate_text(order_object(TOTAL, BIG, LABEL), "objects/Order_Line__c.object")] == []


def test_formula_values_on_retrieve_in_soql_and_after_a_redeploy(server, sf, tmp_path):
    assert https_deploy(sf, files(order_object()), tmp_path)["state"] == "Succeeded"
    before = sf.Order_Line__c.create({"Name": "old", "Customer__c": "acme", "Price__c": 50, "Quantity__c": 3})["id"]
    status = https_deploy(sf, files(order_object(TOTAL, BIG, LABEL)), tmp_path)
    assert status["state"] == "Succeeded", status
    # A record saved before the formulas were deployed has their values too.
    old = sf.Order_Line__c.get(before)
    assert (old["Total__c"], old["Is_Big__c"], old["Label__c"]) == (150, True, "ACME x3")
    rid = sf.Order_Line__c.create({"Name": "new", "Customer__c": "bolt", "Price__c": 9.5})["id"]
    new = sf.Order_Line__c.get(rid)
    assert (new["Total__c"], new["Is_Big__c"], new["Label__c"]) == (0, False, "BOLT x")  # a blank number as zero
    sf.Order_Line__c.update(rid, {"Quantity__c": 20})
    rows = sf.query("SELECT Name, Total__c, Is_Big__c FROM Order_Line__c WHERE Is_Big__c = true ORDER BY Total__c")
    assert [(r["Name"], r["Total__c"]) for r in rows["records"]] == [("old", 150), ("new", 190)]
    field = next(f for f in sf.Order_Line__c.describe()["fields"] if f["name"] == "Total__c")
    assert (field["calculated"], field["calculatedFormula"], field["createable"]) == (True, "Price__c * Quantity__c",
                                                                                      False)
    with pytest.raises(Exception) as exc:
        sf.Order_Line__c.update(rid, {"Total__c": 1})
    assert "INVALID_FIELD_FOR_INSERT_UPDATE" in str(exc.value)


@pytest.mark.parametrize("expression, message", [
    ("IF(TODAY() &gt; DATE(2026,1,1), 1, 0)", "the function TODAY() is not supported in formula fields"),
    ("Owner.Name", "Owner.Name: fields of other records are not supported in formula fields"),
    ("Nope__c + 1", "Field Nope__c does not exist"),
    ("GEOLOCATION(1, 2)", "function GEOLOCATION() is not supported by the local org's formula subset"),
])
def test_formulas_the_org_cannot_compute_are_refused_naming_the_function_and_line(server, expression, message):
    obj = order_object(formula_field("Bad__c", "Number", expression, "<precision>10</precision>\n        "))
    result = server.org.metadata.deploy(make_zip(files(obj)), {})
    [failure] = [c for c in result.components if not c.success]
    assert failure.full_name == "Order_Line__c.Bad__c" and message in failure.problem, failure.problem
    assert "<formula>" in obj.splitlines()[failure.line - 1]


NAME_BIG = HEADER + """<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <decisions>
        <name>Is_Big</name>
        <label>Is Big</label><locationX>0</locationX><locationY>0</locationY>
        <defaultConnectorLabel>Default Outcome</defaultConnectorLabel>
        <rules>
            <name>Big</name>
            <conditionLogic>and</conditionLogic>
            <conditions><leftValueReference>$Record.Is_Big__c</leftValueReference><operator>EqualTo</operator><rightValue><booleanValue>true</booleanValue></rightValue></conditions>
            <connector><targetReference>Rename</targetReference></connector>
            <label>Big</label>
        </rules>
    </decisions>
    <label>Name Big Lines</label>
    <processType>AutoLaunchedFlow</processType>
    <recordUpdates>
        <name>Rename</name>
        <label>Rename</label><locationX>0</locationX><locationY>0</locationY>
        <inputAssignments><field>Name</field><value><stringValue>big {!$Record.Total__c}</stringValue></value></inputAssignments>
        <inputReference>$Record</inputReference>
    </recordUpdates>
    <start>
        <locationX>0</locationX><locationY>0</locationY>
        <connector><targetReference>Is_Big</targetReference></connector>
        <object>Order_Line__c</object>
        <recordTriggerType>Create</recordTriggerType>
        <triggerType>RecordAfterSave</triggerType>
    </start>
    <status>Active</status>
</Flow>
"""


def test_flows_read_formula_fields_of_the_saved_record(server, sf, tmp_path):
    assert [str(p) for p in validate_text(NAME_BIG, "flows/Name_Big.flow")] == []
    pkg = {"objects/Order_Line__c.object": order_object(TOTAL, BIG, LABEL), "flows/Name_Big.flow": NAME_BIG,
           "package.xml": package_xml({"CustomObject": ["Order_Line__c"], "Flow": ["Name_Big"]})}
    assert https_deploy(sf, pkg, tmp_path)["state"] == "Succeeded"
    big = sf.Order_Line__c.create({"Name": "b", "Price__c": 25, "Quantity__c": 4})["id"]
    small = sf.Order_Line__c.create({"Name": "s", "Price__c": 25, "Quantity__c": 1})["id"]
    assert sf.Order_Line__c.get(big)["Name"] == "big 100" and sf.Order_Line__c.get(small)["Name"] == "s"


AUTO_NUMBER = """    <fields>
        <fullName>Line_Number__c</fullName>
        <displayFormat>L-{0000}</displayFormat>
        <externalId>false</externalId>
        <label>Line Number</label>
        <type>AutoNumber</type>
    </fields>
"""


def test_an_auto_number_field_deployed_beside_other_fields_numbers_new_records(server, sf, tmp_path):
    # The deploy applies formula fields after every field; an auto-number field's format must not be lost then.
    status = https_deploy(sf, files(order_object(AUTO_NUMBER, TOTAL)), tmp_path)
    assert status["state"] == "Succeeded", status
    ids = [sf.Order_Line__c.create({"Name": f"n{i}", "Price__c": 1})["id"] for i in range(2)]
    numbers = [sf.Order_Line__c.get(i)["Line_Number__c"] for i in ids]
    assert numbers[0].startswith("L-") and len(numbers[0]) == 6, numbers
    assert int(numbers[1][2:]) == int(numbers[0][2:]) + 1
