"""Describe results (global and per object) shaped like the recorded Salesforce responses."""

from __future__ import annotations

from slotforce.localorg.schema import Field, SObject
from slotforce.localorg.values import ID_TYPES, TEXT_TYPES

MASTER_RECORD_TYPE_ID = "012000000000000AAA"

_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
    "datetime": "xsd:dateTime", "time": "xsd:time", "address": "urn:address", "location": "urn:location",
}
_HAS_LENGTH = TEXT_TYPES | ID_TYPES  # describe gives these a length; other types answer 0


def _urls(sobject: SObject, version: str) -> dict:
    base = f"/services/data/v{version}/sobjects/{sobject.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "listviews": f"{base}/listviews",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def global_entry(sobject: SObject, version: str) -> dict:
    """One item of `GET /sobjects` (keys as in the recorded global describe)."""
    entry = {
        "activateable": False, "associateEntityType": None, "associateParentEntity": None,
        "createable": sobject.createable, "custom": sobject.custom, "customSetting": sobject.custom_setting is not None,
        "deepCloneable": False, "deletable": sobject.deletable, "deprecatedAndHidden": False,
        "feedEnabled": not sobject.custom, "hasSubtypes": False, "isInterface": False, "isSubtype": False,
        "keyPrefix": sobject.key_prefix, "label": sobject.label, "labelPlural": sobject.label_plural,
        "layoutable": True, "mergeable": sobject.name in ("Account", "Contact", "Lead"), "mruEnabled": True,
        "name": sobject.name, "queryable": sobject.queryable, "replicateable": True, "retrieveable": True,
        "searchable": True, "triggerable": True, "undeletable": sobject.deletable,
        "updateable": sobject.updateable, "urls": _urls(sobject, version),
    }
    entry.update(sobject.global_flags)  # what a real org's global describe says of a standard object
    return entry


def global_describe(sobjects: list[SObject], version: str) -> dict:
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [global_entry(s, version) for s in sorted(sobjects, key=lambda s: s.name.lower())]}


def field_describe(f: Field) -> dict:
    long_text = f.type == "textarea" and f.length > 255
    length = f.length if f.type in _HAS_LENGTH else 0
    default = f.default_value
    compound = not f.stored  # BillingAddress: filterable (DISTANCE), never sorted, grouped or summed
    return {
        "aggregatable": not long_text and not compound and f.type != "boolean", "aiPredictionField": False,
        "autoNumber": f.auto_number, "byteLength": length * 3 if f.type not in ("id", "reference") else length,
        "calculated": f.calculated, "calculatedFormula": f.formula, "cascadeDelete": f.cascade_delete,
        "caseSensitive": f.case_sensitive, "compoundFieldName": f.compound_field_name, "controllerName": None,
        "createable": f.createable, "custom": f.custom, "defaultValue": default, "defaultValueFormula": None,
        "defaultedOnCreate": f.defaulted_on_create, "dependentPicklist": False, "deprecatedAndHidden": False,
        "digits": (f.precision or 9) if f.type == "int" else 0, "displayLocationInDecimal": False,
        "encrypted": False, "externalId": f.external_id, "extraTypeInfo": f.extra_type_info,
        "filterable": not long_text, "filteredLookupInfo": None, "formulaTreatNullNumberAsZero": False,
        "groupable": not long_text and not compound and f.type not in ("double", "currency", "percent", "datetime"),
        "highScaleNumber": False, "htmlFormatted": False, "idLookup": f.id_lookup or f.name == "Id",
        "inlineHelpText": None, "label": f.label or f.name, "length": length, "mask": None, "maskType": None,
        "name": f.name, "nameField": f.name_field, "namePointing": f.polymorphic and f.type == "reference",
        "nillable": f.nillable, "permissionable": f.nillable and f.custom,
        "picklistValues": [{"active": p.active, "defaultValue": p.default, "label": p.label, "validFor": None,
                            "value": p.value} for p in f.picklist_values],
        "polymorphicForeignKey": f.polymorphic, "precision": f.precision if f.type != "int" else 0,
        "queryByDistance": False, "referenceTargetField": None, "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name, "relationshipOrder": None, "restrictedDelete": False,
        "restrictedPicklist": f.restricted_picklist, "scale": f.scale, "searchPrefilterable": f.type == "reference",
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"), "sortable": not long_text and not compound, "type": f.type,
        "unique": f.unique, "updateable": f.updateable, "writeRequiresMasterRead": False,
    }


def sobject_describe(sobject: SObject, version: str, record_types: list[dict] | None = None) -> dict:
    """`GET /sobjects/<Type>/describe`. `record_types`: rows of RecordType for this object."""
    infos = []
    rts = record_types or []
    for rt in rts:
        infos.append({"active": bool(rt["IsActive"]), "available": True, "defaultRecordTypeMapping": False,
                      "developerName": rt["DeveloperName"], "master": False, "name": rt["Name"],
                      "recordTypeId": rt["Id"],
                      "urls": {"layout": f"/services/data/v{version}/sobjects/{sobject.name}/describe/layouts/"
                                         f"{rt['Id']}"}})
    if infos:
        infos[0]["defaultRecordTypeMapping"] = True
    infos.append({"active": True, "available": True, "defaultRecordTypeMapping": not rts,
                  "developerName": "Master", "master": True, "name": "Master",
                  "recordTypeId": MASTER_RECORD_TYPE_ID,
                  "urls": {"layout": f"/services/data/v{version}/sobjects/{sobject.name}/describe/layouts/"
                                     f"{MASTER_RECORD_TYPE_ID}"}})
    out = global_entry(sobject, version)
    out.update({
        "actionOverrides": [],
        "childRelationships": [
            {"cascadeDelete": c.cascade_delete, "childSObject": c.child_sobject, "deprecatedAndHidden": False,
             "field": c.field, "junctionIdListNames": [], "junctionReferenceTo": [],
             "relationshipName": c.relationship_name, "restrictedDelete": False}
            for c in sobject.child_relationships
        ],
        "compactLayoutable": True, "defaultImplementation": None, "extendedBy": None,
        "extendsInterfaces": None, "fields": [field_describe(f) for f in sobject.fields.values()],
        "implementedBy": None, "implementsInterfaces": None, "listviewable": None, "lookupLayoutable": None,
        "namedLayoutInfos": [], "networkScopeFieldName": None, "recordTypeInfos": infos,
        "searchLayoutable": True, "sobjectDescribeOption": "FULL", "supportedScopes": [],
    })
    return dict(sorted(out.items()))
