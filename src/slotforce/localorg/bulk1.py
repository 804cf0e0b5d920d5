"""Bulk API 1.0 jobs and batches (/services/async): the model rest/bulk1.py answers in XML or JSON.

A job (jobInfo) is Open while batches are added, then Closed or Aborted. A batch (batchInfo) is
Queued when added; the org's Bulk API 1.0 worker thread takes batches in the order they came,
InProgress -> Completed, or Failed when its CSV or SOQL is wrong; a batch still Queued when its job
is aborted is `Not Processed`. Ingest batches (insert, update, upsert, delete, hardDelete) save
through bulk_jobs.save_chunk, as Bulk API 2.0 jobs do: chunks of 200 records, each its own
transaction with partial success, so Flows and triggers run once per chunk (as Salesforce processes
a batch). Query batches (query, queryAll) run their SOQL and keep one result.

Shapes and codes: Bulk API Developer Guide (asynch_api_reference_jobinfo, asynch_api_reference_batchinfo,
asynch_api_batches_get_info_all, asynch_api_batches_get_results, asynch_api_bulk_query_results,
asynch_api_reference_errors); what clients read: salesforce_bulk 2.2 (`SalesforceBulk`) and CumulusCI 4.10
`tasks/bulkdata/step.py` (BulkApiDmlOperation, BulkApiQueryOperation). Error wording [memory].
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import queue
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from slotforce.localorg import errors, records, store
from slotforce.localorg.bulk_jobs import (CHUNK, BadCsv, BulkJob, CsvSpool, JobRegistry, csv_record, error_text,
                                          new_job_id, parse_csv, save_chunk)
from slotforce.localorg.bulk_query import flat_cell, flat_paths
from slotforce.localorg.errors import BulkError, SalesforceError
from slotforce.localorg.models import Org
from slotforce.localorg.query_columns import query_columns
from slotforce.localorg.values import format_datetime_millis

INGEST = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY = ("query", "queryAll")
CONTENT_TYPES = ("CSV", "JSON")
REFUSED_CONTENT_TYPES = ("XML", "ZIP_CSV", "ZIP_XML", "ZIP_JSON")  # valid in Salesforce, not served here
MAX_BATCH_BYTES = 10_000_000  # "a batch can contain a maximum of 10,000,000 characters" (Bulk API limits)
MAX_BATCH_RECORDS = 10_000
NO_RECORDS = "Records not found for this query"
RESULT_HEADER = ["Id", "Success", "Created", "Error"]  # an ingest batch's CSV results  # the CSV result of a query that found nothing
_batch_ids = itertools.count(1)
_result_ids = itertools.count(1)


class BatchState:
    QUEUED, IN_PROGRESS, COMPLETED, FAILED, NOT_PROCESSED = "Queued", "InProgress", "Completed", "Failed", "Not Processed"


class JobState:
    OPEN, CLOSED, ABORTED, FAILED = "Open", "Closed", "Aborted", "Failed"


@dataclasses.dataclass(kw_only=True)
class Outcome:
    """One ingest record's result row: `Id`, `Success`, `Created`, `Error`."""

    id: str
    success: bool
    created: bool
    errors: list[SalesforceError]


@dataclasses.dataclass(kw_only=True)
class Batch:
    """One batch: what was sent (`data`: CSV, JSON or SOQL), its state, and what it did."""

    id: str
    job_id: str
    created: str
    data: str
    state: str = BatchState.QUEUED
    state_message: str | None = None
    modstamp: str = ""
    processed: int = 0
    failed: int = 0
    processing_ms: int = 0
    outcomes: list[Outcome] = dataclasses.field(default_factory=list)  # a JSON job's results
    results: CsvSpool | None = None  # a CSV job's results (`Id`, `Success`, `Created`, `Error`), in a file
    sent: IO[bytes] | None = None  # the request, once run: in a file (a 1,000,000-record load is 100 batches)
    result_id: str | None = None  # query batches: the one result they keep
    header: list[str] = dataclasses.field(default_factory=list)
    rows: CsvSpool | None = None  # a CSV query's rows, in a temporary file (results can be millions of rows)
    records: list[dict] = dataclasses.field(default_factory=list)
    finished: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)

    def request(self) -> str:
        """The batch as it was sent."""
        if self.sent is None:
            return self.data
        return os.pread(self.sent.fileno(), os.fstat(self.sent.fileno()).st_size, 0).decode()

    def keep_request(self) -> None:
        """Move what was sent from memory to an unnamed temporary file."""
        if self.data:
            self.sent = tempfile.TemporaryFile(prefix="slotforce-bulk1-")
            self.sent.write(self.data.encode())
            self.sent.flush()
            self.data = ""

    def info(self) -> dict[str, Any]:
        """batchInfo, in the guide's element order."""
        out: dict[str, Any] = {"id": self.id, "jobId": self.job_id, "state": self.state}
        if self.state_message:
            out["stateMessage"] = self.state_message
        out.update(createdDate=self.created, systemModstamp=self.modstamp or self.created,
                   numberRecordsProcessed=self.processed, numberRecordsFailed=self.failed,
                   totalProcessingTime=self.processing_ms, apiActiveProcessingTime=self.processing_ms,
                   apexProcessingTime=0)
        return out


@dataclasses.dataclass(kw_only=True)
class Job1(BulkJob):
    """One Bulk API 1.0 job and its batches (in the order they were added)."""

    content_type: str = "CSV"
    concurrency: str = "Parallel"
    external_id: str | None = None
    batches: dict[str, Batch] = dataclasses.field(default_factory=dict)

    @property
    def is_query(self) -> bool:
        return self.operation in QUERY

    def info(self) -> dict[str, Any]:
        """jobInfo, in the guide's element order."""
        states = [b.state for b in self.batches.values()]
        out: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": self.user_id,
            "createdDate": self.created, "systemModstamp": self.modstamp or self.created, "state": self.state}
        if self.external_id:
            out["externalIdFieldName"] = self.external_id
        out.update(
            concurrencyMode=self.concurrency, contentType=self.content_type,
            numberBatchesQueued=states.count(BatchState.QUEUED),
            numberBatchesInProgress=states.count(BatchState.IN_PROGRESS),
            numberBatchesCompleted=states.count(BatchState.COMPLETED),
            numberBatchesFailed=states.count(BatchState.FAILED), numberBatchesTotal=len(states),
            numberRecordsProcessed=sum(b.processed for b in self.batches.values()), numberRetries=0,
            apiVersion=float(self.version), numberRecordsFailed=sum(b.failed for b in self.batches.values()),
            totalProcessingTime=sum(b.processing_ms for b in self.batches.values()),
            apiActiveProcessingTime=sum(b.processing_ms for b in self.batches.values()), apexProcessingTime=0)
        return out

    def batch(self, batch_id: str) -> Batch:
        found = self.batches.get(batch_id)
        if found is None:
            raise BulkError(f"Unable to find object: {batch_id}", error_code="InvalidBatch")
        return found

    def ingest_results(self, batch: Batch) -> Iterator[bytes] | list[dict]:
        """A completed ingest batch's results: the CSV (`Id`, `Success`, `Created`, `Error`, every field
        quoted) or, for a JSON job, the list of `{success, created, id, errors}`."""
        _completed(batch)
        if self.content_type == "JSON":
            return [{"success": o.success, "created": o.created, "id": o.id or None,
                     "errors": [{"fields": e.fields, "message": e.message, "statusCode": e.error_code}
                                for e in o.errors]} for o in batch.outcomes]
        return (batch.results or CsvSpool()).pieces(RESULT_HEADER)

    def query_result(self, batch: Batch, result_id: str) -> str | list[dict] | Iterator[bytes]:
        """A query batch's result: CSV (one column per SELECT item, parent fields dotted), or the
        records for a JSON job."""
        _completed(batch)
        if result_id != batch.result_id:
            raise BulkError(f"Unable to find object: {result_id}", error_code="InvalidBatch")
        if self.content_type == "JSON":
            return batch.records
        if batch.rows is None or not batch.rows.count:
            return NO_RECORDS
        return batch.rows.pieces(batch.header)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _completed(batch: Batch) -> None:
    if batch.state != BatchState.COMPLETED:
        raise BulkError(f"Batch not completed: batch {batch.id} is {batch.state}"
                        + (f" ({batch.state_message})" if batch.state_message else ""), error_code="InvalidBatch")


class Jobs1(JobRegistry):
    """The org's Bulk API 1.0 jobs, and the one worker thread that runs their batches in order."""

    key = "bulk1_jobs"

    def __init__(self, org: Org) -> None:
        super().__init__(org)
        self.pending: queue.Queue[tuple[Job1, Batch]] = queue.Queue()
        self.worker: threading.Thread | None = None

    def now(self) -> str:
        return format_datetime_millis(self.org.clock())

    def get(self, job_id: str) -> Job1:
        found = self.jobs.get(job_id)
        if found is None:
            raise BulkError(f"Unable to find object: {job_id}", error_code="InvalidJob")
        return found

    def create(self, fields: dict[str, str], version: str, user_id: str, *, pk_chunking: str | None = None) -> Job1:
        """A new Open job from the jobInfo the client sent (XML or JSON, already read into `fields`)."""
        operation = fields.get("operation")
        if not operation:
            raise BulkError("Job operation is required: one of " + ", ".join(INGEST + QUERY))
        if operation not in INGEST + QUERY:
            raise BulkError(f"Invalid operation: {operation}. Use one of " + ", ".join(INGEST + QUERY),
                            error_code="InvalidOperation" if operation else "InvalidJob")
        name = fields.get("object") or ""
        s = self.org.schema.get(name) if name else None
        if s is None:
            raise BulkError(f"Unable to find object: {name}" if name else "Job object is required",
                            error_code="InvalidJob")
        content_type = fields.get("contentType") or "CSV"
        if content_type in REFUSED_CONTENT_TYPES:
            raise _unsupported(f"Bulk API 1.0 jobs with contentType {content_type} (CSV and JSON are served)")
        if content_type not in CONTENT_TYPES:
            raise BulkError(f"Invalid contentType: {content_type}. Use CSV, JSON, XML, ZIP_CSV, ZIP_JSON or ZIP_XML")
        concurrency = fields.get("concurrencyMode") or "Parallel"
        # a JSON jobInfo may give the enum's ordinal: simple-salesforce sends 0 (Parallel) or 1 (Serial)
        concurrency = {"0": "Parallel", "1": "Serial"}.get(concurrency, concurrency)
        if concurrency not in ("Parallel", "Serial"):
            raise BulkError(f"Invalid concurrencyMode: {concurrency}. Use Parallel or Serial")
        if pk_chunking and pk_chunking.strip().lower() != "false":
            raise _unsupported(f"PK chunking (Sforce-Enable-PKChunking: {pk_chunking}); send the query without it "
                               "and the whole result comes in one batch")
        if pk_chunking is not None and operation not in QUERY:
            raise BulkError("PK chunking is only supported for query and queryAll jobs")
        external_id = fields.get("externalIdFieldName") or None
        if operation == "upsert":
            if not external_id:
                raise BulkError(f"External ID was blank for {s.name}. An External ID must be specified for upsert.")
            try:
                external_id = records.external_id_field(s, external_id).name
            except SalesforceError as exc:
                raise BulkError(exc.message) from None
        elif external_id:
            raise BulkError("externalIdFieldName is only valid for upsert jobs")
        with self.lock:
            job_id = new_job_id()
            job = Job1(id=job_id, object=s.name, operation=operation, external_id=external_id,
                       content_type=content_type, concurrency=concurrency, line_ending="LF", delimiter="COMMA",
                       version=version, user_id=user_id, created=self.now())
            self.jobs[job_id] = job
        return job

    def change_state(self, job: Job1, state: str | None) -> Job1:
        """Close (Closed) or abort (Aborted) the job; batches already added still run unless aborted."""
        if state == JobState.CLOSED:
            if job.state != JobState.OPEN:
                raise BulkError(f"Closing already {job.state} Job not allowed", error_code="InvalidJobState")
        elif state == JobState.ABORTED:
            if job.state not in (JobState.OPEN, JobState.CLOSED):
                raise BulkError(f"Aborting already {job.state} Job not allowed", error_code="InvalidJobState")
        else:
            raise BulkError(f"Invalid state: {state}. A job's state can be set to Closed or Aborted",
                            error_code="InvalidJobState" if state else "InvalidJob")
        job.state, job.modstamp = state, self.now()
        return job

    def add_batch(self, job: Job1, data: str) -> Batch:
        """A Queued batch (CSV/JSON records or, for a query job, the SOQL), run by the worker in turn."""
        if job.state != JobState.OPEN:
            raise BulkError(f"Job {job.id} is {job.state}: batches can be added only while it is Open",
                            error_code="InvalidJobState")
        if len(data) > MAX_BATCH_BYTES:
            raise BulkError(f"Exceeded max size limit of {MAX_BATCH_BYTES}", error_code="InvalidBatch")
        with self.lock:
            batch = Batch(id=store.make_id("751", next(_batch_ids)), job_id=job.id, created=self.now(), data=data)
            job.batches[batch.id] = batch
            self.pending.put((job, batch))
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._work, name="bulk1-worker", daemon=True)
                self.worker.start()
        return batch

    def wait(self, timeout: float = 30.0) -> None:
        """Until every batch added so far has run (for tests and benches; clients poll instead)."""
        deadline = time.monotonic() + timeout
        while self.pending.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _work(self) -> None:
        while True:
            try:
                job, batch = self.pending.get(timeout=5)
            except queue.Empty:
                return
            try:
                self.run(job, batch)
            finally:
                self.pending.task_done()

    def run(self, job: Job1, batch: Batch) -> None:
        """Run one batch (never raises: what goes wrong fails the batch and says why)."""
        if job.state == JobState.ABORTED:
            batch.state, batch.modstamp = BatchState.NOT_PROCESSED, self.now()
            batch.finished.set()
            return
        started = time.monotonic()
        batch.state = BatchState.IN_PROGRESS
        try:
            if job.is_query:
                self._query(job, batch)
            else:
                self._ingest(job, batch)
            batch.state = BatchState.COMPLETED
        except BadCsv as bad:
            batch.state, batch.state_message = BatchState.FAILED, bad.message
        except Exception as exc:  # a bug must fail the batch, not the worker, and say so
            batch.state, batch.state_message = BatchState.FAILED, f"UNKNOWN_EXCEPTION : {exc}"
        if batch.results is not None:
            batch.results.flush()
        batch.keep_request()
        batch.processing_ms = int((time.monotonic() - started) * 1000)
        batch.modstamp = self.now()
        batch.finished.set()

    def _ingest(self, job: Job1, batch: Batch) -> None:
        if job.content_type == "CSV":
            batch.results = CsvSpool()
        if job.content_type == "JSON":
            values = _json_records(batch.data)
        else:
            columns, rows = parse_csv(self.org, job.object, job.operation, batch.data)
            values = [csv_record(columns, row) for row in rows]
        if len(values) > MAX_BATCH_RECORDS:
            raise BadCsv(f"InvalidBatch : Exceeded number of records : {len(values)}. Number of records should be "
                         f"less than or equal to {MAX_BATCH_RECORDS}")
        for start in range(0, len(values), CHUNK):
            chunk = values[start:start + CHUNK]
            results = save_chunk(self.org, job.user_id, job.object, job.operation, chunk,
                                 external_id=job.external_id)
            for result in results:
                created = result.success and (bool(result.created) if job.operation == "upsert"
                                              else job.operation == "insert")
                if batch.results is not None:
                    batch.results.add([result.id or "", _bool(result.success), _bool(created),
                                       error_text(result.errors)])
                else:
                    batch.outcomes.append(Outcome(id=result.id or "", success=result.success, created=created,
                                                  errors=result.errors))
            batch.processed += len(results)
            batch.failed += sum(1 for r in results if not r.success)

    def _query(self, job: Job1, batch: Batch) -> None:
        soql = batch.data.strip()
        try:
            with self.org.lock:
                columns = query_columns(self.org.schema, soql)
                paths = flat_paths(columns["columnMetadata"])
                if columns["entityName"].lower() != job.object.lower():
                    raise BadCsv(f"InvalidBatch : Failed to process query: the query selects from "
                                 f"{columns['entityName']}, the job's object is {job.object}")
                found = self.org.stream_query(soql, include_deleted=job.operation == "queryAll",
                                              api_version=job.version)
                if job.content_type == "JSON":
                    batch.records = list(found)
                    batch.processed = len(batch.records)
                else:
                    batch.header = [".".join(p) for p in paths]
                    rows = CsvSpool()
                    for record in found:
                        rows.add([_bulk_datetime(flat_cell(record, p)) for p in paths])
                    rows.flush()
                    batch.rows, batch.processed = rows, rows.count
        except SalesforceError as exc:
            raise BadCsv(f"InvalidBatch : Failed to process query: {exc.error_code}: {exc.message}") from None
        batch.result_id = store.make_id("752", next(_result_ids))


def _bulk_datetime(text: str) -> str:
    """Bulk CSV writes date-times in UTC with Z ('2024-01-01T10:00:00.000Z'), where REST writes +0000."""
    if len(text) == 28 and text.endswith("+0000") and text[10] == "T":
        return text[:-5] + "Z"
    return text


def _json_records(data: str) -> list[dict]:
    try:
        values = json.loads(data)
    except ValueError as exc:
        raise BadCsv(f"InvalidBatch : Failed to parse JSON: {exc}") from None
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise BadCsv("InvalidBatch : A JSON batch is a list of records (objects)")
    return [{k: v for k, v in value.items() if k != "attributes"} for value in values]


def _unsupported(feature: str) -> BulkError:
    return BulkError(f"{feature} is not supported by the local org",
                     error_code=errors.NotImplementedByLocalOrg.error_code)


def jobs1_of(org: Org) -> Jobs1:
    """The org's Bulk API 1.0 jobs."""
    return Jobs1.of(org)
