"""Log in at a Salesforce token endpoint (JWT bearer, refresh token); failures say which key to fix and how.

One code path for every org: the token endpoint is `{login_url}/services/oauth2/token`, whatever
the login URL's shape (https://login.salesforce.com, https://test.salesforce.com, a My Domain, or
any other authorization server such as the local org's URL). The JWT's `aud` is the authorization
server Salesforce names for that shape (`audience`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import requests

TOKEN_PATH = "/services/oauth2/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PRODUCTION = "https://login.salesforce.com"
SANDBOX = "https://test.salesforce.com"
# Salesforce accepts an assertion for at most a few minutes; 3 is what its docs show.
ASSERTION_SECONDS = 180


class LoginError(Exception):
    """The token endpoint refused; the message names the slotforce.yml key to fix and what to do."""


@dataclass(frozen=True)
class Session:
    access_token: str
    instance_url: str


def audience(login_url: str) -> str:
    """The JWT `aud` for a login URL: test.salesforce.com for sandboxes and scratch orgs (their My
    Domains too), login.salesforce.com for production My Domains, else the URL itself."""
    parsed = urlparse(login_url)
    host = (parsed.hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith((".sandbox.my.salesforce.com", ".scratch.my.salesforce.com")):
        return SANDBOX
    if host == "login.salesforce.com" or host.endswith(".my.salesforce.com"):
        return PRODUCTION
    return login_url.rstrip("/")


def token_url(login_url: str) -> str:
    return login_url.rstrip("/") + TOKEN_PATH


def jwt_login(session: requests.Session, *, login_url: str, client_id: str, username: str,
              key_file: Path) -> Session:
    """The JWT bearer flow: an assertion signed with the connected app's private key."""
    import jwt

    where = "salesforce.jwt"
    try:
        assertion = jwt.encode({"iss": client_id, "sub": username, "aud": audience(login_url),
                                "exp": int(time.time()) + ASSERTION_SECONDS},
                               key_file.read_bytes(), algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise LoginError(f"{where}.private_key_file: {key_file} is not a PEM RSA private key ({exc}): point it "
                         "at the key whose certificate you uploaded to the connected app (server.key)") from None
    body = _post(session, token_url(login_url), {"grant_type": JWT_BEARER, "assertion": assertion}, where)
    return _session(body, login_url, where, _jwt_advice(client_id, username, key_file, login_url))


def refresh_login(session: requests.Session, *, url: str, client_id: str, refresh_token: str,
                  client_secret: str | None, token_env: str) -> Session:
    """The refresh-token flow: a refresh token the org issued to this connected app."""
    where = "salesforce.refresh"
    form = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    if client_secret:
        form["client_secret"] = client_secret
    body = _post(session, token_url(url), form, where)
    return _session(body, url, where, _refresh_advice(client_id, token_env, url))


def _post(session: requests.Session, url: str, form: dict[str, str], where: str) -> dict:
    try:
        answer = session.post(url, data=form, timeout=30)
    except requests.RequestException as exc:
        raise LoginError(f"{where}: {url} is not reachable ({exc}): check the URL and this host's network "
                         "(and REQUESTS_CA_BUNDLE for a private CA)") from None
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    body["_status"] = answer.status_code
    body["_text"] = answer.text[:300]
    return body


def _session(body: dict, url: str, where: str, advice: dict[str, str]) -> Session:
    if body["_status"] == 200 and body.get("access_token"):
        return Session(body["access_token"], body.get("instance_url") or url.rstrip("/"))
    error, description = body.get("error"), body.get("error_description")
    said = f"{error}: {description}" if error else f"HTTP {body['_status']}: {body['_text']}"
    fix = advice.get(description or "") or advice.get(error or "") or \
        f"{where}: check the connected app and the user in the org"
    raise LoginError(f"{fix} (the token endpoint {token_url(url)} answered {said})")


def _jwt_advice(client_id: str, username: str, key_file: Path, login_url: str) -> dict[str, str]:
    return {
        "invalid_client_id": f"salesforce.jwt.client_id: {client_id} is not the consumer key of a connected app "
                             f"in the org at {login_url}: copy the Consumer Key from the app's settings "
                             "(Setup > App Manager > the app > View > Manage Consumer Details)",
        "invalid assertion": f"salesforce.jwt.private_key_file: the org could not verify the assertion signed "
                             f"with {key_file}: this key does not belong to the certificate uploaded to the "
                             "connected app; upload this key's certificate, or use the key of the uploaded one",
        "audience is invalid": f"salesforce.jwt.login_url: {login_url} is not this org's login URL: use "
                               "https://login.salesforce.com (production), https://test.salesforce.com "
                               "(sandbox, scratch org) or the org's My Domain URL",
        "user hasn't approved this consumer": f"salesforce.jwt.username: {username} is not a user of the org at "
                                              f"{login_url}, or is not pre-authorized for the app: check the "
                                              "username (sandbox usernames end in .<sandbox name>) and, in the "
                                              "app's policies, set Permitted Users to 'Admin approved users are "
                                              "pre-authorized' and add the user's profile or permission set",
        "invalid_app_access": f"salesforce.jwt.username: {username} may not use the app: add the user's profile "
                              "or permission set to the connected app's policies",
        "authentication failure": f"salesforce.jwt.username: {username} cannot log in (inactive, frozen or "
                                  "locked): activate the user in Setup > Users",
        "expired authorization code": "salesforce.jwt: the assertion had expired when the org read it: check this "
                                      "host's clock (NTP)",
    }


def _refresh_advice(client_id: str, token_env: str, url: str) -> dict[str, str]:
    return {
        "invalid_client_id": f"salesforce.refresh.client_id: {client_id} is not the consumer key of a connected "
                             f"app in the org at {url}: copy it from the app's Manage Consumer Details",
        "invalid_client": "salesforce.refresh.client_secret_env: the consumer secret does not match the app's: "
                          "copy it again from the app's Manage Consumer Details",
        "expired access/refresh token": f"salesforce.refresh.refresh_token_env: the refresh token in ${token_env} "
                                        "was revoked, expired or issued to another app: authorize the app "
                                        "again and store the new refresh token",
        "authentication failure": "salesforce.refresh: the refresh token's user cannot log in (inactive, frozen "
                                  "or locked): activate the user in Setup > Users",
    }
