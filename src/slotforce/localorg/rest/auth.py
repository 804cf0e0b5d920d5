"""OAuth for the local org: bearer-token checks, /services/oauth2/token and /services/oauth2/userinfo.

There is one session: the org's access token (in org.json). The token endpoint hands out that
same token for a refresh_token grant (any refresh token: CumulusCI's refresh step), a
client_credentials grant (running as the admin user) and for a password grant with an active user's username (any password), so every client ends up with a
token that works.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slotforce.localorg import errors
from slotforce.localorg.models import Org


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token:
        return token.strip()
    return None


def authorized(org: Org, request: Request) -> bool:
    token = token_of(request)
    return token is not None and hmac.compare_digest(token, org.access_token)


def invalid_session() -> Response:
    exc = errors.InvalidSessionId("Session expired or invalid")
    return Response(json.dumps([exc.to_json()]), status_code=exc.status, media_type="application/json;charset=UTF-8",
                    headers={"WWW-Authenticate": 'Token realm="slotforce local org"'})


def _oauth_error(exc: errors.OAuthError) -> Response:
    return Response(json.dumps(exc.to_json()), status_code=exc.status, media_type="application/json;charset=UTF-8")


def _instance_url(request: Request) -> str:
    return f"https://{request.headers.get('host', request.url.netloc)}"


def routes(org: Org) -> list[Route]:
    async def token(request: Request) -> Response:
        # x-www-form-urlencoded, parsed here (starlette's form parser needs python-multipart)
        form = dict(urllib.parse.parse_qsl((await request.body()).decode("utf-8", "replace")))
        grant = form.get("grant_type")
        user_id = org.user_id
        if grant == "client_credentials":
            pass  # the connected app's run-as user is the org's admin
        elif grant == "refresh_token":
            if not form.get("refresh_token"):
                return _oauth_error(errors.InvalidGrant("expired access/refresh token"))
        elif grant == "password":
            with org.lock:
                row = org.conn.execute('SELECT Id, IsActive FROM "User" WHERE Username = ? AND IsDeleted = 0',
                                       (form.get("username") or "",)).fetchone()
            if row is None or not row[1]:
                return _oauth_error(errors.InvalidGrant("authentication failure"))
            user_id = row[0]
        else:
            return _oauth_error(errors.UnsupportedGrantType("grant type not supported"))
        instance = _instance_url(request)
        issued = str(int(time.time() * 1000))
        identity = f"{instance}/id/{org.org_id}/{user_id}"
        signature = base64.b64encode(hmac.new(org.access_token.encode(), (identity + issued).encode(),
                                              hashlib.sha256).digest()).decode()
        body = {"access_token": org.access_token, "instance_url": instance, "id": identity,
                "token_type": "Bearer", "issued_at": issued, "signature": signature,
                "scope": "api refresh_token web full"}
        return Response(json.dumps(body), media_type="application/json;charset=UTF-8")

    async def userinfo(request: Request) -> Response:
        if not authorized(org, request):
            return invalid_session()
        with org.lock:
            row = org.conn.execute('SELECT Id, Username, FirstName, LastName, Name, Email FROM "User" WHERE Id = ?',
                                   (org.user_id,)).fetchone()
        user_id, username, first, last, name, email = row
        instance = _instance_url(request)
        base = f"{instance}/services/data/v{{version}}"
        body = {
            "sub": f"{instance}/id/{org.org_id}/{user_id}", "user_id": user_id,
            "organization_id": org.org_id, "preferred_username": username, "nickname": username.split("@")[0],
            "name": name, "email": email, "email_verified": True, "given_name": first, "family_name": last,
            "zoneinfo": "GMT", "photos": {}, "profile": f"{instance}/{user_id}", "picture": None,
            "address": {}, "is_salesforce_integration_user": False,
            "urls": {k: f"{base}/{k}/" for k in ("rest", "sobjects", "query", "recent", "tooling_rest",
                                                  "tooling_soap", "metadata")},
            "active": True, "user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0,
            "updated_at": "2024-01-01T00:00:00Z", "is_app_installed": True,
        }
        body["urls"]["rest"] = f"{base}/"
        body["urls"]["metadata"] = f"{instance}/services/Soap/m/{{version}}/{org.org_id}"
        return Response(json.dumps(body), media_type="application/json;charset=UTF-8")

    return [
        Route("/services/oauth2/token", token, methods=["POST"]),
        Route("/services/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
    ]
