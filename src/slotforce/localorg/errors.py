"""Salesforce's error codes as exceptions that know their HTTP status and JSON shape.

REST answers errors as a list: `[{"message": ..., "errorCode": ..., "fields": [...]}]`.
Raise one of these anywhere below the routes; the routes turn it into that response.
"""

from __future__ import annotations


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

    def to_json(self) -> dict:
        """One entry of the REST error list (the sObject Collections shape adds `statusCode`)."""
        body: dict = {"message": self.message, "errorCode": self.error_code}
        if self.fields:
            body["fields"] = self.fields
        return body


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


class InvalidSessionId(SalesforceError):
    error_code = "INVALID_SESSION_ID"
    status = 401
