"""The Metadata SOAP endpoint: envelope in, envelope out (deploy, checkDeployStatus, cancelDeploy).

Result elements are unprefixed in the metadata namespace, as Salesforce sends them: CumulusCI reads
them with getElementsByTagName("id"/"done"/"status"/...), which matches qualified names only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from xml.sax.saxutils import escape

from lxml import etree

from .. import mdxml
from ..errors import METADATA_NS, soap_fault
from .models import BOOLEAN_DEPLOY_OPTIONS, DeployResult, attach

MD = METADATA_NS
# The Metadata API's other calls: real, so refused by name rather than "no operation available".
METADATA_OPERATIONS = frozenset((
    "retrieve", "checkRetrieveStatus", "listMetadata", "describeMetadata", "describeValueType", "readMetadata",
    "createMetadata", "updateMetadata", "upsertMetadata", "deleteMetadata", "renameMetadata",
    "deployRecentValidation"))
_ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
             'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="' + MD + '" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>')


def fault(code: str, message: str) -> tuple[int, str]:
    return 500, soap_fault(code, message, sf_namespace=MD)


def _el(tag: str, value) -> str:
    if value is None:
        return f'<{tag} xsi:nil="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _find(root, *path: str):
    """The element at `path` below `root` (local names), or None."""
    node = root
    for name in path:
        node = mdxml.first(node, name)
        if node is None:
            return None
    return node


def soap_endpoint(org, body: bytes, headers: dict | None = None) -> tuple[int, str]:
    """Handle one POST to /services/Soap/m/XX.X[/orgId]: (HTTP status, SOAP XML)."""
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        return fault("soapenv:Client", f"The request is not valid XML: {exc.msg}")
    session = _find(root, "Header", "SessionHeader", "sessionId")
    token = (session.text or "").strip() if session is not None else ""
    live = hmac.compare_digest(token.encode(), str(org.access_token).encode()) or (
        org.oauth is not None and org.oauth.session_user(token) is not None)  # a session the token endpoint opened
    if not token or not live:
        return fault("sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: "
                                              "Illegal Session")
    body_el = _find(root, "Body")
    call = next(iter(mdxml.elements(body_el)), None) if body_el is not None else None
    if call is None:
        return fault("soapenv:Client", "The SOAP body is empty")
    service = attach(org)
    op = mdxml.local_name(call)
    if op == "deploy":
        return _deploy(service, call)
    if op in ("checkDeployStatus", "cancelDeploy"):
        return _deploy_status(service, call, op)
    if op in METADATA_OPERATIONS:
        return fault("sf:UNSUPPORTED_BY_LOCAL_ORG", f"UNSUPPORTED_BY_LOCAL_ORG: the Metadata API call {op} is not "
                                                    "supported by the local org (supported: deploy, "
                                                    "checkDeployStatus, cancelDeploy)")
    return fault("soapenv:Client", f"No operation available for request {{{MD}}}{op}")


def _deploy(service, call) -> tuple[int, str]:
    """deploy(ZipFile, DeployOptions): queue the deploy, answer its id."""
    zip_el = _find(call, "ZipFile")
    try:
        data = base64.b64decode((zip_el.text or "") if zip_el is not None else "", validate=False)
    except (binascii.Error, ValueError):
        return fault("sf:INVALID_ZIP", "ZipFile is not valid base64")
    options = {}
    opts = _find(call, "DeployOptions")
    if opts is not None:
        for c in opts:
            name = mdxml.local_name(c)
            if name in BOOLEAN_DEPLOY_OPTIONS:
                options[name] = (c.text or "").strip().lower() == "true"
            elif name:
                options.setdefault(name, (c.text or "").strip())
    result = service.deploy(data, options)
    return 200, _ENVELOPE.format(f"<deployResponse><result>{_el('done', False)}{_el('id', result.id)}"
                                 f"{_el('state', 'Queued')}</result></deployResponse>")


def _deploy_status(service, call, op: str) -> tuple[int, str]:
    """checkDeployStatus(asyncProcessId, includeDetails) or cancelDeploy(String) of an earlier deploy."""
    id_el = _find(call, "asyncProcessId") if op == "checkDeployStatus" else _find(call, "String")
    if id_el is None:
        id_el = next(iter(mdxml.elements(call)), None)
    deploy_id = (id_el.text or "").strip() if id_el is not None else ""
    result = service.result(deploy_id)
    if result is None:
        return fault("sf:INVALID_ID_FIELD", f"INVALID_ID_FIELD: invalid deploy id: {deploy_id}")
    if op == "cancelDeploy":
        return 200, _ENVELOPE.format(f"<cancelDeployResponse><result>{_el('done', True)}{_el('id', result.id)}"
                                     "</result></cancelDeployResponse>")
    details = _find(call, "includeDetails")
    include = details is None or (details.text or "").strip().lower() != "false"
    return 200, _ENVELOPE.format(f"<checkDeployStatusResponse>{render_result(result, include)}"
                                 "</checkDeployStatusResponse>")


def render_result(r: DeployResult, include_details: bool = True) -> str:
    parts = [_el("checkOnly", r.check_only), _el("completedDate", r.completed_date), _el("createdBy", "005000000000001AAA"),
             _el("createdByName", "Local Admin"), _el("createdDate", r.created_date)]
    if include_details:
        details = []
        for c in r.components:
            inner = [_el("changed", c.changed), _el("componentType", c.component_type), _el("created", c.created),
                     _el("createdDate", r.created_date), _el("deleted", c.deleted), _el("fileName", c.file_name),
                     _el("fullName", c.full_name)]
            if not c.success:
                if c.line:
                    inner.append(_el("lineNumber", c.line))
                    inner.append(_el("columnNumber", c.column or 1))
                inner += [_el("problem", c.problem), _el("problemType", "Error")]
            inner.append(_el("success", c.success))
            tag = "componentSuccesses" if c.success else "componentFailures"
            details.append(f"<{tag}>{''.join(inner)}</{tag}>")
        details.append("<runTestResult><numFailures>0</numFailures><numTestsRun>0</numTestsRun>"
                       "<totalTime>0.0</totalTime></runTestResult>")
        parts.append(f"<details>{''.join(details)}</details>")
    parts += [_el("done", r.done)]
    if r.error_message:
        parts.append(_el("errorMessage", r.error_message))
        parts.append(_el("errorStatusCode", "UNKNOWN_EXCEPTION"))
    parts += [_el("id", r.id), _el("ignoreWarnings", r.ignore_warnings), _el("lastModifiedDate", r.completed_date),
              _el("numberComponentErrors", len(r.failures)), _el("numberComponentsDeployed", len(r.successes)),
              _el("numberComponentsTotal", len(r.components)), _el("numberTestErrors", 0),
              _el("numberTestsCompleted", 0), _el("numberTestsTotal", 0),
              _el("rollbackOnError", r.rollback_on_error), _el("runTestsEnabled", False),
              _el("startDate", r.created_date), _el("status", r.status), _el("success", r.success)]
    return f"<result>{''.join(parts)}</result>"
