"""sObject resources (routed by urls.py): describe, create, retrieve, update, delete, get/upsert by external id, limits."""

from __future__ import annotations

import secrets

from slotforce.localorg import describe, errors, records
from slotforce.localorg.models import record_with_attributes
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse

def save_result_json(result: records.SaveResult, *, upsert: bool = False, collection: bool = False) -> dict:
    """A SaveResult as REST answers it (`statusCode` instead of `errorCode` inside collections)."""
    if result.success:
        out = {"id": result.id, "success": True, "errors": []}
        if upsert:
            out["created"] = bool(result.created)
        return out
    errs = []
    for e in result.errors:
        item = {"statusCode": e.error_code, "message": e.message, "fields": e.fields}
        errs.append(item if collection else e.to_json())
    out = {"success": False, "errors": errs}
    if result.id:
        out = {"id": result.id, **out}
    return out


def _raise_failure(result: records.SaveResult) -> None:
    if not result.success:
        raise result.errors[0]


def _record_types(req: ApiRequest, sobject_name: str) -> list[dict]:
    rows = req.ctx.conn.execute(
        'SELECT Id, Name, DeveloperName, IsActive FROM "RecordType" WHERE SobjectType = ? AND IsDeleted = 0 '
        "ORDER BY Name", (sobject_name,))
    return [dict(zip(("Id", "Name", "DeveloperName", "IsActive"), r)) for r in rows]


def resources(req: ApiRequest) -> ApiResponse:
    base = f"/services/data/v{req.version}"
    out = {k: f"{base}/{k}" for k in ("sobjects", "query", "queryAll", "composite", "limits", "recent", "tooling",
                                      "search")}
    host = req.headers.get("host", "")
    out["identity"] = f"https://{host}/id/{req.org.org_id}/{req.org.user_id}"  # a full URL, as Salesforce gives
    return ApiResponse(200, out)


def limits(req: ApiRequest) -> ApiResponse:
    org = req.org
    remaining = max(org.daily_api_max - org.api_used, 0)
    return ApiResponse(200, {
        "DailyApiRequests": {"Max": org.daily_api_max, "Remaining": remaining},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 5, "Remaining": 5},
        "FileStorageMB": {"Max": 20, "Remaining": 20},
        "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
        "SingleEmail": {"Max": 15, "Remaining": 15},
    })


def global_describe(req: ApiRequest) -> ApiResponse:
    return ApiResponse(200, describe.global_describe(list(req.org.schema), req.version))


def sobject_describe(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    return ApiResponse(200, describe.sobject_describe(s, req.version, _record_types(req, s.name)))


def basic_info(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    return ApiResponse(200, {"objectDescribe": describe.global_entry(s, req.version), "recentItems": []})


def create(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    body = req.json_object()
    (result,) = records.save(req.ctx, "insert", s, [body], all_or_none=True)
    _raise_failure(result)
    return ApiResponse(201, save_result_json(result), {"Location": f"/services/data/v{req.version}/sobjects/"
                                                                   f"{s.name}/{result.id}"})


def _fields_param(req: ApiRequest) -> list[str] | None:
    raw = req.params.get("fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None


def record(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    rid = req.groups["id"]
    if req.method == "GET":
        row = records.get(req.ctx, s, rid)
        return ApiResponse(200, record_with_attributes(s, row, req.version, _fields_param(req)))
    if req.method == "PATCH":
        body = dict(req.json_object())
        target = _id_or_404(req, s, rid)
        body_id = next((v for k, v in body.items() if k.lower() == "id"), None)
        if body_id is not None and records.parse_id(str(body_id)) != target:
            raise errors.InvalidField("The Id field should not be specified in the sobject data.")
        body = {k: v for k, v in body.items() if k.lower() != "id"}
        body["Id"] = target
        (result,) = records.save(req.ctx, "update", s, [body], all_or_none=True)
        _raise_failure(result)
        return ApiResponse(204)
    target = _id_or_404(req, s, rid)
    (result,) = records.delete(req.ctx, s, [target], all_or_none=True)
    _raise_failure(result)
    return ApiResponse(204)


def user_password(req: ApiRequest) -> ApiResponse:
    """sobjects/User/{id}/password: GET {"isExpired"}, POST {"NewPassword"} (204), DELETE resets it
    and answers the generated one (REST API guide, "Set and Reset User Passwords")."""
    user_id = req.groups["id"]
    if req.method == "GET":
        records.get(req.ctx, req.org.sobject("User"), user_id)
        return ApiResponse(200, {"isExpired": False})
    if req.method == "POST":
        req.ctx.set_password(user_id, req.json_object().get("NewPassword"))
        return ApiResponse(204)
    new = f"{secrets.token_urlsafe(9)}7a"  # the policy's letters and numbers, whatever the random part holds
    req.ctx.set_password(user_id, new)
    return ApiResponse(200, {"NewPassword": new})


def _id_or_404(req: ApiRequest, s, raw: str) -> str:
    """PATCH/DELETE of an id that is not one of this object's: 404 (real-org behaviour, Fidelic errors-004)."""
    rid = records.parse_id(raw)
    if rid is None:
        raise errors.NotFound(f"Provided external ID field does not exist or is not accessible: {raw}")
    if rid[:3] != s.key_prefix:
        raise errors.InvalidCrossReferenceKey("invalid cross reference id", status=404)
    row = req.ctx.conn.execute(f'SELECT IsDeleted FROM "{s.table}" WHERE Id = ?', (rid,)).fetchone()
    if row is None:
        raise errors.InvalidCrossReferenceKey("invalid cross reference id", status=404)
    if row[0]:
        raise errors.EntityIsDeleted("entity is deleted")
    return rid


def by_external_id(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    field_name, value = req.groups["field"], req.groups["value"]
    f = records.external_id_field(s, field_name)
    if req.method == "POST":
        # POST .../Id (no value) creates a record (API 37.0+); other fields are not allowed here
        if f.name != "Id" or value:
            raise errors.MethodNotAllowed("HTTP Method 'POST' not allowed. Allowed are GET,PATCH,DELETE")
        return create(req)
    if req.method == "PATCH":
        return upsert(req, s, f, value)
    ids = records.find_by_external_id(req.ctx, s, f.name, value)
    if not ids:
        raise errors.NotFound("The requested resource does not exist")
    if len(ids) > 1:
        return _multiple_choices(req, s, ids)
    if req.method == "GET":
        row = records.get(req.ctx, s, ids[0])
        return ApiResponse(200, record_with_attributes(s, row, req.version, _fields_param(req)))
    (result,) = records.delete(req.ctx, s, ids, all_or_none=True)
    _raise_failure(result)
    return ApiResponse(204)


def _multiple_choices(req: ApiRequest, s, ids: list[str]) -> ApiResponse:
    """300: the external id matches several records; the body lists their URLs."""
    return ApiResponse(300, [f"/services/data/v{req.version}/sobjects/{s.name}/{i}" for i in ids])


def upsert(req: ApiRequest, s, f, value: str) -> ApiResponse:
    """PATCH .../<ExtField>/<value>: 201 created; 200 + body from v46.0 (204 before); 300 on several matches."""
    body = dict(req.json_object())
    if f.name == "Id" and not value:
        raise errors.NotFound("The requested resource does not exist")
    clash = next((k for k in body if k.lower() == f.name.lower()), None)
    if clash is not None and str(body[clash]) != value and f.name != "Id":
        raise errors.InvalidField(f"{f.name}: value in the body differs from the value in the URL", fields=[f.name])
    matches = records.find_by_external_id(req.ctx, s, f.name, value) if f.name != "Id" else [value]
    if len(matches) > 1:
        return _multiple_choices(req, s, matches)
    if req.params.get("updateOnly", "").lower() == "true" and not matches:
        raise errors.NotFound("The requested resource does not exist")
    body[f.name] = value
    (result,) = records.save(req.ctx, "upsert", s, [body], all_or_none=True, ext_field=f.name)
    _raise_failure(result)
    location = {"Location": f"/services/data/v{req.version}/sobjects/{s.name}/{result.id}"}
    if result.created:
        return ApiResponse(201, save_result_json(result, upsert=req.version_number >= 46), location)
    if req.version_number >= 46:
        return ApiResponse(200, save_result_json(result, upsert=True), location)
    return ApiResponse(204)

