"""Bulk API 2.0 query jobs: a SOQL query run by a worker thread, its rows kept as CSV pages for `results`.

The query is checked when the job is created (a bad query is the 400 a REST query answers);
the worker then runs it (UploadComplete -> InProgress -> JobComplete, or Failed) and keeps the rows,
flattened as Bulk API 2.0 writes them: one column per SELECT item, parent fields dotted
(`Account.Name`), an empty value for null, booleans `true`/`false`. Subqueries and aggregate
functions are refused as Salesforce refuses them in Bulk queries.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from slotforce.localorg import errors
from slotforce.localorg.bulk_jobs import DELIMITERS, LINE_ENDINGS, BulkJob, JobRegistry, csv_format, new_job_id, results_csv
from slotforce.localorg.models import Org
from slotforce.localorg.query_columns import query_columns
from slotforce.localorg.values import format_datetime_millis

@dataclasses.dataclass(kw_only=True)
class QueryJob(BulkJob):
    """One query job: its SOQL, its state and (once complete) its header and rows."""

    soql: str
    header: list[str]
    state: str = "UploadComplete"
    rows: list[list[str]] = dataclasses.field(default_factory=list)

    def info(self, *, full: bool = False) -> dict[str, Any]:
        out = self.base_info()
        if full:
            out.update(jobType="V2Query", numberRecordsProcessed=len(self.rows), retries=0,
                       totalProcessingTime=self.processing_ms)
            if self.error_message:
                out["errorMessage"] = self.error_message
        return out

    def page(self, start: int, max_records: int | None) -> tuple[str, int, str | None]:
        """(CSV, records in it, the next locator or None) for rows from `start`."""
        end = len(self.rows) if max_records is None else min(len(self.rows), start + max_records)
        text = results_csv(self.header, self.rows[start:end], delimiter=DELIMITERS[self.delimiter],
                           line_ending=LINE_ENDINGS[self.line_ending])
        return text, end - start, (str(end) if end < len(self.rows) else None)


def flat_paths(columns: list[dict]) -> list[tuple[str, ...]]:
    """The columns of a Bulk query result: one per SELECT item, parent fields as paths (("Account", "Name"))."""
    out = []
    for col in columns:
        if col["aggregate"]:
            raise errors.InvalidApiInput("Aggregate functions and subqueries are not supported by Bulk API "
                                         f"query jobs: {col['displayName']}", error_code="API_ERROR")
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
            self.org.execute_query(soql, api_version=version)  # a bad query is refused now, as REST refuses it
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
        try:
            with self.org.lock:
                if job.state == "Aborted":
                    return
                job.state = "InProgress"
                result = self.org.execute_query(job.soql, include_deleted=job.operation == "queryAll",
                                                api_version=job.version)
            job.rows = [[flat_cell(r, p) for p in self.paths[job.id]] for r in result.records]
            if job.state != "Aborted":
                job.state = "JobComplete"
        except Exception as exc:  # the query was checked at creation: anything here fails the job, says why
            job.state, job.error_message = "Failed", str(exc)
        job.processing_ms = int((time.monotonic() - started) * 1000)
        job.modstamp = format_datetime_millis(self.org.clock())


def query_jobs_of(org: Org) -> QueryJobs:
    """The org's query jobs."""
    return QueryJobs.of(org)
