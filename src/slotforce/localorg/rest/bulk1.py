"""Bulk API 1.0 resources (/services/async/XX.X/job/...): HTTP to bulk1.py's model and back, in XML or JSON.

    POST job                                   create (jobInfo XML or JSON)
    GET|POST job/{job}                         jobInfo | close or abort (<state>Closed|Aborted</state>)
    GET|POST job/{job}/batch                   batchInfoList | add a batch (CSV, JSON, or a query's SOQL)
    GET job/{job}/batch/{batch}                batchInfo
    GET job/{job}/batch/{batch}/request        the batch as it was sent
    GET job/{job}/batch/{batch}/result         ingest: the results (CSV/JSON); query: the result ids
    GET job/{job}/batch/{batch}/result/{id}    a query batch's result (CSV/JSON)

The session comes in `X-SFDC-Session` (a bearer token works too). Responses are JSON when the request
says `application/json` (and, for a JSON job, on every batch resource), else XML; errors are
`<error><exceptionCode/><exceptionMessage/></error>` (errors.bulk_error), HTTP 400. Other paths under
/services/async are refused by refusals.py.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from slotforce.localorg import errors
from slotforce.localorg.bulk1 import MAX_BATCH_BYTES, jobs1_of
from slotforce.localorg.errors import BULK_NS, BulkError, SalesforceError
from slotforce.localorg.models import Org
from slotforce.localorg.rest import auth, refusals
from slotforce.localorg.rest.dispatch import MAX_VERSION, MIN_VERSION

JSON = "application/json"  # exactly: salesforce_bulk compares Content-Type with it to choose JSON
XML = "application/xml"
ALL_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"]
_ID = "[0-9A-Za-z]{15,18}"
# Clients poll a batch every 5 s (simple-salesforce) or 10 s (CumulusCI) while it is not done: waiting up
# to this long before answering the POST lets a small batch finish first (its answer still says Queued).
SETTLE_SECONDS = 0.5


def session_user(org: Org, request: Request) -> str | None:
    """The user of the X-SFDC-Session token (or of the bearer token), None when it is unknown or ended."""
    token = request.headers.get("x-sfdc-session", "").strip()
    if not token:
        return auth.session_user(org, request)
    if hmac.compare_digest(token, org.access_token):
        return org.user_id
    return org.oauth.session_user(token) if org.oauth is not None else None


def _wants_json(request: Request) -> bool:
    return "json" in request.headers.get("content-type", "").lower()


def _xml(root: str, fields: dict[str, Any]) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{BULK_NS}">{_elements(fields)}</{root}>')


def _elements(fields: dict[str, Any]) -> str:
    out = []
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str) and name in ("createdDate", "systemModstamp") and value.endswith("+0000"):
            text = value[:-5] + "Z"  # XML dateTime; the JSON twin keeps +0000 as the guide shows
        else:
            text = escape(str(value))
        out.append(f"<{name}>{text}</{name}>")
    return "".join(out)


def _answer(as_json: bool, root: str, body: dict[str, Any], status: int = 200) -> Response:
    if as_json:
        return Response(json.dumps(body), status_code=status, headers={"Content-Type": JSON})
    return Response(_xml(root, body), status_code=status, headers={"Content-Type": XML})


def _error(as_json: bool, exc: SalesforceError) -> Response:
    return Response(errors.bulk_error(exc.error_code, exc.message, as_json=as_json), status_code=exc.status,
                    headers={"Content-Type": JSON if as_json else XML})


def _read_job_info(body: bytes, as_json: bool) -> dict[str, str]:
    """The jobInfo fields the client sent, by name (namespaced XML or JSON)."""
    if as_json:
        try:
            parsed = json.loads(body or b"null")
        except ValueError:
            raise BulkError("Unable to parse the JSON jobInfo", error_code="InvalidJob") from None
        if not isinstance(parsed, dict):
            raise BulkError("The jobInfo must be a JSON object", error_code="InvalidJob")
        return {k: str(v) for k, v in parsed.items() if v is not None}
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise BulkError(f"Failed to parse XML: {exc}", error_code="InvalidXML") from None
    if etree.QName(root).localname != "jobInfo":
        raise BulkError(f"Expected a jobInfo element, found {etree.QName(root).localname}", error_code="InvalidXML")
    return {etree.QName(el).localname: (el.text or "").strip() for el in root if isinstance(el.tag, str)}


def _gunzip(body: bytes) -> bytes:
    """A gzip-compressed batch (Content-Encoding: gzip), inflated no further than a batch may be."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(body, MAX_BATCH_BYTES + 1)
    if len(out) > MAX_BATCH_BYTES:
        raise BulkError(f"Exceeded max size limit of {MAX_BATCH_BYTES}", error_code="InvalidBatch")
    return out


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BulkError("The batch is not UTF-8", error_code="ClientInputError") from None


def _data(payload: str | list | Iterator[bytes]) -> Response:
    if isinstance(payload, str):
        return Response(payload, headers={"Content-Type": "text/csv"})
    if isinstance(payload, Iterator):  # a query's CSV, streamed from its spool
        return StreamingResponse(payload, headers={"Content-Type": "text/csv"})
    return Response(json.dumps(payload), headers={"Content-Type": JSON})


def routes(org: Org) -> list[Route]:
    """Starlette routes for /services/async (app.py puts them before refusals.py's)."""

    def handle(request: Request, body: bytes, version: str, parts: list[str]) -> Response:
        registry = jobs1_of(org)
        method = request.method
        as_json = _wants_json(request)
        if parts == ["job"]:
            if method != "POST":
                raise _method(method, "POST")
            job = registry.create(_read_job_info(body, as_json), version, session_user(org, request) or org.user_id,
                                  pk_chunking=request.headers.get("sforce-enable-pkchunking"))
            return _answer(as_json, "jobInfo", job.info(), 201)
        job = registry.get(parts[1])
        if len(parts) == 2:
            if method == "POST":
                fields = _read_job_info(body, as_json)
                return _answer(as_json, "jobInfo", registry.change_state(job, fields.get("state")).info())
            if method != "GET":
                raise _method(method, "GET, POST")
            return _answer(as_json, "jobInfo", job.info())
        batch_json = as_json or job.content_type == "JSON"
        if len(parts) == 3:
            if method == "POST":
                if request.headers.get("content-encoding", "").lower() == "gzip":
                    body = _gunzip(body)
                batch = registry.add_batch(job, _text(body))
                request.state.settle = batch.finished  # endpoint() waits a little for it
                return _answer(batch_json, "batchInfo", batch.info(), 201)  # Queued, as Salesforce answers
            if method != "GET":
                raise _method(method, "GET, POST")
            infos = [b.info() for b in list(job.batches.values())]
            if batch_json:
                return Response(json.dumps({"batchInfo": infos}), headers={"Content-Type": JSON})
            inner = "".join(f"<batchInfo>{_elements(i)}</batchInfo>" for i in infos)
            return Response(f'<?xml version="1.0" encoding="UTF-8"?><batchInfoList xmlns="{BULK_NS}">{inner}'
                            "</batchInfoList>", headers={"Content-Type": XML})
        if method != "GET":
            raise _method(method, "GET")
        batch = job.batch(parts[3])
        if len(parts) == 4:
            return _answer(batch_json, "batchInfo", batch.info())
        if parts[4] == "request":
            ctype = {"CSV": "text/csv", "JSON": JSON}[job.content_type]
            return Response(batch.request(), headers={"Content-Type": "text/plain" if job.is_query else ctype})
        if len(parts) == 5 and not job.is_query:
            return _data(job.ingest_results(batch))
        if len(parts) == 5:
            job.query_result(batch, batch.result_id or "")  # InvalidBatch until it is Completed
            if job.content_type == "JSON":
                return Response(json.dumps([batch.result_id]), headers={"Content-Type": JSON})
            return Response(f'<?xml version="1.0" encoding="UTF-8"?><result-list xmlns="{BULK_NS}"><result>'
                            f"{batch.result_id}</result></result-list>", headers={"Content-Type": XML})
        if not job.is_query:
            raise BulkError(f"Batch {batch.id} belongs to an ingest job: its results are at .../result",
                            error_code="InvalidBatch")
        return _data(job.query_result(batch, parts[5]))

    async def endpoint(request: Request) -> Response:
        as_json = _wants_json(request)
        if session_user(org, request) is None:
            return _error(as_json, BulkError("Invalid session id", error_code="InvalidSessionId"))
        version = request.path_params["version"]
        m = re.fullmatch(r"(\d+)\.0", version)
        if not m or not MIN_VERSION <= int(m.group(1)) <= MAX_VERSION:
            return _error(as_json, BulkError(f"Invalid API version: {version}", error_code="InvalidVersion"))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BATCH_BYTES:  # refused without holding it in memory
            await refusals.drain(request)
            return _error(as_json, BulkError(f"Exceeded max size limit of {MAX_BATCH_BYTES}", error_code="InvalidBatch"))
        try:
            body = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)
        parts = request.path_params["rest"].strip("/").split("/")
        try:
            org.charge_api_call("bulk")
            answer = handle(request, body, f"{int(m.group(1))}.0", parts)
            settle = getattr(request.state, "settle", None)
            if settle is not None:  # a small batch is done before the client's first poll
                await asyncio.to_thread(settle.wait, SETTLE_SECONDS)
            return answer
        except SalesforceError as exc:
            if not isinstance(exc, BulkError):  # e.g. REQUEST_LIMIT_EXCEEDED
                exc = BulkError(exc.message, error_code=exc.error_code, status=exc.status)
            return _error(as_json or _job_is_json(org, parts), exc)
        except zlib.error as exc:  # a gzip body that is not gzip
            return _error(as_json, BulkError(f"Unable to read the request body: {exc}", error_code="ClientInputError"))

    async def guarded(request: Request) -> Response:
        rest = request.path_params["rest"]
        if not _SHAPES.match(rest):  # no resource the local org serves: refused, naming it
            feature = f"The Bulk API 1.0 resource {rest} (jobs, batches, their requests and results are served)"
            return refusals.bulk1_error(request, refusals.CODE, refusals.unsupported(feature).message)
        return await endpoint(request)

    return [Route("/services/async/{version}/{rest:path}", guarded, methods=ALL_METHODS)]


_SHAPES = re.compile(rf"^job(/{_ID}(/batch(/{_ID}(/request|/result(/{_ID})?)?)?)?)?/?$")


def _job_is_json(org: Org, parts: list[str]) -> bool:
    if len(parts) < 3:
        return False
    found = jobs1_of(org).jobs.get(parts[1])
    return found is not None and found.content_type == "JSON"


def _method(method: str, allowed: str) -> BulkError:
    return BulkError(f"HTTP method '{method}' is not allowed on this resource. Allowed: {allowed}",
                     error_code="InvalidUrl", status=405)
