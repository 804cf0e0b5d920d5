"""Org-wide read resources: Get Updated / Get Deleted (sobjects/{o}/updated|deleted), limits/recordCount, recent."""

from __future__ import annotations

from slotforce.localorg import errors, store, values
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse


def _window(req: ApiRequest) -> tuple[str, str]:
    """start/end as stored datetimes (UTC, seconds); Salesforce covers whole minutes up to `end`."""
    raw = {k: req.params.get(k) for k in ("start", "end")}
    missing = [k for k, v in raw.items() if not v]
    if missing:
        raise errors.MissingArgument(f"Missing required parameter: {missing[0]}")
    parsed = {k: values.parse_datetime(v) for k, v in raw.items()}
    bad = [k for k, v in parsed.items() if v is None]
    if bad:
        raise errors.InvalidInput(f"{bad[0]}: not a valid dateTime: {raw[bad[0]]}")
    start, end = parsed["start"].replace(second=0, microsecond=0), parsed["end"].replace(second=0, microsecond=0)
    if end < start:
        raise errors.SalesforceError("end date must be after the start date", error_code="INVALID_REPLICATION_DATE")
    return values.format_datetime_seconds(start), values.format_datetime_seconds(end)


def updated(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    start, end = _window(req)
    rows = req.ctx.conn.execute(f"SELECT Id FROM {store.quote(s.table)} WHERE IsDeleted = 0 AND SystemModstamp >= ? "
                                "AND SystemModstamp < ? ORDER BY Id", (start, end)).fetchall()
    return ApiResponse(200, {"ids": [r[0] for r in rows], "latestDateCovered": end})


def deleted(req: ApiRequest) -> ApiResponse:
    s = req.sobject()
    start, end = _window(req)
    rows = req.ctx.conn.execute(f"SELECT Id, SystemModstamp FROM {store.quote(s.table)} WHERE IsDeleted = 1 "
                                "AND SystemModstamp >= ? AND SystemModstamp < ? ORDER BY SystemModstamp",
                                (start, end)).fetchall()
    earliest = rows[0][1] if rows else start
    return ApiResponse(200, {"deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
                             "earliestDateAvailable": earliest, "latestDateCovered": end})


def record_count(req: ApiRequest) -> ApiResponse:
    """{"sObjects": [{"count", "name"}]}: the named objects (sObjects=A,B), or every object with records."""
    names = [n.strip() for n in req.params.get("sObjects", "").split(",") if n.strip()]
    wanted = [req.org.schema.get(n) for n in names] if names else list(req.org.schema)
    out = []
    for s in wanted:
        if s is None:
            continue  # Salesforce leaves unknown names out of the answer
        (count,) = req.ctx.conn.execute(f"SELECT COUNT(*) FROM {store.quote(s.table)} WHERE IsDeleted = 0").fetchone()
        if names or count:
            out.append({"count": count, "name": s.name})
    return ApiResponse(200, {"sObjects": out})


def recent(req: ApiRequest) -> ApiResponse:
    """Recently viewed records: the local org has no user interface, so nobody has viewed any."""
    return ApiResponse(200, [])
