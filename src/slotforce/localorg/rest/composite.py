"""Composite resources (routed by urls.py): sObject Collections (/composite/sobjects) and Composite (/composite)."""

from __future__ import annotations

import json
import re
from typing import Any

from slotforce.localorg import errors, records, store
from slotforce.localorg.models import record_with_attributes
from slotforce.localorg.rest import dispatch as d
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse
from slotforce.localorg.rest.sobjects import save_result_json

MAX_COLLECTION = 200
MAX_CHUNKS = 10
MAX_SUBREQUESTS = 25
MAX_QUERY_OR_COLLECTION_SUBREQUESTS = 5
_ROLLED_BACK_MESSAGE = "The transaction was rolled back since another operation in the same transaction failed."


# ---------------------------------------------------------------------------------------------
# sObject Collections


def _records_of(req: ApiRequest) -> tuple[list[dict], bool]:
    body = req.json_object()
    rows = body.get("records")
    if not isinstance(rows, list):
        raise errors.InvalidField("records: a list of records is required")
    if len(rows) > MAX_COLLECTION:
        raise errors.ExceededIdLimit(f"record limit reached. cannot submit more than {MAX_COLLECTION} records "
                                     "into this call")
    all_or_none = d.flag(body.get("allOrNone", False)) or req.composite_all_or_none
    return rows, all_or_none


def _type_of(row: Any) -> str:
    if not isinstance(row, dict):
        raise errors.JsonParserError("Cannot deserialize instance of sobject from a non-object value")
    attrs = row.get("attributes")
    if not isinstance(attrs, dict) or not attrs.get("type"):
        raise errors.InvalidInput("When creating or updating sObjects, each record must have an attributes type")
    return attrs["type"]


def _chunks(rows: list[dict]) -> list[tuple[str, list[int]]]:
    """Consecutive records of one type form a chunk (Salesforce allows at most ten)."""
    chunks: list[tuple[str, list[int]]] = []
    for i, row in enumerate(rows):
        t = _type_of(row)
        if chunks and chunks[-1][0].lower() == t.lower():
            chunks[-1][1].append(i)
        else:
            chunks.append((t, [i]))
    if len(chunks) > MAX_CHUNKS:
        raise errors.InvalidBatchSize(f"Too many chunks: a request may contain at most {MAX_CHUNKS} chunks of "
                                      "records of one type")
    return chunks


def _save_chunks(req: ApiRequest, operation: str, rows: list[dict], all_or_none: bool,
                 ext_field: str | None = None, sobject_name: str | None = None) -> list[records.SaveResult]:
    results: list[records.SaveResult | None] = [None] * len(rows)
    chunks = [(sobject_name, list(range(len(rows))))] if sobject_name else _chunks(rows)
    try:
        with store.savepoint(req.ctx.conn):
            for type_name, indexes in chunks:
                s = req.org.sobject(type_name)
                if sobject_name is not None and any(_type_of(rows[i]).lower() != s.name.lower() for i in indexes):
                    raise errors.InvalidInput("every record must be of the type in the URL")
                chunk_rows = [{k: v for k, v in rows[i].items() if k != "attributes"} for i in indexes]
                out = records.save(req.ctx, operation, s, chunk_rows, all_or_none=all_or_none, ext_field=ext_field)
                for i, r in zip(indexes, out):
                    results[i] = r
            if all_or_none and any(not r.success for r in results if r):
                raise _Undo
    except _Undo:
        results = [r if (r and not r.success) else records.SaveResult(None, False, [errors.AllOrNoneRolledBack()])
                   for r in results]
    return results  # type: ignore[return-value]


class _Undo(Exception):
    pass


def _answer(results: list[records.SaveResult], *, upsert: bool = False) -> ApiResponse:
    return ApiResponse(200, [save_result_json(r, upsert=upsert, collection=True) for r in results])


def collections(req: ApiRequest) -> ApiResponse:
    if req.method == "DELETE":
        ids = [i for i in (req.params.get("ids") or "").split(",") if i]
        if not ids:
            raise errors.InvalidInput("ids: a comma-separated list of ids is required")
        if len(ids) > MAX_COLLECTION:
            raise errors.ExceededIdLimit(f"record limit reached. cannot submit more than {MAX_COLLECTION} "
                                         "records into this call")
        return _answer(_delete(req, ids, d.flag(req.params.get("allOrNone")) or req.composite_all_or_none))
    rows, all_or_none = _records_of(req)
    operation = "insert" if req.method == "POST" else "update"
    return _answer(_save_chunks(req, operation, rows, all_or_none))


def _delete(req: ApiRequest, ids: list[str], all_or_none: bool) -> list[records.SaveResult]:
    results: list[records.SaveResult] = []
    try:
        with store.savepoint(req.ctx.conn):
            for raw in ids:
                s = req.org.schema.by_prefix(raw)
                if s is None:
                    results.append(records.SaveResult(None, False, [errors.MalformedId(f"malformed id {raw}")]))
                    continue
                (r,) = records.delete(req.ctx, s, [raw], all_or_none=True)
                if r.success or r.id is None:
                    r.id = r.id or records.parse_id(raw)
                results.append(r)
            if all_or_none and any(not r.success for r in results):
                raise _Undo
    except _Undo:
        results = [r if not r.success else records.SaveResult(r.id, False, [errors.AllOrNoneRolledBack()])
                   for r in results]
    return results


def collections_typed(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    if req.method == "PATCH":  # upsert by Id
        rows, all_or_none = _records_of(req)
        return _answer(_save_chunks(req, "upsert", rows, all_or_none, "Id", s.name), upsert=True)
    if req.method == "GET":
        ids = [i for i in (req.params.get("ids") or "").split(",") if i]
        fields = [f for f in (req.params.get("fields") or "").split(",") if f]
    else:
        body = req.json_object()
        ids, fields = body.get("ids") or [], body.get("fields") or []
    if not ids or not fields:
        raise errors.InvalidInput("ids and fields are required")
    if len(ids) > 2000:
        raise errors.ExceededIdLimit("record limit reached. cannot submit more than 2000 records into this call")
    wanted = [records.parse_id(str(i)) for i in ids]
    found = records.fetch(req.ctx, s, [i for i in wanted if i and i[:3] == s.key_prefix], include_deleted=False)
    return ApiResponse(200, [record_with_attributes(s, found[i], req.version, fields) if i in found else None
                             for i in wanted])


def collections_upsert(req: ApiRequest) -> ApiResponse:
    """Upsert by external id (API 46.0+): results carry `created`."""
    s = req.sobject()
    f = records.external_id_field(s, req.groups["field"])
    rows, all_or_none = _records_of(req)
    return _answer(_save_chunks(req, "upsert", rows, all_or_none, f.name, s.name), upsert=True)


# ---------------------------------------------------------------------------------------------
# Composite


_REF = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")


class _MissingReference(Exception):
    def __init__(self, ref: str) -> None:
        self.ref = ref


def _lookup(results: dict[str, Any], ref: str, path: str) -> Any:
    if ref not in results:
        raise _MissingReference(ref + path)
    value = results[ref]
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, index = step
        try:
            value = value[int(index)] if index else value[key]
        except (KeyError, IndexError, TypeError):
            raise _MissingReference(ref + path) from None
    if value is None:
        raise _MissingReference(ref + path)
    return value


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    """Replace @{ref.path} in strings (a whole-string reference keeps the referenced value's type)."""
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _REF.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value


def _halted(reference: str | None = None) -> dict:
    if reference is None:
        message = _ROLLED_BACK_MESSAGE
    else:
        ref = reference.split(".")[0].split("[")[0]
        message = (f"Invalid reference specified. No value for {reference} found in {ref}. Provided referenceId "
                   f"('{reference}') must start with a letter or a number, and it can contain only letters, "
                   "numbers and underscores ('_').")
    return errors.ProcessingHalted(message).to_json(code_first=True)


def _sub_failed(resp: ApiResponse, all_or_none: bool) -> bool:
    if resp.status >= 400:
        return True
    # under allOrNone a collections subrequest fails as a whole when any record failed
    return all_or_none and isinstance(resp.body, list) and any(
        isinstance(r, dict) and r.get("success") is False for r in resp.body)


def listed(body: dict, key: str, maximum: int, too_many: str) -> list:
    """`body[key]` as a non-empty list of at most `maximum` items (INVALID_API_INPUT, LIMIT_EXCEEDED)."""
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise errors.InvalidApiInput(f"{key}: a list of {'graphs' if key == 'graphs' else 'subrequests'} is required")
    if len(items) > maximum:
        raise errors.LimitExceeded(f"Limit Exceeded: {too_many}")
    return items


def composite(req: ApiRequest) -> ApiResponse:
    body = req.json_object()
    subs = listed(body, "compositeRequest", MAX_SUBREQUESTS,
                  f"the composite request has more than {MAX_SUBREQUESTS} subrequests")
    heavy = sum(1 for s in subs if isinstance(s, dict) and re.search(r"/(query|queryAll|composite/sobjects)\b",
                                                                       str(s.get("url", ""))))
    if heavy > MAX_QUERY_OR_COLLECTION_SUBREQUESTS:
        raise errors.LimitExceeded("Limit Exceeded: at most 5 query or sObject Collections subrequests")
    return ApiResponse(200, {"compositeResponse": run_composite(req, subs, d.flag(body.get("allOrNone", False)))})


def run_composite(req: ApiRequest, subs: list, all_or_none: bool) -> list[dict]:
    """Run Composite subrequests in order (references between them resolved): their compositeResponse
    entries. Also the body of each composite/graph graph (all_or_none true)."""
    seen: set[str] = set()
    for s in subs:
        if not isinstance(s, dict) or not s.get("method") or not s.get("url") or not s.get("referenceId"):
            raise errors.InvalidApiInput("Each subrequest needs method, url and referenceId")
        if s["referenceId"] in seen:
            raise errors.InvalidApiInput(f"Duplicate referenceId provided in the request: {s['referenceId']}")
        seen.add(s["referenceId"])
    bodies: dict[str, Any] = {}
    out: list[dict] = []
    try:
        with store.savepoint(req.ctx.conn):
            for i, sub in enumerate(subs):
                resp = run_subrequest(req, sub, bodies, all_or_none)
                entry = {"body": resp.body, "httpHeaders": resp.headers, "httpStatusCode": resp.status,
                         "referenceId": sub["referenceId"]}
                out.append(entry)
                if _sub_failed(resp, all_or_none):
                    if all_or_none:
                        for later in subs[i + 1:]:
                            out.append({"body": [_halted()], "httpHeaders": {}, "httpStatusCode": 400,
                                        "referenceId": later["referenceId"]})
                        raise _Undo
                else:
                    bodies[sub["referenceId"]] = resp.body
    except _Undo:
        for entry in out:
            if not _sub_failed(ApiResponse(entry["httpStatusCode"], entry["body"]), True):
                entry.update(body=[_halted()], httpHeaders={}, httpStatusCode=400)
    return out


def run_subrequest(req: ApiRequest, sub: dict, bodies: dict[str, Any], all_or_none: bool) -> ApiResponse:
    """One subrequest (`method`, `url`, `body`, `httpHeaders`) dispatched in-process, undone alone when it fails."""
    method = str(sub["method"]).upper()
    try:
        url = _substitute(sub["url"], bodies)
        body = _substitute(sub.get("body"), bodies) if sub.get("body") is not None else None
    except _MissingReference as missing:
        return ApiResponse(400, [_halted(missing.ref)])
    version, path, params = d.split_url(str(url))
    if version is None:
        return d.not_found()
    if re.match(r"^composite(/batch|/graph)?/?$", path):
        return d.error_response(errors.InvalidApiInput("Composite subrequests cannot be Composite requests"),
                                code_first=True)
    headers = {k.lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
    sub_req = ApiRequest(org=req.org, ctx=req.ctx, method=method, version=version, path=path, params=params,
                         routes=req.routes, body=json.dumps(body).encode() if body is not None else b"",
                         headers=headers, composite_all_or_none=all_or_none)
    try:
        # a subrequest is undone on its own when it fails (allOrNone false keeps the others)
        with store.savepoint(req.ctx.conn):
            resp = d.dispatch(sub_req)
            if resp.status >= 400:
                raise _SubFailed(resp)
    except _SubFailed as failed:
        return failed.resp
    except errors.SalesforceError as exc:
        return d.error_response(exc)
    return resp


class _SubFailed(Exception):
    def __init__(self, resp: ApiResponse) -> None:
        self.resp = resp
