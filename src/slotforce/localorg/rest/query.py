"""Query resources (routed by urls.py): query / queryAll with 2,000-record batches and nextRecordsUrl
(`columns=true`: query_columns.py), Tooling queries."""

from __future__ import annotations

import re

from slotforce.localorg import errors, tooling_views
from slotforce.localorg.metadata import attach
from slotforce.localorg.query_columns import query_columns
from slotforce.localorg.rest import dispatch as d
from slotforce.localorg.rest import refusals
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse

BATCH_SIZE = 2000


def _batch_size(req: ApiRequest) -> int:
    options = req.headers.get("sforce-query-options", "")
    m = re.search(r"batchSize\s*=\s*(\d+)", options, re.I)
    if not m:
        return BATCH_SIZE
    return max(200, min(int(m.group(1)), BATCH_SIZE))


def _page(req: ApiRequest, records: list[dict], start: int, total: int, locator: str | None,
          all_rows: bool) -> ApiResponse:
    size = _batch_size(req)
    batch = records[start:start + size]
    body: dict = {"totalSize": total, "done": start + size >= len(records)}
    if not body["done"]:
        if locator is None:
            locator = req.org.cursors.open(records, total)
        kind = "queryAll" if all_rows else "query"
        body["nextRecordsUrl"] = f"/services/data/v{req.version}/{kind}/{locator}-{start + size}"
    body["records"] = batch
    return ApiResponse(200, body)


def _run(req: ApiRequest, include_deleted: bool) -> ApiResponse:
    if "explain" in req.params:
        raise refusals.unsupported("Query plans (query?explain=)")
    soql = req.params.get("q")
    if not soql:
        raise errors.MalformedQuery("A query string has to be specified")
    result = req.org.execute_query(soql, include_deleted=include_deleted, api_version=req.version,
                                   user_id=req.ctx.user_id)
    if d.flag(req.params.get("columns")):
        return ApiResponse(200, query_columns(req.org.schema, soql))
    return _page(req, result.records, 0, result.total_size, None, include_deleted)


def query(req: ApiRequest) -> ApiResponse:
    return _run(req, include_deleted=False)


def query_all(req: ApiRequest) -> ApiResponse:
    return _run(req, include_deleted=True)


def query_more(req: ApiRequest) -> ApiResponse:
    records, total = req.org.cursors.get(req.groups["locator"])
    return _page(req, records, int(req.groups["start"]), total, req.groups["locator"],
                 req.groups["kind"] == "queryAll")


# Tooling objects CumulusCI asks about (cumulusci-notes 3.4). The local org has no installed
# packages, so these answer empty results; anything else is refused rather than guessed.
_TOOLING_EMPTY = re.compile(r"\bFROM\s+(InstalledSubscriberPackage|SubscriberPackageVersion|ApexClass|"
                            r"ApexTrigger|SourceMember|PackageLicense)\b", re.I)
_TOOLING_VIEWS = re.compile(rf"\bFROM\s+({'|'.join(tooling_views.VIEWS)})\b", re.I)


def tooling_query(req: ApiRequest) -> ApiResponse:
    soql = req.params.get("q") or ""
    m = _TOOLING_EMPTY.search(soql)
    if m:
        return ApiResponse(200, {"size": 0, "totalSize": 0, "done": True, "queryLocator": None,
                                 "entityTypeName": m.group(1), "records": []})
    views = _TOOLING_VIEWS.search(soql)
    if views or re.search(r"\bFROM\s+(Organization|User|Profile|RecordType|PermissionSet)\b", soql, re.I):
        if views:
            result = tooling_views.query_view(req.org.schema, attach(req.org).registry, soql, req.version)
        else:
            result = req.org.execute_query(soql, api_version=req.version)
        if d.flag(req.params.get("columns")):  # the sf CLI's `data query --use-tooling-api` asks here
            return ApiResponse(200, query_columns(tooling_views.view_schema() if views else req.org.schema, soql))
        return ApiResponse(200, {"size": len(result.records), "totalSize": result.total_size, "done": True,
                                 "queryLocator": None, "entityTypeName": views.group(1) if views else None,
                                 "records": result.records})
    raise errors.NotImplementedByLocalOrg(f"Tooling API query not supported by the local org: {soql}")
