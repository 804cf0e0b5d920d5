"""Bulk API 2.0 ingest resources (routed by urls.py): jobs/ingest, its batches, state and results CSVs."""

from __future__ import annotations

from slotforce.localorg import errors
from slotforce.localorg.bulk_jobs import Job, jobs_of
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse

CSV = "text/csv"


def _job(req: ApiRequest) -> Job:
    return jobs_of(req.org).get(req.groups["job"])


def jobs(req: ApiRequest) -> ApiResponse:
    """POST creates a job (200 + job info); GET lists the org's ingest jobs."""
    registry = jobs_of(req.org)
    if req.method == "POST":
        body = req.json_object()
        job = registry.create(body, req.version, req.ctx.user_id)
        return ApiResponse(200, job.info())
    listed = [j.info() for j in list(registry.jobs.values())]
    return ApiResponse(200, {"done": True, "records": listed, "nextRecordsUrl": None})


def job(req: ApiRequest) -> ApiResponse:
    """GET the job's info and counters, PATCH its state, DELETE it."""
    found = _job(req)
    registry = jobs_of(req.org)
    if req.method == "PATCH":
        return ApiResponse(200, registry.change_state(found, req.json_object().get("state")))
    if req.method == "DELETE":
        registry.delete(found)
        return ApiResponse(204)
    return ApiResponse(200, found.info(full=True))


def batches(req: ApiRequest) -> ApiResponse:
    """PUT the job's CSV (text/csv): 201, no body."""
    found = _job(req)
    content_type = req.headers.get("content-type", CSV).split(";")[0].strip().lower()
    if content_type != CSV:
        raise errors.InvalidApiInput(f"Unsupported content type {content_type}: the job's content type is CSV",
                                     error_code="INVALIDCONTENTTYPE")
    try:
        text = req.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.InvalidApiInput("The CSV is not UTF-8", error_code="CLIENTINPUTERROR") from None
    jobs_of(req.org).upload(found, text)
    return ApiResponse(201)


def _finished(found: Job) -> None:
    if found.state not in ("JobComplete", "Failed", "Aborted"):
        raise errors.InvalidApiInput(f"Job {found.id} is in state {found.state}: results are available once the "
                                     "job is JobComplete, Failed or Aborted", error_code="INVALIDJOBSTATE")


def successful(req: ApiRequest) -> ApiResponse:
    found = _job(req)
    _finished(found)
    return _csv(found.succeeded.pieces(["sf__Id", "sf__Created", *found.columns]))


def failed(req: ApiRequest) -> ApiResponse:
    found = _job(req)
    _finished(found)
    return _csv(found.failed.pieces(["sf__Id", "sf__Error", *found.columns]))


def unprocessed(req: ApiRequest) -> ApiResponse:
    found = _job(req)
    _finished(found)
    if not found.columns:  # the job failed before its header was read: what was sent
        return _csv(found.data)
    return _csv(found.unprocessed.pieces(found.columns))


def _csv(body) -> ApiResponse:
    return ApiResponse(200, body, {"Content-Type": CSV})


SUBRESOURCES = (("batches", "PUT", batches), ("successfulResults", "GET", successful),
                ("failedResults", "GET", failed), ("unprocessedrecords", "GET", unprocessed))
