"""Tooling API views answered from what is deployed: FlowDefinitionView, FlowVersionView, EntityDefinition, FieldDefinition.

Each query builds the views' rows from the org's schema and flow registry into a throwaway SQLite
database and runs the SOQL through the same compiler as data queries, so filters, ORDER BY, LIMIT,
COUNT() and the parent relationships (FieldDefinition.EntityDefinition, FlowVersionView.FlowDefinitionView)
behave as elsewhere; a field these views do not carry is INVALID_FIELD, never a guess. Ids: key
prefix 300 for flow definitions, 301 for flow versions, 01I for entity definitions; FieldDefinition's
DurableId is `Object.Field`.
"""

from __future__ import annotations

from slotforce.localorg import store
from slotforce.localorg.flows.registry import FlowRegistry
from slotforce.localorg.schema import Field, Schema, SObject
from slotforce.localorg.soql import execute_query

VIEWS = ("FlowDefinitionView", "FlowVersionView", "EntityDefinition", "FieldDefinition")


def _text(name: str, length: int = 255) -> Field:
    return Field(name, "string", name, length=length)


def _view(name: str, prefix: str, fields: list[Field]) -> SObject:
    s = SObject(name, name, name, prefix, createable=False, updateable=False, deletable=False)
    for f in [Field("Id", "id", "Id"), *fields]:
        s.add_field(f)
    return s


def _ref(name: str, target: str, relationship: str) -> Field:
    return Field(name, "reference", name, length=18, reference_to=[target], relationship_name=relationship)


def view_schema() -> Schema:
    flag = lambda n: Field(n, "boolean", n)  # noqa: E731 - a table of fields reads best this way
    return Schema([
        _view("FlowDefinitionView", "300", [
            _text("DurableId"), _text("ApiName"), _text("Label"), _text("Description", 4000), _text("ProcessType"),
            _text("TriggerType"), _text("RecordTriggerType"), _text("TriggerObjectOrEventId"),
            Field("TriggerOrder", "int", "TriggerOrder"), _text("ActiveVersionId", 18), _text("LatestVersionId", 18),
            flag("IsActive"), flag("IsTemplate"), flag("IsOutOfDate"), _text("NamespacePrefix"),
            _text("ManageableState"), _text("InstalledPackageName")]),
        _view("FlowVersionView", "301", [
            _text("DurableId"), _ref("FlowDefinitionViewId", "FlowDefinitionView", "FlowDefinitionView"),
            _text("ApiName"), _text("Label"), _text("Description", 4000), Field("VersionNumber", "int", "VersionNumber"),
            _text("Status"), _text("ProcessType"), _text("RunInMode"), Field("ApiVersion", "double", "ApiVersion",
                                                                               precision=4, scale=1)]),
        _view("EntityDefinition", "01I", [
            _text("DurableId"), _text("QualifiedApiName"), _text("DeveloperName"), _text("Label"),
            _text("PluralLabel"), _text("MasterLabel"), _text("KeyPrefix", 3), _text("NamespacePrefix"),
            flag("IsCustomizable"), flag("IsQueryable"), flag("IsCustomSetting"), flag("IsApexTriggerable"),
            flag("IsLayoutable"), flag("IsDeprecatedAndHidden")]),
        _view("FieldDefinition", "00N", [
            _text("DurableId"), _text("QualifiedApiName"), _text("DeveloperName"), _text("Label"), _text("MasterLabel"),
            _text("DataType"), _text("ValueTypeId"), _ref("EntityDefinitionId", "EntityDefinition", "EntityDefinition"),
            _text("NamespacePrefix"), Field("Length", "int", "Length"), Field("Precision", "int", "Precision"),
            Field("Scale", "int", "Scale"), flag("IsNillable"), flag("IsIndexed"), flag("IsCalculated"),
            flag("IsNameField"), flag("IsFieldHistoryTracked"), _text("RelationshipName"), _text("Description", 4000)]),
    ])


def data_type(f: Field) -> str:
    """FieldDefinition.DataType as Setup shows it ("Text(255)", "Lookup(Account)", "Number(18, 0)")."""
    if f.auto_number:
        return "Auto Number"
    if f.type == "reference":
        return f"Lookup({','.join(f.reference_to)})"
    if f.type in ("double", "currency", "percent", "int"):
        word = {"currency": "Currency", "percent": "Percent"}.get(f.type, "Number")
        return f"{word}({f.precision or 18}, {f.scale})"
    if f.type == "string":
        return f"Text({f.length})"
    if f.type == "textarea":
        return f"Long Text Area({f.length})" if f.length > 255 else "Text Area(255)"
    return {"id": "Lookup()", "boolean": "Checkbox", "date": "Date", "datetime": "Date/Time", "time": "Time",
            "email": "Email", "phone": "Phone", "url": "URL(255)", "picklist": "Picklist",
            "multipicklist": "Picklist (Multi-Select)", "address": "Address",
            "location": "Geolocation"}.get(f.type, f.type)


def _flow_rows(registry: FlowRegistry) -> tuple[list[dict], list[dict]]:
    definitions, versions = [], []
    for n, d in enumerate(sorted(registry, key=lambda d: d.name.lower()), start=1):
        def_id = store.make_id("300", n)
        version_ids = [store.make_id("301", n * 1000 + i) for i in range(1, len(d.versions) + 1)]
        latest, active = d.latest, d.active
        start = latest.start if latest else None
        definitions.append({
            "Id": def_id, "DurableId": def_id, "ApiName": d.name, "Label": latest.label if latest else d.name,
            "ProcessType": latest.process_type if latest else None,
            "TriggerType": start.trigger_type if start else None,
            "RecordTriggerType": start.record_trigger_type if start else None,
            "TriggerObjectOrEventId": start.object if start else None,  # an EntityDefinition DurableId
            "TriggerOrder": latest.trigger_order if latest else None,
            "ActiveVersionId": version_ids[d.active_version - 1] if d.active_version else None,
            "LatestVersionId": version_ids[-1] if version_ids else None, "IsActive": active is not None,
            "IsTemplate": False, "IsOutOfDate": bool(active and latest and active is not latest),
            "ManageableState": "unmanaged"})
        for number, (vid, flow) in enumerate(zip(version_ids, d.versions), start=1):
            status = "Active" if d.active_version == number else ("Obsolete" if d.active_version else flow.status)
            versions.append({"Id": vid, "DurableId": vid, "FlowDefinitionViewId": def_id, "ApiName": d.name,
                             "Label": flow.label, "VersionNumber": number, "Status": status,
                             "ProcessType": flow.process_type, "RunInMode": "DefaultMode",
                             "ApiVersion": float(flow.api_version) if flow.api_version else None})
    return definitions, versions


def _schema_rows(schema: Schema) -> tuple[list[dict], list[dict]]:
    entities, fields = [], []
    for n, s in enumerate(sorted(schema, key=lambda s: s.name.lower()), start=1):
        eid = store.make_id("01I", n)
        entities.append({"Id": eid, "DurableId": s.name, "QualifiedApiName": s.name,
                         "DeveloperName": s.name.removesuffix("__c"), "Label": s.label, "PluralLabel": s.label_plural,
                         "MasterLabel": s.label, "KeyPrefix": s.key_prefix, "IsCustomizable": True,
                         "IsQueryable": s.queryable, "IsCustomSetting": False, "IsApexTriggerable": True,
                         "IsLayoutable": True, "IsDeprecatedAndHidden": False})
        for m, f in enumerate(s.fields.values(), start=1):
            fields.append({"Id": store.make_id("00N", n * 10000 + m), "DurableId": f"{s.name}.{f.name}",
                           "QualifiedApiName": f.name, "DeveloperName": f.name.removesuffix("__c"), "Label": f.label,
                           "MasterLabel": f.label, "DataType": data_type(f), "ValueTypeId": f.type,
                           "EntityDefinitionId": eid, "Length": f.length, "Precision": f.precision,
                           "Scale": f.scale, "IsNillable": f.nillable, "IsIndexed": f.unique or f.external_id or
                           f.name == "Id", "IsCalculated": f.calculated, "IsNameField": f.name_field,
                           "IsFieldHistoryTracked": False, "RelationshipName": f.relationship_name,
                           "Description": f.description or None})
    return entities, fields


def query_view(schema: Schema, registry: FlowRegistry, soql: str, api_version: str = "62.0"):
    """Run a Tooling query on one of VIEWS: a soql QueryResult."""
    views = view_schema()
    conn = store.connect()
    try:
        definitions, versions = _flow_rows(registry)
        entities, fields = _schema_rows(schema)
        for name, rows in (("FlowDefinitionView", definitions), ("FlowVersionView", versions),
                           ("EntityDefinition", entities), ("FieldDefinition", fields)):
            view = views.get(name)
            store.create_table(conn, view)
            columns = [f.column for f in view.fields.values()]
            conn.executemany(f"INSERT INTO {store.quote(view.table)} ({', '.join(map(store.quote, columns))}) "
                             f"VALUES ({', '.join('?' for _ in columns)})",
                             [[_stored(row.get(f.name)) for f in view.fields.values()] for row in rows])
        result = execute_query(conn, views, soql, api_version=api_version)
    finally:
        conn.close()


    _tooling_urls(result.records)
    return result


def _tooling_urls(rows: list) -> None:
    """Tooling records point at /tooling/sobjects/..., parents and subqueries included."""
    for row in rows:
        if not isinstance(row, dict):
            continue
        attrs = row.get("attributes")
        if isinstance(attrs, dict) and attrs.get("url"):
            attrs["url"] = attrs["url"].replace("/sobjects/", "/tooling/sobjects/", 1)
        for value in row.values():
            if isinstance(value, dict) and value is not attrs:
                _tooling_urls([value])


def _stored(value):
    return int(value) if isinstance(value, bool) else value
