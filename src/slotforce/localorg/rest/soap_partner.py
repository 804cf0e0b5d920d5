"""The SOAP partner API (/services/Soap/u/XX.X): `login` (jsforce's conn.login, simple-salesforce's
SalesforceLogin), every other call refused with a SOAP fault naming it.

Login takes a username and a password: an active user's own password (the admin's is in org.json),
as the OAuth password grant checks it; anything else is the INVALID_LOGIN fault. The session is the
org's one access token. Faults carry the partner API's detail element
(LoginFault, InvalidSessionFault, UnexpectedErrorFault) with exceptionCode/exceptionMessage.
"""

from __future__ import annotations

import hmac
import re
from xml.sax.saxutils import escape

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slotforce.localorg import errors, mdxml
from slotforce.localorg.models import Org
from slotforce.localorg.rest.refusals import ALL_METHODS, XML, soap_refusal

PARTNER_NS = "urn:partner.soap.sforce.com"
_USER = ("Id", "Username", "Name", "Email", "IsActive", "ProfileId", "TimeZoneSidKey", "LanguageLocaleKey",
         "LocaleSidKey")


def _fault(code: str, message: str, detail: str) -> Response:
    return Response(errors.soap_fault(f"sf:{code}", f"{code}: {message}", sf_namespace=errors.PARTNER_FAULT_NS,
                                      detail=detail), status_code=500, media_type=XML)


def _el(tag: str, value) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>" if value is not None else f'<{tag} xsi:nil="true"/>'


def _login_response(org: Org, instance: str, version: str, user: dict) -> str:
    info = "".join(_el(k, v) for k, v in (
        ("accessibilityMode", False), ("currencySymbol", "$"), ("orgAttachmentFileSizeLimit", 5242880),
        ("orgDefaultCurrencyIsoCode", "USD"), ("orgDisallowHtmlAttachments", False), ("orgHasPersonAccounts", False),
        ("organizationId", org.org_id), ("organizationMultiCurrency", False), ("organizationName", "slotforce local org"),
        ("profileId", user["ProfileId"]), ("roleId", None), ("sessionSecondsValid", 7200),
        ("userDefaultCurrencyIsoCode", None), ("userEmail", user["Email"]), ("userFullName", user["Name"]),
        ("userId", user["Id"]), ("userLanguage", user["LanguageLocaleKey"] or "en_US"),
        ("userLocale", user["LocaleSidKey"] or "en_US"), ("userName", user["Username"]),
        ("userTimeZone", user["TimeZoneSidKey"] or "GMT"), ("userType", "Standard"), ("userUiSkin", "Theme3")))
    result = "".join((
        _el("metadataServerUrl", f"{instance}/services/Soap/m/{version}/{org.org_id}"),
        _el("passwordExpired", False), _el("sandbox", False),
        _el("serverUrl", f"{instance}/services/Soap/u/{version}/{org.org_id}"), _el("sessionId", org.access_token),
        _el("userId", user["Id"]), f"<userInfo>{info}</userInfo>"))
    return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            f'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="{PARTNER_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
            f"{result}</result></loginResponse></soapenv:Body></soapenv:Envelope>")


def _login(org: Org, request: Request, version: str, call) -> Response:
    username = mdxml.text(call, "username", "") or ""
    if not username or mdxml.first(call, "password") is None:
        return _fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.", "LoginFault")
    with org.lock:
        row = org.conn.execute(f'SELECT {", ".join(_USER)} FROM "User" WHERE Username = ? AND IsDeleted = 0',
                               (username,)).fetchone()
    if (row is None or not row[_USER.index("IsActive")]
            or not org.password_matches(row[0], mdxml.text(call, "password", ""))):
        return _fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.", "LoginFault")
    instance = f"https://{request.headers.get('host', request.url.netloc)}"
    return Response(_login_response(org, instance, version, dict(zip(_USER, row))), media_type=XML)


def routes(org: Org) -> list[Route]:
    async def partner(request: Request) -> Response:
        m = re.match(r"(\d+\.\d)", request.path_params.get("rest", ""))
        version = m.group(1) if m else "62.0"
        if request.method != "POST":
            return _fault("INVALID_OPERATION", "The SOAP partner API takes POST requests", "UnexpectedErrorFault")
        try:
            root = etree.fromstring(await request.body(), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            return Response(errors.soap_fault("soapenv:Client", f"The request is not valid XML: {exc.msg}",
                                              sf_namespace=errors.PARTNER_FAULT_NS), status_code=500, media_type=XML)
        body = mdxml.first(root, "Body")
        call = next(iter(mdxml.elements(body)), None) if body is not None else None
        if call is None:
            return Response(errors.soap_fault("soapenv:Client", "The SOAP body is empty",
                                              sf_namespace=errors.PARTNER_FAULT_NS), status_code=500, media_type=XML)
        op = mdxml.local_name(call)
        if op == "login":
            return _login(org, request, version, call)
        header = mdxml.first(root, "Header")
        session = mdxml.first(header, "SessionHeader") if header is not None else None
        token = (mdxml.text(session, "sessionId", "") or "") if session is not None else ""
        if not token or not hmac.compare_digest(token.encode(), org.access_token.encode()):
            return _fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session",
                          "InvalidSessionFault")
        return soap_refusal("The SOAP partner API", errors.PARTNER_FAULT_NS, f"call {op}; only login is served")

    return [Route("/services/Soap/u/{rest:path}", partner, methods=ALL_METHODS)]
