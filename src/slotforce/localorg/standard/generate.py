"""Regenerate `recorded.json` from recorded describe responses (run once; the output is committed).

Usage: python -m slotforce.localorg.standard.generate [/work/shared/reference/describes]

Input: CumulusCI's VCR cassettes of `GET /sobjects/<Type>/describe` (real Salesforce answers),
recorded in CumulusCI's repository (SOURCES says which file each object comes from; the same
cassettes ship in the cumulusci package, `cumulusci/tests/shared_cassettes/`, which is where this
script reads those not in the reference folder). Output keeps what the local org models — real
names, types, lengths, nillable/createable/updateable/defaultedOnCreate, defaults, referenceTo,
relationshipName, compoundFieldName, picklist values, every child relationship — and drops the
custom fields of the recording org. References to objects the local org does not have, and child
relationships from them, are kept here and left out when the objects are made
(`standard._keep_modeled`), so an object added later finds its recorded names. Compound address
fields are kept (type address, read-only over their components).
"""

from __future__ import annotations

import json
import pathlib
import sys

import yaml

CASSETTES = "https://github.com/SFDO-Tooling/CumulusCI/blob/main/cumulusci/tests/shared_cassettes"
# Each recorded object and the recording it comes from (a real org's describe, CumulusCI's cassette).
SOURCES = {name: f"{CASSETTES}/GET_sobjects_{name}_describe.yaml"
           for name in ("Account", "Contact", "Lead", "Event", "Case", "Opportunity", "OpportunityContactRole")}
RECORDED = list(SOURCES)
# Global describe flags recorded for the standard objects the org models (those the recording lists),
# written to recorded_global.json; createable/updateable/deletable/queryable come from the objects.
GLOBAL_SOURCE = f"{CASSETTES}/GET_sobjects_Global_describe.yaml"
GLOBAL_KEYS = ("activateable", "customSetting", "deepCloneable", "feedEnabled", "hasSubtypes", "isInterface",
               "isSubtype", "layoutable", "mergeable", "mruEnabled", "replicateable", "retrieveable",
               "searchable", "triggerable", "undeletable")
STANDARD = ("Account", "Contact", "Lead", "Event", "Case", "Opportunity", "OpportunityContactRole", "User",
            "Profile", "Organization", "RecordType", "Task", "EventRelation", "PermissionSet",
            "PermissionSetAssignment", "Campaign", "CampaignMember", "Group", "GroupMember", "QueueSobject")
SKIPPED_TYPES = {"base64", "anyType", "complexvalue"}

# describe key -> Field attribute, with the Field default (omitted from the output when equal).
KEYS = {
    "label": ("label", ""), "length": ("length", 0), "precision": ("precision", 0),
    "scale": ("scale", 0), "nillable": ("nillable", True), "createable": ("createable", True),
    "updateable": ("updateable", True), "defaultedOnCreate": ("defaulted_on_create", False),
    "unique": ("unique", False), "externalId": ("external_id", False), "idLookup": ("id_lookup", False),
    "nameField": ("name_field", False), "autoNumber": ("auto_number", False),
    "calculated": ("calculated", False), "caseSensitive": ("case_sensitive", False),
    "defaultValue": ("default_value", None), "relationshipName": ("relationship_name", None),
    "polymorphicForeignKey": ("polymorphic", False), "restrictedPicklist": ("restricted_picklist", False),
    "cascadeDelete": ("cascade_delete", False), "compoundFieldName": ("compound_field_name", None),
    "extraTypeInfo": ("extra_type_info", None),
}


def trim_field(f: dict) -> dict | None:
    if f["custom"] or f["name"].endswith("__c") or f["type"] in SKIPPED_TYPES:
        return None
    out: dict = {"name": f["name"], "type": f["type"]}
    if f["type"] == "reference":
        out["reference_to"] = f["referenceTo"]
    for key, (attr, default) in KEYS.items():
        if f.get(key) != default:
            out[attr] = f[key]
    if f["picklistValues"]:
        out["picklist_values"] = [
            {"value": p["value"], "label": p["label"], "active": p["active"], "default": p["defaultValue"]}
            for p in f["picklistValues"]
        ]
    return out


def _cassette(folder: str, name: str) -> pathlib.Path:
    here = pathlib.Path(folder, f"{name}.yaml")
    if here.exists():
        return here
    import cumulusci

    return pathlib.Path(cumulusci.__file__).parent / "tests" / "shared_cassettes" / f"GET_sobjects_{name}_describe.yaml"


def main(folder: str) -> None:
    objects = []
    for name in RECORDED:
        cassette = yaml.safe_load(_cassette(folder, name).read_text())
        d = json.loads(cassette["response"]["body"]["string"])
        objects.append({
            "name": d["name"], "label": d["label"], "label_plural": d["labelPlural"],
            "key_prefix": d["keyPrefix"], "source": SOURCES[name],
            "fields": [t for t in map(trim_field, d["fields"]) if t],
            "child_relationships": [
                {"child_sobject": c["childSObject"], "field": c["field"],
                 "relationship_name": c["relationshipName"], "cascade_delete": c["cascadeDelete"]}
                for c in d["childRelationships"]
            ],
        })
    out = pathlib.Path(__file__).with_name("recorded.json")
    out.write_text(json.dumps(objects, indent=1, sort_keys=False) + "\n")
    cassette = yaml.safe_load(_cassette(folder, "Global").read_text())
    listed = {s["name"]: s for s in json.loads(cassette["response"]["body"]["string"])["sobjects"]}
    flags = {name: {k: listed[name][k] for k in GLOBAL_KEYS} for name in STANDARD if name in listed}
    pathlib.Path(__file__).with_name("recorded_global.json").write_text(
        json.dumps({"source": GLOBAL_SOURCE, "sobjects": flags}, indent=1) + "\n")
    print(f"wrote {out} ({sum(len(o['fields']) for o in objects)} fields)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/describes")
