"""Composite tree (POST composite/tree/{sObject}): nested records saved all or none (`sf data import tree`).

Body `{"records": [{"attributes": {"type", "referenceId"}, field: value, ChildRelationship:
{"records": [...]}}]}`; at most 200 records in all and 5 levels. 201 `{"hasErrors": false,
"results": [{"referenceId", "id"}]}`; any failure rolls everything back and answers 400
`{"hasErrors": true, "results": [{"referenceId", "errors": [{"statusCode", "message", "fields"}]}]}`.
"""

from __future__ import annotations

from slotforce.localorg import errors, records, store
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse

MAX_RECORDS = 200
MAX_DEPTH = 5


class _Failed(Exception):
    def __init__(self, result: dict) -> None:
        self.result = result


def _count(rows: list, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise errors.InvalidInput(f"Maximum depth of {MAX_DEPTH} levels exceeded")
    total = 0
    for row in rows:
        if not isinstance(row, dict):
            raise errors.JsonParserError("Cannot deserialize instance of sobject from a non-object value")
        total += 1
        for value in row.values():
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                total += _count(value["records"], depth + 1)
    return total


def _save(req: ApiRequest, sobject, rows: list[dict], parent: tuple[str, str] | None, out: list[dict]) -> None:
    for row in rows:
        attrs = row.get("attributes") or {}
        ref = attrs.get("referenceId")
        if not ref:
            raise errors.InvalidInput("Include a reference ID for each record in the request (attributes.referenceId)")
        if attrs.get("type") and attrs["type"].lower() != sobject.name.lower():
            raise errors.InvalidInput(f"{ref}: attributes.type {attrs['type']} is not {sobject.name}")
        children = {k: v["records"] for k, v in row.items()
                    if isinstance(v, dict) and isinstance(v.get("records"), list)}
        values = {k: v for k, v in row.items() if k != "attributes" and k not in children}
        if parent:
            values[parent[0]] = parent[1]
        (result,) = records.save(req.ctx, "insert", sobject, [values], all_or_none=True)
        if not result.success:
            raise _Failed({"referenceId": ref, "errors": [{"statusCode": e.error_code, "message": e.message,
                                                           "fields": e.fields} for e in result.errors]})
        out.append({"referenceId": ref, "id": result.id})
        for name, child_rows in children.items():
            rel = sobject.child_relationship(name)
            child = req.org.schema.get(rel.child_sobject) if rel else None
            if rel is None or child is None:
                raise errors.InvalidField(f"No such relationship '{name}' on {sobject.name}")
            _save(req, child, child_rows, (rel.field, result.id), out)


def tree(req: ApiRequest) -> ApiResponse:
    sobject = req.sobject()
    rows = req.json_object().get("records")
    if not isinstance(rows, list) or not rows:
        raise errors.InvalidInput("records: a list of records is required")
    if _count(rows, 1) > MAX_RECORDS:
        raise errors.LimitExceeded(f"Limit Exceeded: a tree request may contain at most {MAX_RECORDS} records")
    out: list[dict] = []
    try:
        with store.savepoint(req.ctx.conn):
            _save(req, sobject, rows, None, out)
    except _Failed as failed:
        return ApiResponse(400, {"hasErrors": True, "results": [failed.result]})
    return ApiResponse(201, {"hasErrors": False, "results": out})
