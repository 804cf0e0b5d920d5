"""Bulk API 2.0 ingest jobs: the job model, its CSV, and the worker that saves it in chunks of 200.

A job is Open while CSV is uploaded, UploadComplete once the client closes it; a worker thread then
saves its rows as Salesforce does: in chunks of 200 records, each chunk its own transaction with
partial success (so Flows and triggers run once per chunk), InProgress -> JobComplete (or Failed
when the CSV itself is wrong). Results are kept per row for successfulResults/failedResults.
"""

from __future__ import annotations

import array
import csv
import dataclasses
import io
import itertools
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from slotforce.localorg import errors, records, store
from slotforce.localorg.errors import SalesforceError
from slotforce.localorg.models import Org
from slotforce.localorg.values import format_datetime_millis

CHUNK = 200
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
PIECE_BYTES = 1 << 16  # results are streamed from their spool in pieces of this size
_ids = itertools.count(1)


@dataclasses.dataclass(kw_only=True)
class BulkJob:
    """What ingest and query jobs share: who made it, its CSV format, its state and timings."""

    id: str
    object: str
    operation: str
    line_ending: str
    delimiter: str
    version: str
    user_id: str
    created: str
    state: str = "Open"
    error_message: str | None = None
    modstamp: str = ""
    processing_ms: int = 0

    def base_info(self) -> dict[str, Any]:
        """The job info fields every Bulk API 2.0 job answers."""
        return {
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": self.user_id,
            "createdDate": self.created, "systemModstamp": self.modstamp or self.created, "state": self.state,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(self.version),
            "lineEnding": self.line_ending, "columnDelimiter": self.delimiter}


class CsvSpool:
    """CSV lines kept in an unnamed temporary file, not in memory (issue 11.7: jobs of 1,000,000 rows):
    `add` writes one row (every field quoted, as Salesforce writes results), `pieces` streams them back
    after a header. With `offsets`, each row's byte offset is kept (8 bytes a row) so a page can start
    at any row."""

    def __init__(self, delimiter: str = ",", line_ending: str = "\n", *, offsets: bool = False) -> None:
        self.delimiter, self.line_ending = delimiter, line_ending
        self.count = 0
        self.size = 0
        self.offsets = array.array("q", [0]) if offsets else None
        self._file: IO[bytes] | None = None
        self._pending: list[bytes] = []

    def add(self, values: list[str]) -> None:
        line = csv_line(values, self.delimiter, self.line_ending).encode()
        self.size += len(line)
        self.count += 1
        if self.offsets is not None:
            self.offsets.append(self.size)
        self._pending.append(line)
        if len(self._pending) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="slotforce-bulk-")
            self._file.write(b"".join(self._pending))
            self._file.flush()
            self._pending.clear()

    def pieces(self, header: list[str] | None, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The header line, then rows `start`..`end` (all by default; by row only with `offsets`)."""
        self.flush()
        if header is not None:
            yield csv_line(header, self.delimiter, self.line_ending).encode()
        begin = self.offsets[start] if self.offsets is not None else 0
        stop = self.offsets[self.count if end is None else end] if self.offsets is not None else self.size
        fd = self._file.fileno() if self._file is not None else -1
        while begin < stop:
            piece = os.pread(fd, min(PIECE_BYTES, stop - begin), begin)
            if not piece:
                return
            begin += len(piece)
            yield piece

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def csv_line(values: list[str], delimiter: str = ",", line_ending: str = "\n") -> str:
    """One CSV line as Salesforce writes results: every field quoted, quotes doubled (csv.QUOTE_ALL)."""
    sep = f'"{delimiter}"'
    return '"' + sep.join(v.replace('"', '""') for v in values) + '"' + line_ending


@dataclasses.dataclass(kw_only=True)
class Job(BulkJob):
    """One ingest job and what it did, row by row (results spooled to temporary files)."""

    external_id: str | None = None
    data: str = ""
    columns: list[str] = dataclasses.field(default_factory=list)
    succeeded: CsvSpool = dataclasses.field(default_factory=CsvSpool)
    failed: CsvSpool = dataclasses.field(default_factory=CsvSpool)
    unprocessed: CsvSpool = dataclasses.field(default_factory=CsvSpool)

    def discard(self) -> None:
        for spool in (self.succeeded, self.failed, self.unprocessed):
            spool.close()

    def info(self, *, full: bool = False) -> dict[str, Any]:
        """The job info JSON (`full`: with the counters GET jobs/ingest/{id} adds)."""
        out = {**self.base_info(), "jobType": "V2Ingest"}
        if self.external_id:
            out["externalIdFieldName"] = self.external_id
        if self.state == "Open":
            out["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
        if full:
            out.update(retries=0, numberRecordsProcessed=self.succeeded.count + self.failed.count,
                       numberRecordsFailed=self.failed.count, totalProcessingTime=self.processing_ms,
                       apiActiveProcessingTime=self.processing_ms, apexProcessingTime=0)
            if self.error_message:
                out["errorMessage"] = self.error_message
        return out


class JobRegistry:
    """An org's jobs of one kind, by id (in memory: a restarted org forgets them, as its cursors)."""

    key = "bulk_jobs"

    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, Any] = {}
        self.lock = threading.Lock()

    @classmethod
    def of(cls, org: Org):
        """The org's registry of this kind (made on first use)."""
        with org.lock:
            found = org.__dict__.get(cls.key)
            if found is None:
                found = org.__dict__[cls.key] = cls(org)
        return found

    def get(self, job_id: str):
        """The job, or 404 NOT_FOUND."""
        job = self.jobs.get(job_id)
        if job is None:
            raise errors.NotFound()
        return job


def csv_format(body: dict) -> tuple[str, str]:
    """(columnDelimiter, lineEnding) of a job's POST body, COMMA and LF by default."""
    delimiter, line_ending = body.get("columnDelimiter", "COMMA"), body.get("lineEnding", "LF")
    if delimiter not in DELIMITERS:
        raise errors.InvalidApiInput(f"Invalid columnDelimiter: {delimiter}")
    if line_ending not in LINE_ENDINGS:
        raise errors.InvalidApiInput(f"Invalid lineEnding: {line_ending}")
    return delimiter, line_ending


def new_job_id() -> str:
    """A job id (750...), unique among the ingest and query jobs of every org in this process."""
    return store.make_id("750", next(_ids))


class BulkJobs(JobRegistry):
    """The org's ingest jobs."""

    def __init__(self, org: Org) -> None:
        super().__init__(org)
        self.threads: list[threading.Thread] = []

    def now(self) -> str:
        return format_datetime_millis(self.org.clock())

    def create(self, body: dict, version: str, user_id: str) -> Job:
        """A new Open job from the POST body (INVALIDJOB/INVALID_INPUT-style errors as Salesforce words them)."""
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise errors.InvalidApiInput(f"Invalid operation: {operation}" if operation else
                                         "Operation is required")
        s = self.org.schema.get(str(body.get("object") or ""))
        if s is None:
            raise errors.InvalidApiInput(f"sObject type '{body.get('object')}' is not supported." if body.get("object")
                                         else "Object is required")
        external_id = body.get("externalIdFieldName")
        if operation == "upsert":
            if not external_id:
                raise errors.InvalidApiInput("External ID was blank for " + s.name +
                                             ". An External ID must be specified for upsert.")
            external_id = records.external_id_field(s, str(external_id)).name
        elif external_id:
            raise errors.InvalidApiInput("externalIdFieldName is only valid for upsert")
        if body.get("contentType", "CSV") != "CSV":
            raise errors.InvalidApiInput(f"ContentType {body.get('contentType')} is not supported. "
                                         "Supported ContentType: CSV")
        delimiter, line_ending = csv_format(body)
        with self.lock:
            job_id = new_job_id()
            job = Job(id=job_id, object=s.name, operation=operation, external_id=external_id,
                      line_ending=line_ending, delimiter=delimiter, version=version, user_id=user_id,
                      created=self.now())
            self.jobs[job_id] = job
        return job

    def upload(self, job: Job, data: str) -> None:
        if job.state != "Open":
            raise _wrong_state(job, "Open")
        if job.data:
            raise errors.InvalidApiInput("Found multiple batches for this job. Bulk API 2.0 allows only one "
                                         "upload per job.", error_code="INVALIDJOBSTATE")
        job.data = data

    def change_state(self, job: Job, state: Any) -> dict[str, Any]:
        """PATCH {"state": UploadComplete|Aborted}: the job info as the state change left it (UploadComplete
        starts the worker, which then moves it on)."""
        if state == "Aborted":
            if job.state not in ("Open", "UploadComplete", "InProgress"):
                raise _wrong_state(job, "Open")
            job.state = "Aborted"
        elif state == "UploadComplete":
            if job.state != "Open":
                raise _wrong_state(job, "Open")
            job.state = "UploadComplete"
            job.modstamp = self.now()
            answer = job.info()
            worker = threading.Thread(target=self.run, args=(job,), name=f"bulk2-{job.id}", daemon=True)
            self.threads.append(worker)
            worker.start()
            return answer
        else:
            raise errors.InvalidApiInput(f"Invalid state: {state}. The state can be UploadComplete or Aborted.")
        job.modstamp = self.now()
        return job.info()

    def delete(self, job: Job) -> None:
        if job.state in ("Open", "InProgress", "UploadComplete"):
            raise _wrong_state(job, "JobComplete, Aborted or Failed")
        self.jobs.pop(job.id, None)
        job.discard()

    def run(self, job: Job) -> None:
        """The worker: check the CSV, save chunk by chunk as the rows are read, spool results (never raises)."""
        started = time.monotonic()
        try:
            delimiter = DELIMITERS[job.delimiter]
            job.columns = check_csv(self.org, job.object, job.operation, job.data, delimiter)
            job.state = "InProgress"
            for chunk in csv_chunks(job.data, delimiter):
                if job.state == "Aborted":
                    for row in chunk:
                        job.unprocessed.add(row)
                    continue
                self._save_chunk(job, chunk)
            job.data = ""  # the rows now live in the results
            if job.state != "Aborted":
                job.state = "JobComplete"
        except BadCsv as bad:
            job.state, job.error_message = "Failed", bad.message
        except Exception as exc:  # a bug must fail the job, not the worker, and say so
            job.state, job.error_message = "Failed", f"UNKNOWN_EXCEPTION : {exc}"
        for spool in (job.succeeded, job.failed, job.unprocessed):
            spool.flush()
        job.processing_ms = int((time.monotonic() - started) * 1000)
        job.modstamp = self.now()

    def _save_chunk(self, job: Job, chunk: list[list[str]]) -> None:
        """One chunk, one transaction, partial success."""
        results = save_chunk(self.org, job.user_id, job.object, job.operation,
                             [csv_record(job.columns, row) for row in chunk], external_id=job.external_id)
        insert = job.operation == "insert"
        for row, result in zip(chunk, results):
            if result.success:
                job.succeeded.add([result.id or "", "true" if result.created or insert else "false", *row])
            else:
                job.failed.add([result.id or "", error_text(result.errors), *row])


def check_csv(org: Org, object_name: str, operation: str, data: str, delimiter: str = ",") -> list[str]:
    """The header of an ingest CSV whose every row was checked, without keeping the rows (see parse_csv)."""
    reader = csv.reader(csv_lines(data), delimiter=delimiter)
    try:
        header = next((r for r in reader if r), None)
        if header is None or not data.strip():
            raise BadCsv("InvalidBatch : Records not processed: empty CSV")
        width = len(header)
        for row in reader:
            if row and len(row) != width:
                raise BadCsv(f"ClientInputError : Wrong number of columns on line {reader.line_num}: "
                             f"{len(row)} (the header has {width})")
    except csv.Error as exc:
        raise BadCsv(f"ClientInputError : CSV parse error: {exc}") from None
    columns, _ = parse_csv(org, object_name, operation, csv_line(header, delimiter), delimiter)
    return columns


def csv_lines(data: str) -> Iterator[str]:
    """The lines of `data` with their endings, one at a time: csv.reader reads them as from a file, and no
    copy of the whole text is made (io.StringIO keeps four bytes a character: 180 MB for a 45 MB upload)."""
    start, size = 0, len(data)
    while start < size:
        end = data.find("\n", start)
        if end < 0:
            yield data[start:]
            return
        yield data[start:end + 1]
        start = end + 1


def csv_chunks(data: str, delimiter: str = ",") -> Iterator[list[list[str]]]:
    """The rows after the header, CHUNK at a time (the CSV was checked by check_csv)."""
    rows = (r for r in csv.reader(csv_lines(data), delimiter=delimiter) if r)
    next(rows, None)
    while chunk := list(itertools.islice(rows, CHUNK)):
        yield chunk


def parse_csv(org: Org, object_name: str, operation: str, data: str, delimiter: str = ",",
              ) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of an ingest CSV, checked as Bulk API 1.0 and 2.0 check it (BadCsv says what is wrong,
    in Salesforce's words: `InvalidBatch : Field name not found : X`)."""
    if not data.strip():
        raise BadCsv("InvalidBatch : Records not processed: empty CSV")
    reader = csv.reader(io.StringIO(data, newline=""), delimiter=delimiter)
    try:
        table = [r for r in reader if r]
    except csv.Error as exc:
        raise BadCsv(f"ClientInputError : CSV parse error: {exc}") from None
    header, rows = [c.strip() for c in table[0]], table[1:]
    s = org.sobject(object_name)
    for name in header:
        if not name:
            raise BadCsv("InvalidBatch : Field name not found : ")
        if "." in name:
            relationship_column(org, s, name)
            continue
        if s.field(name) is None:
            raise BadCsv(f"InvalidBatch : Field name not found : {name}")
    if len({n.lower() for n in header}) != len(header):
        raise BadCsv("InvalidBatch : Duplicate field name in the header")
    if operation in ("update", "delete", "hardDelete") and "id" not in {n.lower() for n in header}:
        raise BadCsv("InvalidBatch : Id is required for update" if operation == "update" else
                     "InvalidBatch : Field name not found : Id")
    for n, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise BadCsv(f"ClientInputError : Wrong number of columns on line {n}: "
                         f"{len(row)} (the header has {len(header)})")
    return header, rows


def relationship_column(org: Org, sobject, name: str):
    """(reference field, target object, target's external id field) of a header like `Account.ExtId__c`:
    the parent is named by one of its external ids (or Id), as Data Loader and the Bulk APIs allow."""
    relationship, _, field_name = name.partition(".")
    ref = sobject.relationship(relationship)
    if ref is None or "." in field_name or ":" in relationship:
        raise BadCsv(f"InvalidBatch : Field name not found : {name}")
    if len(ref.reference_to) != 1:  # polymorphic (Owner, Who, What): Salesforce wants `Type:Rel.Field`
        raise BadCsv(f"InvalidBatch : Polymorphic relationship columns ({name}) are not supported by the local org")
    target = org.sobject(ref.reference_to[0])
    try:
        key = records.external_id_field(target, field_name)
    except SalesforceError:
        raise BadCsv(f"InvalidBatch : Field name not found : {name}") from None
    return ref, target, key


def _resolve_parents(org: Org, ctx, sobject, values: list[dict]) -> list[SalesforceError | None]:
    """Replace `Rel.ExtId` keys by the reference field's id; per record, the error when a parent is missing."""
    failures: list[SalesforceError | None] = [None] * len(values)
    columns = {k for rec in values for k in rec if "." in k}
    for name in sorted(columns):
        ref, target, key = relationship_column(org, sobject, name)
        wanted = sorted({str(rec[name]) for rec in values if rec.get(name) not in (None, "")})
        found: dict[str, list[str]] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            rows = ctx.conn.execute(
                f"SELECT Id, {store.quote(key.column)} FROM {store.quote(target.table)} WHERE IsDeleted = 0 AND "
                f"{store.quote(key.column)} IN ({', '.join('?' * len(part))})", part).fetchall()
            for rid, value in rows:
                found.setdefault(str(value).lower() if not key.case_sensitive else str(value), []).append(rid)
        for i, rec in enumerate(values):
            if name not in rec:
                continue
            value = rec.pop(name)
            if value is None:  # #N/A: the reference is cleared
                rec[ref.name] = None
                continue
            if value == "":
                continue
            ids = found.get(str(value) if key.case_sensitive else str(value).lower(), [])
            if len(ids) == 1:
                rec[ref.name] = ids[0]
            elif failures[i] is None:
                failures[i] = (errors.InvalidField(f"Foreign key external ID: {value} not found for field {key.name} "
                                                   f"in entity {target.name}", fields=[])
                               if not ids else errors.DuplicateExternalId(
                                   f"More than one record found for external id field {key.name}: {value}"))
    return failures


def save_chunk(org: Org, user_id: str, object_name: str, operation: str, values: list[dict], *,
               external_id: str | None = None) -> list[records.SaveResult]:
    """Save one chunk of records (at most CHUNK) in one transaction with partial success, as the Bulk
    APIs do: Flows and triggers run once for the chunk. `delete` and `hardDelete` read each record's Id;
    `hardDelete` then purges the deleted rows from the Recycle Bin (children removed by cascade stay in it)."""
    s = org.sobject(object_name)
    with org.transaction(user_id) as ctx:
        if operation in ("delete", "hardDelete"):
            ids = [str(next((v for k, v in rec.items() if k.lower() == "id"), "") or "") for rec in values]
            results = records.delete(ctx, s, ids, all_or_none=False)
            if operation == "hardDelete":
                gone = [(r.id,) for r in results if r.success and r.id]
                ctx.conn.executemany(f"DELETE FROM {store.quote(s.table)} WHERE Id = ? AND IsDeleted = 1", gone)
            return results
        failures = _resolve_parents(org, ctx, s, values) if any("." in k for v in values for k in v) else None
        if not failures or not any(failures):
            return records.save(ctx, operation, s, values, all_or_none=False, ext_field=external_id)
        good = [v for v, f in zip(values, failures) if f is None]
        saved = iter(records.save(ctx, operation, s, good, all_or_none=False, ext_field=external_id) if good else [])
        return [records.SaveResult(None, False, [f]) if f is not None else next(saved) for f in failures]


def csv_record(columns: list[str], row: list[str]) -> dict:
    """A CSV row as a record: an empty value leaves the field alone, #N/A sets it to null."""
    out: dict = {}
    for name, value in zip(columns, row):
        if value == "":
            continue
        out[name] = None if value == "#N/A" else value
    return out


def error_text(errs: list[SalesforceError]) -> str:
    """sf__Error as Salesforce writes it: CODE:message:fields --"""
    return " ".join(f"{e.error_code}:{e.message}:{','.join(e.fields)} --" for e in errs)


def _wrong_state(job: Job, expected: str) -> SalesforceError:
    return errors.InvalidApiInput(f"Job {job.id} is in state {job.state}: expected {expected}",
                                  error_code="INVALIDJOBSTATE")


class BadCsv(Exception):
    """The CSV itself is wrong: the job (Bulk API 2.0) or the batch (1.0) fails with `message`."""

    def __init__(self, message: str) -> None:
        self.message = message


def jobs_of(org: Org) -> BulkJobs:
    """The org's ingest jobs."""
    return BulkJobs.of(org)


def results_csv(headers: list[str], rows: list[list[str]], *, delimiter: str = ",", line_ending: str = "\n") -> str:
    """A results CSV as Salesforce writes it: every field quoted (LF line endings unless the job says CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=line_ending, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue()
