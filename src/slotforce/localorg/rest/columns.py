"""`GET query?q=...&columns=true`: a query's column metadata (what `sf data query` asks before printing a table).

The answer names each selected column (`columnName`, `displayName`, `joinColumns` for a parent
path like Owner.Name) without running the query. Aggregate and subquery columns are flagged, not
described further: the CLI only lays out its table from these.
"""

from __future__ import annotations

from slotforce.localorg import errors
from slotforce.localorg.soql import nodes, parse

_NUMBER = {"int", "double", "currency", "percent"}
_TEXT = {"string", "textarea", "email", "url", "phone", "picklist", "multipicklist", "id", "reference"}


def column_metadata(schema, soql: str) -> dict:
    query = parse(soql)
    sobject = schema.get(query.sobject)
    if sobject is None:
        raise errors.InvalidType(f"sObject type '{query.sobject}' is not supported.")
    columns = []
    for item in query.select:
        if isinstance(item, nodes.SelectField):
            columns.append(_column(schema, sobject, item.field.path))
        elif isinstance(item, nodes.SelectFunction):
            name = item.alias or item.function.name
            columns.append({**_flags(None), "aggregate": True, "columnName": name, "displayName": name})
        elif isinstance(item, nodes.SelectSubquery):
            name = item.query.sobject
            columns.append({**_flags(None), "columnName": name, "displayName": name})
    return {"columnMetadata": columns, "entityName": sobject.name, "groupBy": bool(query.group_by),
            "idSelected": any(c["columnName"].lower() == "id" for c in columns), "keyPrefix": sobject.key_prefix}


def _column(schema, sobject, path: tuple[str, ...]) -> dict:
    head = path[0]
    if len(path) == 1:
        field = sobject.field(head)
        name = field.name if field else head
        return {**_flags(field), "columnName": name, "displayName": name}
    # a parent path: the relationship, with the rest of the path as its join column
    ref = next((f for f in sobject.fields.values() if (f.relationship_name or "").lower() == head.lower()), None)
    parent = schema.get(ref.reference_to[0]) if ref and ref.reference_to else None
    relationship = ref.relationship_name if ref else head
    joined = [_column(schema, parent, path[1:])] if parent else []
    return {**_flags(None), "columnName": relationship, "displayName": relationship,
            "foreignKeyName": ref.name if ref else None, "joinColumns": joined}


def _flags(field) -> dict:
    kind = field.type if field else ""
    return {"aggregate": False, "apexType": None, "booleanType": kind == "boolean",
            "custom": bool(field and field.custom), "foreignKeyName": None, "insertable": False,
            "joinColumns": [], "numberType": kind in _NUMBER, "textType": kind in _TEXT, "updatable": False}
