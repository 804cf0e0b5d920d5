"""What the local org does not serve, refused in each endpoint family's own error shape (UNSUPPORTED_BY_LOCAL_ORG).

A real Salesforce endpoint the local org does not implement never answers NOT_FOUND or a plain-text
404: REST resources (urls.py entries made with `refused`) answer the REST error list, SOAP endpoints
a SOAP fault, Bulk API 1.0 its XML/JSON error, OAuth endpoints the OAuth error. Paths under
/services/ that are no Salesforce endpoint at all answer the REST framework's NOT_FOUND as JSON.
"""

from __future__ import annotations

import json

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from slotforce.localorg import errors
from slotforce.localorg.models import Org
from slotforce.localorg.rest import auth
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse, Handler

JSON = "application/json;charset=UTF-8"
XML = "text/xml; charset=utf-8"
ALL_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]
CODE = errors.NotImplementedByLocalOrg.error_code


def unsupported(feature: str) -> errors.NotImplementedByLocalOrg:
    """The one wording every refusal uses: what is not supported, by whom."""
    return errors.NotImplementedByLocalOrg(f"{feature} is not supported by the local org")


def refused(feature: str) -> Handler:
    """A REST route handler that refuses `feature` (a REST error list, HTTP 400); `{path}` and the
    route's named groups (`{sobject}`) in `feature` are filled from the request."""
    def handler(req: ApiRequest) -> ApiResponse:
        raise unsupported(feature.format(path=req.path.split("?", 1)[0], **req.groups))
    handler.__name__ = f"refused: {feature}"
    return handler


def _rest_error(exc: errors.SalesforceError) -> Response:
    return Response(json.dumps([exc.to_json(code_first=True)]), status_code=exc.status, media_type=JSON)


# SOAP APIs by path segment: /services/Soap/{c|s|T|class}/... (u, the partner API, is soap_partner.py) -> (API name, fault namespace)
SOAP_APIS = {
    "c": ("The SOAP enterprise API", errors.ENTERPRISE_FAULT_NS),
    "s": ("The Apex SOAP API (executeAnonymous, runTests, compile)", errors.APEX_NS),
    "T": ("The Tooling SOAP API", errors.TOOLING_FAULT_NS),
    "class": ("Apex SOAP web services", errors.APEX_NS),
}


def soap_refusal(api: str, namespace: str, what: str = "") -> Response:
    """A SOAP fault naming what is not supported (SOAP 1.1 faults travel with HTTP 500, as Salesforce sends them)."""
    message = unsupported(f"{api}{f' ({what})' if what else ''}").message
    return Response(errors.soap_fault(f"sf:{CODE}", f"{CODE}: {message}", sf_namespace=namespace,
                                      detail="UnexpectedErrorFault"), status_code=500, media_type=XML)


async def drain(request: Request) -> None:
    """Read a body the org refuses and drop it piece by piece: the client, still sending it, then reads
    the answer (a server that answers mid-upload and closes makes the client see a reset connection)."""
    try:
        async for _ in request.stream():
            pass
    except ClientDisconnect:
        pass


def bulk1_error(request: Request, code: str, message: str, status: int = 400) -> Response:
    """A Bulk API 1.0 error, JSON when the client speaks JSON (Content-Type or a .json path), else XML."""
    as_json = "json" in request.headers.get("content-type", "") or request.url.path.endswith("json")
    return Response(errors.bulk_error(code, message, as_json=as_json), status_code=status,
                    media_type=JSON if as_json else XML)


def bulk1_authorized(org: Org, request: Request) -> bool:
    """Bulk API 1.0 sends the session in X-SFDC-Session (Authorization works too)."""
    session = request.headers.get("x-sfdc-session", "").strip()
    return (bool(session) and session == org.access_token) or auth.authorized(org, request)


def routes(org: Org) -> list[Route]:
    """Starlette routes for the families outside /services/data (and a JSON 404 for the rest of /services)."""

    def soap(api: str, namespace: str):
        async def endpoint(request: Request) -> Response:
            return soap_refusal(api, namespace)
        return endpoint

    async def bulk1(request: Request) -> Response:
        if not bulk1_authorized(org, request):
            return bulk1_error(request, "InvalidSessionId", "Invalid session id")
        return bulk1_error(request, CODE, unsupported(f"The Bulk API 1.0 resource {request.url.path} (served: "
                                                      "/services/async/XX.X/job/...)").message)

    async def apexrest(request: Request) -> Response:
        if not auth.authorized(org, request):
            return auth.invalid_session()
        return _rest_error(unsupported(f"Apex REST ({request.url.path}): the local org runs no Apex"))

    async def oauth2(request: Request) -> Response:
        exc = errors.OAuthError(unsupported(f"OAuth {request.method} {request.url.path}").message, error_code=CODE)
        return Response(json.dumps(exc.to_json()), status_code=exc.status, media_type=JSON)

    async def not_a_resource(request: Request) -> Response:
        return _rest_error(errors.NotFound())

    return [
        *(Route(f"/services/Soap/{segment}/{{rest:path}}", soap(*api), methods=ALL_METHODS)
          for segment, api in SOAP_APIS.items()),
        Route("/services/async/{rest:path}", bulk1, methods=ALL_METHODS),
        Route("/services/apexrest/{rest:path}", apexrest, methods=ALL_METHODS),
        Route("/services/oauth2/{rest:path}", oauth2, methods=ALL_METHODS),
        Route("/services/{rest:path}", not_a_resource, methods=ALL_METHODS),
    ]


def starlette_404(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no route at all): the REST framework's NOT_FOUND as JSON, never plain text."""
    return _rest_error(errors.NotFound())
