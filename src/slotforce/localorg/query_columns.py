"""The column metadata of a SOQL query (`GET query?q=...&columns=true`), as Salesforce answers it.

The sf CLI asks for it after every query that returned rows and builds its table from it:
`columnMetadata` lists each SELECT item; a parent relationship path (`Owner.Name`) is a column
named after the relationship whose `joinColumns` hold the next step; a child subquery is an
`aggregate` column whose `joinColumns` are the subquery's columns; a function is an `aggregate`
column named by its alias or `exprN`, with the function as written in `displayName`.
Shapes from the sf CLI's reader (plugin-data `retrieveColumns`) and recorded answers [memory].
"""

from __future__ import annotations

from slotforce.localorg import errors
from slotforce.localorg.schema import Field, Schema, SObject
from slotforce.localorg.soql import nodes, parse

# describe type -> the Apex type Salesforce reports
_APEX_TYPES = {"id": "Id", "reference": "Id", "boolean": "Boolean", "date": "Date", "datetime": "Datetime",
               "time": "Time", "int": "Integer", "double": "Double", "currency": "Double", "percent": "Double",
               "address": "Address", "location": "Location"}
_NUMBERS = {"int", "double", "currency", "percent"}
_TEXT = {"string", "textarea", "email", "url", "phone", "picklist", "multipicklist", "combobox",
         "encryptedstring"}


def _column(name: str, display: str, *, field: Field | None = None, aggregate: bool = False,
            apex_type: str | None = None, joins: list[dict] | None = None) -> dict:
    kind = field.type if field else None
    return {"aggregate": aggregate, "apexType": apex_type or (_APEX_TYPES.get(kind, "String") if field else None),
            "booleanType": kind == "boolean", "columnName": name, "custom": bool(field and field.custom),
            "displayName": display, "foreignKeyName": None,
            "insertable": bool(field and field.createable and not field.calculated), "joinColumns": joins or [],
            "numberType": kind in _NUMBERS, "textType": kind in _TEXT,
            "updatable": bool(field and field.updateable and not field.calculated)}


def _path_column(schema: Schema, sobject: SObject, path: tuple[str, ...], shown: str) -> dict:
    """`Owner.Name` -> column Owner joining Name (recursively for longer paths)."""
    head, rest = path[0], path[1:]
    if not rest:
        f = sobject.field(head)
        if f is None:
            raise errors.InvalidField(f"No such column '{head}' on entity '{sobject.name}'")
        return _column(f.name, shown, field=f)
    ref = sobject.relationship(head)
    if ref is None:
        raise errors.InvalidField(f"Didn't understand relationship '{head}' in field path")
    # a polymorphic Owner (Group or User): the first target that has the field (Owner.Username: User)
    targets = [t for t in (schema.get(name) for name in ref.reference_to) if t is not None]
    parent = next((t for t in targets if len(rest) > 1 or t.field(rest[0])), targets[0] if targets else None)
    if parent is None:
        raise errors.InvalidField(f"Didn't understand relationship '{head}' in field path")
    return _column(ref.relationship_name or head, ref.relationship_name or head,
                   joins=[_path_column(schema, parent, rest, shown)])


def _function_text(call: nodes.FunctionCall) -> str:
    args = ", ".join(a.text if isinstance(a, nodes.FieldRef) else _function_text(a) if isinstance(
        a, nodes.FunctionCall) else str(a) for a in call.args)
    return f"{call.name}({args})"


def _function_type(schema: Schema, sobject: SObject, call: nodes.FunctionCall) -> str | None:
    if call.upper in ("COUNT", "COUNT_DISTINCT", "GROUPING") or call.upper in nodes.DATE_FUNCTIONS:
        return "Integer"
    if call.upper == "FORMAT":  # formatted text
        return "String"
    if call.upper in ("SUM", "AVG"):
        return "Double"
    arg = call.args[0] if call.args else None
    if isinstance(arg, nodes.FieldRef):
        return _path_column(schema, sobject, arg.path, arg.text).get("apexType")
    return None


def _columns(schema: Schema, query: nodes.Query, sobject: SObject) -> list[dict]:
    out, expr = [], 0
    for item in query.select:
        if isinstance(item, nodes.SelectField):
            path = item.field.path
            if len(path) > 1 and path[0].lower() in {sobject.name.lower(), (query.sobject_alias or "").lower()}:
                path = path[1:]
            col = _path_column(schema, sobject, path, ".".join(path))
            if item.alias:
                col.update(columnName=item.alias, displayName=item.alias)
            out.append(col)
        elif isinstance(item, nodes.SelectFunction) and _shows_a_field(item.function):
            # toLabel(Status), FORMAT(CloseDate): the field's column, keyed as the record is
            path = item.function.args[0].path
            if len(path) > 1 and path[0].lower() in {sobject.name.lower(), (query.sobject_alias or "").lower()}:
                path = path[1:]
            col = _path_column(schema, sobject, path, _function_text(item.function))
            if item.alias:  # an alias puts the value at the top of the record
                while col["joinColumns"]:
                    col = col["joinColumns"][0]
                col = dict(col, columnName=item.alias, displayName=item.alias)
            leaf = col
            while leaf["joinColumns"]:
                leaf = leaf["joinColumns"][0]
            if item.function.upper == "FORMAT":
                leaf.update(apexType="String", numberType=False, booleanType=False, textType=True)
            out.append(col)
        elif isinstance(item, nodes.SelectFunction):
            name = item.alias or f"expr{expr}"
            expr += 0 if item.alias else 1
            out.append(_column(name, item.alias or _function_text(item.function), aggregate=True,
                               apex_type=_function_type(schema, sobject, item.function)))
        elif isinstance(item, nodes.SelectSubquery):
            rel = sobject.child_relationship(item.query.sobject)
            child = schema.get(rel.child_sobject) if rel else None
            if rel is None or child is None:
                raise errors.InvalidType(f"Didn't understand relationship '{item.query.sobject}' in FROM part of "
                                         "query call")
            out.append(_column(rel.relationship_name or item.query.sobject, rel.relationship_name or
                               item.query.sobject, aggregate=True, joins=_columns(schema, item.query, child)))
        else:
            raise errors.NotImplementedByLocalOrg("TYPEOF is not supported by the local org")
    return out


def _shows_a_field(call: nodes.FunctionCall) -> bool:
    """toLabel(f) / FORMAT(f) of a field: a field's column, not an aggregate's."""
    return call.upper in ("TOLABEL", "FORMAT") and len(call.args) == 1 and isinstance(call.args[0], nodes.FieldRef)


def query_columns(schema: Schema, soql: str) -> dict:
    """`{"columnMetadata": [...], "entityName", "groupBy", "idSelected", "keyPrefix"}` for `soql`."""
    query = parse(soql)
    sobject = schema.get(query.sobject)
    if sobject is None:
        raise errors.InvalidType(f"sObject type '{query.sobject}' is not supported.")
    columns = _columns(schema, query, sobject)
    id_selected = any(isinstance(i, nodes.SelectField) and i.field.path[-1].lower() == "id" and len(
        i.field.path) == 1 for i in query.select)
    return {"columnMetadata": columns, "entityName": sobject.name,
            "groupBy": bool(query.group_by or query.group_by_function),
            "idSelected": id_selected, "keyPrefix": sobject.key_prefix}
