"""The identity service: GET /id/{orgId}/{userId} (the `identity` link of the versions resource, jsforce's identity()).

Answers Salesforce's identity shape for an active user of this org; another org's id, an unknown
or inactive user is 404 `Bad_Id` (the identity service's own error body, `[{"error", "error_description"}]`
as OAuth shapes it); no session 401 as every REST call.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slotforce.localorg import errors, records
from slotforce.localorg.models import Org
from slotforce.localorg.rest import auth

JSON = "application/json;charset=UTF-8"
_COLUMNS = ("Id", "Username", "FirstName", "LastName", "Name", "Email", "IsActive", "TimeZoneSidKey",
            "LanguageLocaleKey", "LocaleSidKey", "LastModifiedDate", "CreatedDate")


def _bad_id() -> Response:
    exc = errors.OAuthError("Bad_Id", error_code="Bad_Id", status=404)
    return Response(json.dumps(exc.to_json()), status_code=404, media_type=JSON)


def identity_body(org: Org, instance: str, row: dict) -> dict:
    base = f"{instance}/services"
    user_id, org_id = row["Id"], org.org_id
    return {
        "id": f"{instance}/id/{org_id}/{user_id}", "asserted_user": True, "user_id": user_id,
        "organization_id": org_id, "username": row["Username"], "nick_name": row["Username"].split("@")[0],
        "display_name": row["Name"], "email": row["Email"], "email_verified": True,
        "first_name": row["FirstName"], "last_name": row["LastName"], "timezone": row["TimeZoneSidKey"] or "GMT",
        "photos": {"picture": None, "thumbnail": None}, "addr_street": None, "addr_city": None,
        "addr_state": None, "addr_country": None, "addr_zip": None, "mobile_phone": None,
        "mobile_phone_verified": False, "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": {"enterprise": f"{base}/Soap/c/{{version}}/{org_id}", "metadata": f"{base}/Soap/m/{{version}}/{org_id}",
                 "partner": f"{base}/Soap/u/{{version}}/{org_id}", "rest": f"{base}/data/v{{version}}/",
                 "sobjects": f"{base}/data/v{{version}}/sobjects/", "search": f"{base}/data/v{{version}}/search/",
                 "query": f"{base}/data/v{{version}}/query/", "recent": f"{base}/data/v{{version}}/recent/",
                 "tooling_soap": f"{base}/Soap/T/{{version}}/{org_id}",
                 "tooling_rest": f"{base}/data/v{{version}}/tooling/",
                 "profile": f"{instance}/{user_id}", "custom_domain": instance},
        "active": bool(row["IsActive"]), "user_type": "STANDARD", "language": row["LanguageLocaleKey"] or "en_US",
        "locale": row["LocaleSidKey"] or "en_US", "utcOffset": 0,
        "last_modification_date": row["LastModifiedDate"], "is_app_installed": True,
    }


def routes(org: Org) -> list[Route]:
    async def identity(request: Request) -> Response:
        if not auth.authorized(org, request):
            return auth.invalid_session()
        org_id = records.parse_id(request.path_params["org_id"])
        user_id = records.parse_id(request.path_params["user_id"])
        if org_id != org.org_id or user_id is None:
            return _bad_id()
        with org.lock:
            found = org.conn.execute(f'SELECT {", ".join(_COLUMNS)} FROM "User" WHERE Id = ? AND IsDeleted = 0',
                                     (user_id,)).fetchone()
        if found is None or not found[_COLUMNS.index("IsActive")]:
            return _bad_id()
        instance = f"https://{request.headers.get('host', request.url.netloc)}"
        return Response(json.dumps(identity_body(org, instance, dict(zip(_COLUMNS, found)))), media_type=JSON)

    return [Route("/id/{org_id}/{user_id}", identity, methods=["GET", "POST"])]
