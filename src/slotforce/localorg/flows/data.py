"""Records and queries between the interpreter and OrgAccess: typed records in, REST bodies out,
and the SELECT a Get Records (or filtered Update/Delete Records) element asks for."""

from __future__ import annotations

from typing import Any

from ..schema import Schema
from . import values
from .access import LikePattern, Query
from .errors import FlowFault
from .logic import map_tree, parse as parse_logic
from .model import RecordLookup

_FILTER_OPS = {"EqualTo": "=", "NotEqualTo": "!=", "GreaterThan": ">", "LessThan": "<",
               "GreaterThanOrEqualTo": ">=", "LessThanOrEqualTo": "<="}
# Fields the system sets: never sent on create/update even if present on a record variable.
SYSTEM_FIELDS = {"id", "isdeleted", "createddate", "createdbyid", "lastmodifieddate", "lastmodifiedbyid",
                  "systemmodstamp"}


def record_type(rec: dict) -> str | None:
    attrs = rec.get("attributes")
    return attrs.get("type") if isinstance(attrs, dict) else None


def get_field(rec: dict, name: str) -> Any:
    if name in rec:
        return rec[name]
    low = name.lower()
    for k, v in rec.items():
        if k.lower() == low:
            return v
    return None


def build_query(iv, el, fields: list[str] | None = None) -> Query:
    """The SELECT a Get Records element (or an Update/Delete Records with filters) asks for."""
    sobject = iv.schema.get(el.object)
    if sobject is None:
        raise FlowFault(f"{el.name}: there is no object {el.object}")

    def cond(i: int) -> tuple:
        f = el.filters[i]
        fld = sobject.field(f.field)
        if fld is None:
            raise FlowFault(f"{el.name}: {sobject.name} has no field {f.field}")
        raw = iv.value(f.value)
        op = f.operator
        if op == "IsNull":
            return ("cond", fld.name, "=" if values.to_boolean(raw) else "!=", None)
        if op in ("In", "NotIn"):
            items = raw if isinstance(raw, list) else ([] if raw is None else [raw])
            items = [get_field(x, "Id") if isinstance(x, dict) else x for x in items]
            typed = [values.from_field(fld.type, x) for x in items if x is not None]
            if not typed:  # IN () is not SOQL: the answer is known
                return ("cond", "Id", "=" if op == "In" else "!=", None)
            return ("cond", fld.name, "IN" if op == "In" else "NOT IN", typed)
        if isinstance(raw, dict):
            raw = get_field(raw, "Id")
        if op in ("StartsWith", "EndsWith", "Contains"):
            pattern = LikePattern(values.to_text(raw) or "", before=op != "StartsWith", after=op != "EndsWith")
            return ("cond", fld.name, "LIKE", pattern)
        if op not in _FILTER_OPS:
            raise FlowFault(f"{el.name}: filter operator {op} is not supported")
        return ("cond", fld.name, _FILTER_OPS[op], values.from_field(fld.type, raw))

    where = map_tree(parse_logic(el.filter_logic, len(el.filters)), cond) if el.filters else None
    if fields is None:
        if isinstance(el, RecordLookup) and el.queried_fields:
            wanted = el.queried_fields
        elif isinstance(el, RecordLookup) and el.output_assignments:
            wanted = [a.field for a in el.output_assignments]
        else:
            wanted = [f.name for f in sobject.fields.values()]
        fields = ["Id"] + [sobject.field(n).name for n in wanted if sobject.field(n) and n.lower() != "id"]
    order = None
    limit = None
    if isinstance(el, RecordLookup):
        if el.sort_field and el.sort_order:
            order = (sobject.field(el.sort_field).name, "DESC" if el.sort_order == "Desc" else "ASC")
        single = el.first_only or bool(el.output_assignments)
        if el.output_reference and not el.store_automatically:
            var = iv.flow.variables.get(el.output_reference.lower())
            single = single or not (var and var.is_collection)
        if single:
            limit = 1
        elif el.limit is not None:
            limit = int(values.to_number(iv.value(el.limit)) or 0) or None
    return Query(sobject.name, list(dict.fromkeys(fields)), where, order, limit)


def record_in(schema: Schema, sobject: str, rec: dict) -> dict:
    """A REST-shaped record as the interpreter's typed record."""
    obj = schema.get(sobject)
    out: dict = {"attributes": {"type": obj.name if obj else sobject}}
    for k, v in rec.items():
        if k == "attributes" or isinstance(v, dict):
            continue
        f = obj.field(k) if obj else None
        out[f.name if f else k] = values.from_field(f.type, v) if f else v
    return out


def record_out(schema: Schema, sobject: str, rec: dict, *, create: bool) -> dict:
    """A typed record as the REST body of a create (createable fields) or update (Id + updateable)."""
    obj = schema.get(sobject)
    if obj is None:
        raise FlowFault(f"there is no object {sobject}")
    out: dict = {}
    for k, v in rec.items():
        if k == "attributes" or isinstance(v, (dict, list)):
            continue
        f = obj.field(k)
        if f is None:
            continue
        if f.name.lower() == "id":
            if not create:
                out["Id"] = v
            continue
        if f.name.lower() in SYSTEM_FIELDS or f.calculated or f.auto_number:
            continue
        if (create and not f.createable) or (not create and not f.updateable):
            continue
        try:
            out[f.name] = values.to_field(f.type, v)
        except values.ValueError_ as exc:
            raise FlowFault(f"{obj.name}.{f.name}: {exc}") from None
    return out
