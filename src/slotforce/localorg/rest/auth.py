"""OAuth routes of the local org: bearer-token checks, /services/oauth2/token, /revoke and /userinfo.

The routes only translate: the rules (connected apps, JWT checks, refresh tokens, sessions) live
in oauth.py. Grants at the token endpoint, as Salesforce documents them:

- `urn:ietf:params:oauth:grant-type:jwt-bearer` (assertion): a connected app's signed JWT;
- `refresh_token` (client_id, refresh_token, optional client_secret): a refresh token the org issued
  (`slotforce org connected-app token`);
- `password` (username, password; client_id/client_secret checked when sent): an active user's own
  password — the admin's is in org.json;
- `client_credentials` (client_id, client_secret): a registered connected app; runs as the admin.

Anything else answers Salesforce's OAuth error body, status 400 (`invalid_grant` "authentication
failure", `invalid_client_id`, `invalid_client` "invalid client credentials", `unsupported_grant_type`).

Every grant opens a session (a new access token that ends after `--session-seconds`). The org's
own token from org.json is accepted as well and never ends.
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
from slotforce.localorg.oauth import JWT_BEARER, Grant

JSON = "application/json;charset=UTF-8"


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token:
        return token.strip()
    return None


def session_user(org: Org, request: Request) -> str | None:
    """The user the request's bearer token runs as; None when the token is missing, unknown or ended."""
    token = token_of(request)
    if token is None:
        return None
    if hmac.compare_digest(token, org.access_token):
        return org.user_id
    return org.oauth.session_user(token) if org.oauth is not None else None


def authorized(org: Org, request: Request) -> bool:
    return session_user(org, request) is not None


def invalid_session() -> Response:
    exc = errors.InvalidSessionId("Session expired or invalid")
    return Response(json.dumps([exc.to_json()]), status_code=exc.status, media_type=JSON,
                    headers={"WWW-Authenticate": 'Token realm="slotforce local org"'})


def _oauth_error(exc: errors.OAuthError) -> Response:
    return Response(json.dumps(exc.to_json()), status_code=exc.status, media_type=JSON,
                    headers={"Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private"})


def _instance_url(request: Request) -> str:
    return f"https://{request.headers.get('host', request.url.netloc)}"


async def _form(request: Request) -> dict[str, str]:
    # x-www-form-urlencoded, parsed here (starlette's form parser needs python-multipart)
    form = dict(urllib.parse.parse_qsl((await request.body()).decode("utf-8", "replace")))
    return {**dict(request.query_params), **form}


def _grant(org: Org, form: dict[str, str], instance: str) -> Grant:
    """Who the token request authenticated (an OAuthError says why not)."""
    grant = form.get("grant_type")
    if org.oauth is None:
        raise errors.UnsupportedGrantType("grant type not supported")
    if grant == JWT_BEARER:
        if not form.get("assertion"):
            raise errors.InvalidRequest("assertion is required")
        return org.oauth.jwt_bearer(form["assertion"], instance)
    if grant == "refresh_token":
        return org.oauth.refresh(form.get("client_id"), form.get("refresh_token"), form.get("client_secret"))
    if grant == "password":
        return org.oauth.password(form.get("username"), form.get("password"), form.get("client_id"),
                                  form.get("client_secret"))
    if grant == "client_credentials":
        return org.oauth.client_credentials(form.get("client_id"), form.get("client_secret"))
    raise errors.UnsupportedGrantType("grant type not supported")


def routes(org: Org) -> list[Route]:
    async def token(request: Request) -> Response:
        if request.method != "POST":  # Salesforce's answer to a token request by GET [wording memory]
            return _oauth_error(errors.InvalidRequest("must use HTTP POST"))
        form = await _form(request)
        instance = _instance_url(request)
        try:
            grant = _grant(org, form, instance)
        except errors.OAuthError as exc:
            return _oauth_error(exc)
        access_token = org.oauth.start_session(grant)
        issued = str(int(time.time() * 1000))
        identity = f"{instance}/id/{org.org_id}/{grant.user_id}"
        signature = base64.b64encode(hmac.new(org.access_token.encode(), (identity + issued).encode(),
                                              hashlib.sha256).digest()).decode()
        body = {"access_token": access_token, "instance_url": instance, "id": identity,
                "token_type": "Bearer", "issued_at": issued, "signature": signature,
                "scope": "api refresh_token web full"}
        return Response(json.dumps(body), media_type=JSON)

    async def revoke(request: Request) -> Response:
        form = await _form(request)
        try:
            if org.oauth is None:
                raise errors.InvalidToken()
            org.oauth.revoke(form.get("token"))
        except errors.OAuthError as exc:
            return _oauth_error(exc)
        return Response(status_code=200)

    async def userinfo(request: Request) -> Response:
        user = session_user(org, request)
        if user is None:
            return invalid_session()
        with org.lock:
            row = org.conn.execute('SELECT Id, Username, FirstName, LastName, Name, Email FROM "User" WHERE Id = ?',
                                   (user,)).fetchone()
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
        return Response(json.dumps(body), media_type=JSON)

    return [
        Route("/services/oauth2/token", token, methods=["GET", "POST"]),
        Route("/services/oauth2/revoke", revoke, methods=["GET", "POST"]),
        Route("/services/oauth2/userinfo", userinfo, methods=["GET", "POST"]),
    ]
