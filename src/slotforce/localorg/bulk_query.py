"""Bulk API 2.0 query jobs: a SOQL query run by a worker thread, its rows kept as a CSV file for `results`.

The query is checked when the job is created (a bad query is the 400 a REST query answers);
the worker then runs it (UploadComplete -> InProgress -> JobComplete, or Failed) and writes the rows,
flattened as Bulk API 2.0 writes them: one column per SELECT item, parent fields dotted
(`Account.Name`), an empty value for null, booleans `true`/`false`. Subqueries and aggregate
functions are refused as Salesforce refuses them in Bulk queries.

Memory stays bounded whatever the result's size (issue 11.7: 1,000,000 rows within 300 MB): rows
come from SQLite a few thousand at a time (`Org.stream_query`), go to an unnamed temporary file as
CSV lines (bulk_jobs.CsvSpool), and a page of results is streamed back from that file; only each
row's byte offset is kept in memory (8 bytes a row), so any locator starts a page.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

from slotforce.localorg import errors
from slotforce.localorg.bulk_jobs import (DELIMITERS, LINE_ENDINGS, BulkJob, CsvSpool, JobRegistry, csv_format,
                                          new_job_id)
from slotforce.localorg.models import Org
from slotforce.localorg.query_columns import query_columns
from slotforce.localorg.values import format_datetime_millis

@dataclasses.dataclass(kw_only=True)
class QueryJob(BulkJob):
    """One query job: its SOQL, its state and (once complete) its header and the spooled CSV of its rows."""

    soql: str
    header: list[str]
    state: str = "UploadComplete"
    rows: CsvSpool | None = None

    @property
    def count(self) -> int:
        return self.rows.count if self.rows is not None else 0

    def info(self, *, full: bool = False) -> dict[str, Any]:
        out = self.base_info()
        if full:
            out.update(jobType="V2Query", numberRecordsProcessed=self.count, retries=0,
                       totalProcessingTime=self.processing_ms)
            if self.error_message:
                out["errorMessage"] = self.error_message
        return out

    def page(self, start: int, max_records: int | None) -> tuple[Iterator[bytes], int, str | None]:
        """(the CSV as pieces of bytes, records in it, the next locator or None) for rows from `start`."""
        end = self.count if max_records is None else min(self.count, start + max_records)
        rows = self.rows or CsvSpool(offsets=True)
        return rows.pieces(self.header, start, end), end - start, (str(end) if end < self.count else None)

    def discard(self) -> None:
        if self.rows is not None:
            self.rows.close()


def flat_paths(columns: list[dict]) -> list[tuple[str, ...]]:
    """The columns of a Bulk query result: one per SELECT item, parent fields as paths (("Account", "Name"))."""
    out = []
    for col in columns:
        if col["aggregate"]:
            raise errors.InvalidApiInput("Aggregate functions and subqueries are not supported by Bulk API "
                                         f"query jobs: {col['displayName']}", error_code="API_ERROR")
        if col["apexType"] in ("Address", "Location"):  # BillingAddress: select its components instead
            raise errors.InvalidApiInput("Selecting compound data not supported in Bulk Query",
                                         error_code="FUNCTIONALITY_NOT_ENABLED")
        out.extend([(col["columnName"], *rest) for rest in flat_paths(col["joinColumns"])] or [(col["columnName"],)])
    return out


def flat_cell(record: Any, path: tuple[str, ...]) -> str:
    """One CSV cell of a Bulk query result: empty for null, booleans true/false."""
    value = record
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class QueryJobs(JobRegistry):
    """The org's query jobs."""

    key = "bulk_query_jobs"

    def __init__(self, org: Org) -> None:
        super().__init__(org)
        self.paths: dict[str, list[tuple[str, ...]]] = {}

    def create(self, body: dict, version: str, user_id: str) -> QueryJob:
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise errors.InvalidApiInput(f"Invalid operation: {operation}" if operation else "Operation is required")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise errors.InvalidApiInput("Query is required")
        delimiter, line_ending = csv_format(body)
        with self.org.lock:
            columns = query_columns(self.org.schema, soql)
            # a bad query is refused now, as REST refuses it (as the job's user: WITH USER_MODE, USING SCOPE
            # mine); only its first rows are read
            rows = self.org.stream_query(soql, api_version=version, user_id=user_id)
            next(rows, None)
            rows.close()
        paths = flat_paths(columns["columnMetadata"])
        with self.lock:
            job_id = new_job_id()
            now = format_datetime_millis(self.org.clock())
            job = QueryJob(id=job_id, operation=operation, object=columns["entityName"], soql=soql,
                           line_ending=line_ending, delimiter=delimiter, version=version, user_id=user_id,
                           created=now, header=[".".join(p) for p in paths])
            self.jobs[job_id], self.paths[job_id] = job, paths
        threading.Thread(target=self.run, args=(job,), name=f"bulk2q-{job_id}", daemon=True).start()
        return job

    def run(self, job: QueryJob) -> None:
        started = time.monotonic()
        paths = self.paths[job.id]
        delimiter, line_ending = DELIMITERS[job.delimiter], LINE_ENDINGS[job.line_ending]
        try:
            with self.org.lock:
                if job.state == "Aborted":
                    return
                job.state = "InProgress"
                rows = CsvSpool(delimiter, line_ending, offsets=True)
                for record in self.org.stream_query(job.soql, include_deleted=job.operation == "queryAll",
                                                    api_version=job.version, user_id=job.user_id):
                    rows.add([flat_cell(record, p) for p in paths])
                rows.flush()
                job.rows = rows
            if job.state != "Aborted":
                job.state = "JobComplete"
        except Exception as exc:  # the query was checked at creation: anything here fails the job, says why
            job.state, job.error_message = "Failed", str(exc)
        job.processing_ms = int((time.monotonic() - started) * 1000)
        job.modstamp = format_datetime_millis(self.org.clock())


def query_jobs_of(org: Org) -> QueryJobs:
    """The org's query jobs."""
    return QueryJobs.of(org)
