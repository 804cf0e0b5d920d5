"""Salesforce's error codes as exceptions that know their HTTP status and JSON shape.

REST answers errors as a list: `[{"message": ..., "errorCode": ..., "fields": [...]}]`; SOAP
answers a fault envelope (`soap_fault`).
Raise one of these anywhere below the routes; the routes turn it into that response. Every
Salesforce-shaped error body the local org answers is built here (`to_json`), none by hand.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape


class SalesforceError(Exception):
    """An error Salesforce would answer with `error_code` and HTTP `status`."""

    error_code = "UNKNOWN_EXCEPTION"
    status = 400

    def __init__(self, message: str, *, fields: list[str] | None = None,
                 error_code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []
        if error_code:
            self.error_code = error_code
        if status:
            self.status = status

    def to_json(self, *, code_first: bool = False) -> dict:
        """One entry of the REST error list (the sObject Collections shape adds `statusCode`).

        Errors of a resource or a save list message first. Those the REST framework answers itself
        (unknown URL or method, server errors, Composite's own checks) list errorCode first, as
        Salesforce sends them: `code_first`.
        """
        body: dict = ({"errorCode": self.error_code, "message": self.message} if code_first
                      else {"message": self.message, "errorCode": self.error_code})
        if self.fields:
            body["fields"] = self.fields
        return body


class InvalidNewPassword(SalesforceError):
    """A password the org's policy refuses (sobjects/User/{id}/password)."""

    error_code = "INVALID_NEW_PASSWORD"


class MalformedQuery(SalesforceError):
    error_code = "MALFORMED_QUERY"


class InvalidField(SalesforceError):
    error_code = "INVALID_FIELD"


class InvalidType(SalesforceError):
    error_code = "INVALID_TYPE"


class InvalidQueryFilterOperator(SalesforceError):
    error_code = "INVALID_QUERY_FILTER_OPERATOR"


class NotImplementedByLocalOrg(SalesforceError):
    """Valid Salesforce input the local org does not implement: refuse, never guess."""

    error_code = "UNSUPPORTED_BY_LOCAL_ORG"


class NotFound(SalesforceError):
    error_code = "NOT_FOUND"
    status = 404

    def __init__(self, message: str = "The requested resource does not exist", **kw) -> None:
        super().__init__(message, **kw)


class InvalidSessionId(SalesforceError):
    error_code = "INVALID_SESSION_ID"
    status = 401


class InvalidInput(SalesforceError):
    error_code = "INVALID_INPUT"


class InvalidApiInput(SalesforceError):
    error_code = "INVALID_API_INPUT"


class InvalidQueryLocator(SalesforceError):
    error_code = "INVALID_QUERY_LOCATOR"


class NumberOutsideValidRange(SalesforceError):
    error_code = "NUMBER_OUTSIDE_VALID_RANGE"


# --- Record save errors (REST status 400 unless noted) -----------------------------------------


class RequiredFieldMissing(SalesforceError):
    error_code = "REQUIRED_FIELD_MISSING"


class StringTooLong(SalesforceError):
    error_code = "STRING_TOO_LONG"


class InvalidFieldForInsertUpdate(SalesforceError):
    error_code = "INVALID_FIELD_FOR_INSERT_UPDATE"


class InvalidTypeOnFieldInRecord(SalesforceError):
    error_code = "INVALID_TYPE_ON_FIELD_IN_RECORD"


class JsonParserError(SalesforceError):
    error_code = "JSON_PARSER_ERROR"


class InvalidOrNullForRestrictedPicklist(SalesforceError):
    error_code = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


class InvalidEmailAddress(SalesforceError):
    error_code = "INVALID_EMAIL_ADDRESS"


class DuplicateValue(SalesforceError):
    error_code = "DUPLICATE_VALUE"


class DuplicateExternalId(DuplicateValue):
    error_code = "DUPLICATE_EXTERNAL_ID"


class MissingArgument(SalesforceError):
    error_code = "MISSING_ARGUMENT"


class InvalidStatus(SalesforceError):
    error_code = "INVALID_STATUS"


class StorageLimitExceeded(SalesforceError):
    error_code = "STORAGE_LIMIT_EXCEEDED"


class InvalidCrossReferenceKey(SalesforceError):
    error_code = "INVALID_CROSS_REFERENCE_KEY"


class FieldIntegrityException(SalesforceError):
    error_code = "FIELD_INTEGRITY_EXCEPTION"


class MalformedId(SalesforceError):
    error_code = "MALFORMED_ID"


class EntityIsDeleted(SalesforceError):
    error_code = "ENTITY_IS_DELETED"
    status = 404


class CannotUpdateConvertedLead(SalesforceError):
    error_code = "CANNOT_UPDATE_CONVERTED_LEAD"


class InactiveOwnerOrUser(SalesforceError):
    error_code = "INACTIVE_OWNER_OR_USER"


class InvalidTypeForOperation(SalesforceError):
    error_code = "INVALID_TYPE_FOR_OPERATION"


class InsufficientAccess(SalesforceError):
    error_code = "INSUFFICIENT_ACCESS_OR_READONLY"


class InsufficientQueryAccess(SalesforceError):
    """WITH SECURITY_ENFORCED naming a field or object the running user cannot read (soql/compiler.py)."""

    error_code = "INSUFFICIENT_ACCESS"
    status = 403


class AllOrNoneRolledBack(SalesforceError):
    error_code = "ALL_OR_NONE_OPERATION_ROLLED_BACK"

    def __init__(self) -> None:
        super().__init__("Record rolled back because not all records were valid and the request was "
                         "using AllOrNone header")


class ProcessingHalted(SalesforceError):
    error_code = "PROCESSING_HALTED"


class LimitExceeded(SalesforceError):
    """A governor limit of one transaction (Apex/Flow: 100 SOQL, 150 DML, 10,000 DML rows), or of one
    request (a Composite's subrequests)."""

    error_code = "LIMIT_EXCEEDED"


# --- Request-level errors ----------------------------------------------------------------------


class RequestLimitExceeded(SalesforceError):
    error_code = "REQUEST_LIMIT_EXCEEDED"
    status = 403


class UnableToLockRow(SalesforceError):
    error_code = "UNABLE_TO_LOCK_ROW"


class MethodNotAllowed(SalesforceError):
    error_code = "METHOD_NOT_ALLOWED"
    status = 405


class ExceededIdLimit(SalesforceError):
    error_code = "EXCEEDED_ID_LIMIT"


class InvalidBatchSize(SalesforceError):
    error_code = "INVALID_BATCH_SIZE"


class RequestEntityTooLarge(SalesforceError):
    error_code = "REQUEST_ENTITY_TOO_LARGE"
    status = 413


# A URI over 16,384 bytes is 414; URI and headers together over that, 431 (Salesforce help 000386264).
class UriTooLong(SalesforceError):
    error_code, status = "URI_TOO_LONG", 414


class RequestHeaderFieldsTooLarge(SalesforceError):
    error_code, status = "REQUEST_HEADER_FIELDS_TOO_LARGE", 431


class UnknownException(SalesforceError):
    """A server error (500): a bug in the local org, or an injected fault."""

    error_code = "UNKNOWN_EXCEPTION"
    status = 500


class ServerUnavailable(SalesforceError):
    error_code = "SERVER_UNAVAILABLE"
    status = 503


class InvalidFault(SalesforceError):
    """A fault rule the local org's control API cannot run (POST /__localorg__/faults)."""

    error_code = "INVALID_FAULT"


# --- OAuth (/services/oauth2/token) ----------------------------------------------------------------


class OAuthError(SalesforceError):
    """OAuth errors have their own shape: {"error": ..., "error_description": ...}."""

    status = 400
    description = ""  # what Salesforce says when there is nothing more to say

    def __init__(self, message: str | None = None, **kw) -> None:
        super().__init__(message or self.description, **kw)

    def to_json(self, *, code_first: bool = False) -> dict:
        return {"error": self.error_code, "error_description": self.message}


class InvalidGrant(OAuthError):
    error_code = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    error_code = "unsupported_grant_type"


class InvalidClientId(OAuthError):
    """The consumer key (JWT `iss`, `client_id`) names no connected app of the org."""

    error_code = "invalid_client_id"

    description = "client identifier invalid"


class InvalidClient(OAuthError):
    """The consumer secret does not match the connected app's."""

    error_code = "invalid_client"

    description = "invalid client credentials"


class InvalidRequest(OAuthError):
    error_code = "invalid_request"


class InvalidToken(OAuthError):
    """/services/oauth2/revoke: the token is not one the org issued (or it is already revoked)."""

    error_code = "invalid_token"

    description = "invalid token"


# --- SOAP faults -----------------------------------------------------------------------------------

PARTNER_FAULT_NS = "urn:fault.partner.soap.sforce.com"  # faults of the SOAP gateway itself (billing)
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"  # faults of the Metadata API's calls


ENTERPRISE_FAULT_NS = "urn:fault.enterprise.soap.sforce.com"
TOOLING_FAULT_NS = "urn:fault.tooling.soap.sforce.com"
APEX_NS = "http://soap.sforce.com/2006/08/apex"


def soap_fault(code: str, message: str, *, sf_namespace: str, detail: str | None = None) -> str:
    """A SOAP fault envelope: `code` is `sf:ERROR_CODE` (the `sf` prefix bound to `sf_namespace`) or
    `soapenv:Client`. `detail` names the API fault type (`UnexpectedErrorFault`, `LoginFault`, ...) whose
    `exceptionCode`/`exceptionMessage` the partner and enterprise APIs add (simple-salesforce reads them)."""
    extra = ""
    if detail:
        exception_code = code.removeprefix("sf:")
        extra = (f'<detail><sf:{detail} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 f'xsi:type="sf:{detail}"><sf:exceptionCode>{escape(exception_code)}</sf:exceptionCode>'
                 f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:{detail}></detail>")
    return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            f'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="{sf_namespace}">'
            f"<soapenv:Body><soapenv:Fault><faultcode>{escape(code)}</faultcode><faultstring>{escape(message)}"
            f"</faultstring>{extra}</soapenv:Fault></soapenv:Body></soapenv:Envelope>")


# --- Bulk API 1.0 (/services/async) errors ----------------------------------------------------------

BULK_NS = "http://www.force.com/2009/06/asyncapi/dataload"


class BulkError(SalesforceError):
    """A Bulk API 1.0 error: `error_code` is its exceptionCode (InvalidJob, InvalidBatch, InvalidJobState,
    InvalidXML, ...); rest/bulk1.py answers it as `bulk_error`, HTTP 400 unless `status` says otherwise."""

    error_code = "InvalidJob"


def bulk_error(code: str, message: str, *, as_json: bool = False) -> str:
    """A Bulk API 1.0 error body: `<error><exceptionCode/><exceptionMessage/></error>` (or its JSON twin)."""
    if as_json:
        return json.dumps({"exceptionCode": code, "exceptionMessage": message})
    return (f'<?xml version="1.0" encoding="UTF-8"?><error xmlns="{BULK_NS}"><exceptionCode>{escape(code)}'
            f"</exceptionCode><exceptionMessage>{escape(message)}</exceptionMessage></error>")
