"""The REST face of deploys (CumulusCI's `rest_deploy` option; routed by urls.py): POST
/metadata/deployRequest with a multipart body (`json` deployOptions + `file` zip), GET /metadata/deployRequest/{id}."""

from __future__ import annotations

import email.parser
import email.policy
import json

from ..errors import JsonParserError, NotFound
from ..rest.dispatch import ApiRequest, ApiResponse, flag
from .models import BOOLEAN_DEPLOY_OPTIONS, DeployResult, attach


def _parts(req: ApiRequest) -> dict[str, bytes]:
    ctype = req.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise JsonParserError("deployRequest needs a multipart/form-data body with a json part and a file part")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + req.body)
    out = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            out[name] = part.get_payload(decode=True) or b""
    return out


def deploy_request(req: ApiRequest) -> ApiResponse:
    parts = _parts(req)
    if "file" not in parts:
        raise JsonParserError("deployRequest: the multipart body has no file part (the zip)")
    try:
        options = (json.loads(parts.get("json") or b"{}") or {}).get("deployOptions", {}) or {}
    except ValueError as exc:
        raise JsonParserError(f"deployRequest: the json part is not JSON: {exc}") from None
    flags = {k: flag(v) for k, v in options.items() if k in BOOLEAN_DEPLOY_OPTIONS}
    result = attach(req.org).deploy(parts["file"], flags)
    return ApiResponse(201, {"id": result.id, "validatedDeployRequestId": None, "deployOptions": options,
                             "deployResult": result_json(result, False)})


def deploy_status(req: ApiRequest) -> ApiResponse:
    result = attach(req.org).result(req.groups["id"])
    if result is None:
        raise NotFound("The requested resource does not exist")
    include = req.params.get("includeDetails", "false").lower() == "true"
    return ApiResponse(200, {"id": result.id, "deployResult": result_json(result, include)})


def result_json(r: DeployResult, include_details: bool) -> dict:
    def component(c) -> dict:
        return {"changed": c.changed, "componentType": c.component_type or None, "created": c.created,
                "createdDate": r.created_date, "deleted": c.deleted, "fileName": c.file_name,
                "fullName": c.full_name, "success": c.success,
                "problem": c.problem, "problemType": None if c.success else "Error",
                "lineNumber": c.line or None, "columnNumber": (c.column or 1) if c.line else None}

    body = {"id": r.id, "checkOnly": r.check_only, "completedDate": r.completed_date, "createdDate": r.created_date,
            "done": r.done, "errorMessage": r.error_message, "ignoreWarnings": r.ignore_warnings,
            "numberComponentErrors": len(r.failures), "numberComponentsDeployed": len(r.successes),
            "numberComponentsTotal": len(r.components), "numberTestErrors": 0, "numberTestsCompleted": 0,
            "numberTestsTotal": 0, "rollbackOnError": r.rollback_on_error, "runTestsEnabled": False,
            "startDate": r.created_date, "status": r.status, "success": r.success, "details": None}
    if include_details:
        body["details"] = {"componentSuccesses": [component(c) for c in r.successes],
                           "componentFailures": [component(c) for c in r.failures],
                           "runTestResult": {"numFailures": 0, "numTestsRun": 0, "totalTime": 0.0}}
    return body
