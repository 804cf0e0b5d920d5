"""The local org's ASGI app: Starlette routes that translate HTTP to model calls, plus fault injection.

    /services/data                       version list (no auth, not billed)
    /services/data/vXX.X/...             REST API (urls.py + metadata/urls.py, run by dispatch.py;
                                         billed per request, Sforce-Limit-Info)
    /services/oauth2/token, /revoke,     OAuth (auth.py; the rules in oauth.py)
      /userinfo
    /services/Soap/m/XX.X/...            Metadata SOAP, served by `slotforce.localorg.metadata.soap_endpoint`
    /services/async/XX.X/job/...         Bulk API 1.0 (bulk1.py; XML or JSON)
    /services/Soap/*, /apexrest          other families: refused in their own error shape (refusals.py)
    /id/{orgId}/{userId}                 the identity service (identity.py)
    /services/Soap/u/XX.X                the SOAP partner API's login (soap_partner.py)
    /__localorg__/...                    control and observation (control.py; same bearer token)
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from slotforce.localorg import errors
from slotforce.localorg.errors import SalesforceError
from slotforce.localorg.faults import Faults
from slotforce.localorg.metadata import attach, soap_endpoint
from slotforce.localorg.metadata import urls as metadata_urls
from slotforce.localorg.models import Org
from slotforce.localorg.rest import auth, bulk1, control, identity, refusals, soap_partner, urls
from slotforce.localorg.rest import dispatch as _dispatch
from slotforce.localorg.rest.paths import CollapseSlashes
from slotforce.localorg.rest.dispatch import (VERSIONS, ApiRequest, RouteTable, dispatch,
                                              error_response, limit_info, not_found, parse_version)

log = logging.getLogger("slotforce.localorg")
_BULK_UPLOAD = re.compile(r"^jobs/ingest/[0-9A-Za-z]{15,18}/batches/?$")  # takes MAX_BULK_UPLOAD_BYTES
JSON = "application/json;charset=UTF-8"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if status == 204 or body is None:
        return Response(status_code=status, headers=headers)
    if isinstance(body, str) and headers and "Content-Type" in headers:  # a CSV (Bulk API 2.0 results)
        return Response(body, status_code=status, headers=headers)
    if isinstance(body, Iterator):  # a large CSV (Bulk API 2.0 query results), streamed as it is read
        return StreamingResponse(body, status_code=status, headers=headers)
    return Response(json.dumps(body, separators=(",", ":")), status_code=status, headers=headers, media_type=JSON)


def build_app(org: Org, faults: Faults | None = None) -> Any:
    """The ASGI application serving `org` (wrapped in the fault layer)."""
    faults = faults or Faults()
    attach(org)  # load deployed flows, register their save hooks
    api_routes = RouteTable((*urls.ROUTES, *metadata_urls.ROUTES, *urls.REFUSED))

    async def versions(request: Request) -> Response:
        return json_response(200, [{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
                                   for v in VERSIONS])

    async def api(request: Request) -> Response:
        too_long = _head_too_long(request.scope)
        if too_long is not None:
            resp = error_response(too_long, code_first=True)
            return json_response(resp.status, resp.body)
        version = parse_version(request.path_params["version"])
        if version is None:
            resp = not_found()
            return json_response(resp.status, resp.body)
        user = auth.session_user(org, request)
        if user is None:
            return auth.invalid_session()
        limit = (_dispatch.MAX_BULK_UPLOAD_BYTES if _BULK_UPLOAD.match(request.path_params.get("path", ""))
                 else _dispatch.MAX_BODY_BYTES)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:  # refused without holding it in memory
            await refusals.drain(request)
            resp = error_response(errors.RequestEntityTooLarge(f"Request body is larger than {limit} bytes"))
            return json_response(resp.status, resp.body)
        body = await _body(request)
        if body is None:
            return Response(status_code=499)  # the client gave up (e.g. its timeout during an injected delay)
        raw = request.scope.get("raw_path") or request.url.path.encode()
        raw_path = raw.decode("latin-1").split("?", 1)[0]
        path = raw_path.split("/", 4)[4] if raw_path.count("/") >= 4 else ""
        headers = {"Sforce-Limit-Info": limit_info(org)}
        try:
            if len(body) > limit:
                raise errors.RequestEntityTooLarge(f"Request body is larger than {limit} bytes")
            found = api_routes.resolve(request.method, path)
            if found[0] is not None and found[0].kind:
                org.charge_api_call(found[0].kind)
                headers["Sforce-Limit-Info"] = limit_info(org)
            req = ApiRequest(org=org, ctx=None, method=request.method, version=version,  # type: ignore[arg-type]
                             path=path, params=dict(request.query_params), routes=api_routes, body=body,
                             headers={k.lower(): v for k, v in request.headers.items()})
            with org.transaction(user) as ctx:  # as the session's user (CreatedById, OwnerId)
                req.ctx = ctx
                resp = dispatch(req, found)
        except SalesforceError as exc:
            resp = error_response(exc)
        except Exception:  # a bug here must still answer like Salesforce, and say where to look
            log.exception("local org: unexpected error on %s %s", request.method, request.url.path)
            resp = error_response(errors.UnknownException("An unexpected error occurred in the local org; see its log."),
                                  code_first=True)
        headers.update(resp.headers)
        if request.method == "HEAD":
            return Response(status_code=resp.status, headers=headers)
        return json_response(resp.status, resp.body, headers)

    async def soap(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return Response(status_code=499)
        try:
            org.charge_api_call("metadata")
        except SalesforceError as exc:
            fault = errors.soap_fault(f"sf:{exc.error_code}", exc.message, sf_namespace=errors.PARTNER_FAULT_NS)
            return Response(fault, status_code=500,
                            media_type="text/xml; charset=utf-8")
        status, text = soap_endpoint(org, body, {k.lower(): v for k, v in request.headers.items()})
        return Response(text, status_code=status, media_type="text/xml; charset=utf-8")

    routes = [
        Route("/services/data", versions, methods=["GET"]),
        Route("/services/data/", versions, methods=["GET"]),
        Route("/services/data/{version}", api, methods=["GET", "HEAD"]),
        Route("/services/data/{version}/{path:path}", api,
              methods=["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]),
        Route("/services/Soap/m/{path:path}", soap, methods=["POST"]),
        *auth.routes(org),
        *control.routes(org, faults),
        *identity.routes(org),
        *soap_partner.routes(org),
        *bulk1.routes(org),
        *refusals.routes(org),  # last: the families and paths nothing above serves
    ]
    app = Starlette(routes=routes, exception_handlers={404: refusals.starlette_404})
    return CollapseSlashes(FaultLayer(app, faults))


# "In each REST call, the maximum length for the combined URI and headers is 16,384 bytes"
# (Salesforce help 000386264): longer URIs answer 414, longer heads 431. server.py lets h11 read
# heads up to MAX_HEAD_BYTES so these answer in JSON rather than as h11's plain-text 400.
MAX_URI_BYTES = 16_384
MAX_HEAD_BYTES = 1024 * 1024


def _head_too_long(scope) -> SalesforceError | None:
    raw = scope.get("raw_path") or scope["path"].encode()
    uri = len(raw) + (1 + len(scope["query_string"]) if scope.get("query_string") else 0)
    if uri > MAX_URI_BYTES:
        return errors.UriTooLong(f"The request URI is {uri:,} bytes; at most {MAX_URI_BYTES:,} are "
                                 f"allowed. Send long SOQL in a Composite API request body.")
    head = uri + sum(len(k) + len(v) + 4 for k, v in scope.get("headers", ()))
    if head > MAX_URI_BYTES:
        return errors.RequestHeaderFieldsTooLarge(
            f"The request URI and headers are {head:,} bytes; at most {MAX_URI_BYTES:,} are allowed.")
    return None


async def _body(request: Request) -> bytes | None:
    """The request body, or None when the client has disconnected: nothing runs for a request
    nobody waits for, as Salesforce would not start one it never fully received."""
    try:
        return await request.body()
    except ClientDisconnect:
        log.debug("local org: client left before %s %s was read", request.method, request.url.path)
        return None


class FaultLayer:
    """Outermost ASGI layer: apply injected faults to /services/ requests before anything else runs."""

    def __init__(self, app: Any, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/services/"):
            return await self.app(scope, receive, send)
        fault = self.faults.match(scope["method"], scope["path"])
        if fault is None:
            return await self.app(scope, receive, send)
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.error == "drop":
            return await _drop(send)
        answer = fault.response()
        if answer is None:
            return await self.app(scope, receive, send)
        status, body = answer
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", JSON.encode()), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


async def _drop(send) -> None:
    """Close the connection without a response, as a dying load balancer would."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        transport.close()
        cycle.disconnected = True  # uvicorn then skips its "no response" 500
        return
    # not under uvicorn: start a response and never finish it, which also ends the connection
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
