"""Bulk API 2.0 query resources (routed by urls.py): jobs/query, a job's state, its results with Sforce-Locator paging."""

from __future__ import annotations

from slotforce.localorg import errors
from slotforce.localorg.bulk_query import QueryJob, query_jobs_of
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse

_DONE = ("JobComplete", "Failed", "Aborted")


def _job(req: ApiRequest) -> QueryJob:
    return query_jobs_of(req.org).get(req.groups["job"])


def jobs(req: ApiRequest) -> ApiResponse:
    """POST creates a query job (200 + job info, state UploadComplete); GET lists them."""
    registry = query_jobs_of(req.org)
    if req.method == "POST":
        return ApiResponse(200, registry.create(req.json_object(), req.version, req.ctx.user_id).info())
    return ApiResponse(200, {"done": True, "records": [j.info() for j in list(registry.jobs.values())],
                             "nextRecordsUrl": None})


def job(req: ApiRequest) -> ApiResponse:
    """GET the job's info, PATCH {"state": "Aborted"}, DELETE it once it is done."""
    found = _job(req)
    if req.method == "PATCH":
        state = req.json_object().get("state")
        if state != "Aborted":
            raise errors.InvalidApiInput(f"Invalid state: {state}. A query job can only be Aborted.")
        if found.state in _DONE:
            raise _wrong_state(found)
        found.state = "Aborted"
        return ApiResponse(200, found.info())
    if req.method == "DELETE":
        if found.state not in _DONE:
            raise _wrong_state(found)
        query_jobs_of(req.org).jobs.pop(found.id, None)
        found.discard()
        return ApiResponse(204)
    return ApiResponse(200, found.info(full=True))


def results(req: ApiRequest) -> ApiResponse:
    """A page of the CSV: `maxRecords` rows from `locator`; Sforce-Locator is `null` on the last page."""
    found = _job(req)
    if found.state != "JobComplete":
        raise _wrong_state(found)
    try:
        start = int(req.params.get("locator") or 0)
        max_records = int(req.params["maxRecords"]) if req.params.get("maxRecords") else None
    except ValueError:
        raise errors.InvalidApiInput("locator and maxRecords must be numbers") from None
    if start < 0 or start > found.count or (max_records is not None and max_records < 1):
        raise errors.InvalidApiInput(f"Invalid locator or maxRecords: {start}, {max_records}")
    pieces, count, locator = found.page(start, max_records)
    return ApiResponse(200, pieces, {"Content-Type": "text/csv", "Sforce-NumberOfRecords": str(count),
                                   "Sforce-Locator": locator or "null"})


def _wrong_state(found: QueryJob) -> errors.SalesforceError:
    return errors.InvalidApiInput(f"Job {found.id} is in state {found.state}", error_code="INVALIDJOBSTATE")


SUBRESOURCES = (("results", "GET", results),)
