"""The one module that talks to Salesforce: Composite calls and describe via simple-salesforce.

It knows Salesforce's error codes and says whether a failure is transient (retry the batch
later: row locks, limits, outages, expired sessions) or permanent (the data or the org setup
is wrong: retrying will fail the same way). It counts the HTTP requests it makes, which is what
Salesforce bills against the daily API limit (one Composite = one call).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError as SimpleSalesforceError

from slotforce.sync.describe import SObjectInfo
from slotforce.sync.requests import CompositeCall, Subrequest, data_url

TRANSIENT_CODES = frozenset({
    "UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "QUERY_TIMEOUT",
    "INVALID_SESSION_ID", "REQUEST_RUNNING_TOO_LONG", "CONCURRENT_REQUESTS_LIMIT_EXCEEDED",
    "TXN_SECURITY_METERING_ERROR", "UNKNOWN_EXCEPTION", "OPERATION_TOO_LARGE",
})
# Consequences of another subrequest's failure, not causes of their own.
KNOCK_ON_CODES = frozenset({"PROCESSING_HALTED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"})


def is_transient(code: str | None, status: int | None = None) -> bool:
    if code in TRANSIENT_CODES:
        return True
    return status is not None and (status >= 500 or status in (401, 408, 429))


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str
    fields: tuple[str, ...] = ()
    duplicate_ids: tuple[str, ...] = ()  # DUPLICATES_DETECTED: the matching records

    @classmethod
    def from_json(cls, e: dict[str, Any]) -> "ApiError":
        dup = []
        for match in ((e.get("duplicateResult") or {}).get("matchResults") or []):
            for rec in match.get("matchRecords") or []:
                rid = (rec.get("record") or {}).get("Id")
                if rid:
                    dup.append(rid)
        return cls(code=e.get("errorCode") or e.get("statusCode") or "UNKNOWN", message=e.get("message", ""),
                   fields=tuple(e.get("fields") or ()), duplicate_ids=tuple(dup))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" [{', '.join(self.fields)}]" if self.fields else "")


def errors_from(body: Any) -> list[ApiError]:
    if isinstance(body, list):
        return [ApiError.from_json(e) for e in body if isinstance(e, dict)]
    if isinstance(body, dict) and "errors" in body:
        return [ApiError.from_json(e) for e in body.get("errors") or []]
    if isinstance(body, dict) and ("errorCode" in body or "message" in body):
        return [ApiError.from_json(body)]
    return []


@dataclass
class SubResult:
    reference_id: str
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def errors(self) -> list[ApiError]:
        return [] if self.ok else errors_from(self.body)

    def items(self) -> list["CollectionsItem"]:
        """Per-record results of a Collections subrequest."""
        if self.ok and not isinstance(self.body, list):
            return []
        if not self.ok:
            return [CollectionsItem(None, False, self.errors or [ApiError("UNKNOWN", f"HTTP {self.status}")])]
        return [CollectionsItem(i.get("id"), bool(i.get("success")), [ApiError.from_json(e) for e in i.get("errors") or []],
                           i.get("created")) for i in self.body]


@dataclass
class CollectionsItem:
    """One record's answer in an sObject Collections response."""

    id: str | None
    success: bool
    errors: list[ApiError] = field(default_factory=list)
    created: bool | None = None


class SalesforceCallError(Exception):
    """A whole call failed; `transient` tells the outbox whether to retry the batch later."""

    def __init__(self, what: str, errors: list[ApiError], status: int | None, transient: bool):
        self.errors, self.status, self.transient = errors, status, transient
        detail = "; ".join(str(e) for e in errors) or "no error details"
        hint = "will retry" if transient else "fix the cause, then replay"
        super().__init__(f"{what} failed (HTTP {status}): {detail} ({hint})")


class Gateway:
    def __init__(self, sf: Salesforce, api_version: str | None = None):
        self.sf = sf
        self.api_version = api_version or getattr(sf, "sf_version", "62.0")
        self.calls = 0  # HTTP requests made (each is one API call)

    def restful(self, path: str, what: str, **kwargs: Any) -> Any:
        """One REST call under /services/data/vXX.X/, counted; `what` names it in a SalesforceCallError."""
        self.calls += 1
        try:
            return self.sf.restful(path, **kwargs)
        except SimpleSalesforceError as err:
            content = err.content
            try:
                body = json.loads(content) if isinstance(content, (bytes, str)) else content
            except ValueError:
                body = {"message": str(content)[:500]}
            errs = errors_from(body)
            code = errs[0].code if errs else None
            raise SalesforceCallError(what, errs, err.status, is_transient(code, err.status)) from err
        except requests.RequestException as err:
            raise SalesforceCallError(what, [ApiError("CONNECTION_ERROR", str(err))], None, True) from err

    def composite(self, call: CompositeCall) -> dict[str, SubResult]:
        if not call.subrequests:
            return {}
        answer = self.restful("composite", "Composite request", method="POST", json=call.body())
        out = {}
        for item in (answer or {}).get("compositeResponse", []):
            out[item["referenceId"]] = SubResult(item["referenceId"], int(item.get("httpStatusCode", 0)), item.get("body"))
        return out

    def query(self, text: str) -> dict[str, Any]:
        return self.restful("query", "Query", params={"q": text}) or {}

    def describe(self, names: list[str]) -> dict[str, SObjectInfo]:
        """Describe several objects in one Composite call (single calls if the server refuses)."""
        if not names:
            return {}
        call = CompositeCall()
        for n in names:
            call.add(Subrequest("GET", data_url(self.api_version, f"sobjects/{n}/describe"), f"describe_{n}"))
        out: dict[str, SObjectInfo] = {}
        retry: list[str] = []
        try:
            results = self.composite(call)
        except SalesforceCallError as err:
            if err.transient:
                raise
            results = {}
        for n in names:
            r = results.get(f"describe_{n}")
            if r is not None and r.ok and isinstance(r.body, dict) and "fields" in r.body:
                out[n] = SObjectInfo.from_describe(r.body)
            elif r is None or r.status not in (404,):
                retry.append(n)
        for n in retry:
            try:
                body = self.restful(f"sobjects/{n}/describe", f"Describe {n}")
            except SalesforceCallError as err:
                if err.transient:
                    raise
                continue  # the object does not exist in this org: its fields are all "missing"
            out[n] = SObjectInfo.from_describe(body)
        return out
