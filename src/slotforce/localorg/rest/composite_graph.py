"""Composite batch (POST composite/batch) and Composite graph (POST composite/graph).

Batch: up to 25 independent subrequests (`url` relative to /services/data, `richInput` the body),
each saved or undone on its own; `haltOnError` answers the rest 412 BATCH_PROCESSING_HALTED.
Graph: each graph is a Composite request run all or none (up to 500 nodes per graph, 75 graphs in
all); `isSuccessful` says whether its nodes all succeeded.
"""

from __future__ import annotations

from slotforce.localorg import errors
from slotforce.localorg.rest import composite as c
from slotforce.localorg.rest.dispatch import flag
from slotforce.localorg.rest.dispatch import ApiRequest, ApiResponse

MAX_BATCH = 25
MAX_GRAPHS = 75
MAX_GRAPH_NODES = 500


def batch(req: ApiRequest) -> ApiResponse:
    body = req.json_object()
    subs = c.listed(body, "batchRequests", MAX_BATCH, f"a batch may contain at most {MAX_BATCH} subrequests")
    halt = flag(body.get("haltOnError", False))
    results, halted = [], False
    for sub in subs:
        if not isinstance(sub, dict) or not sub.get("method") or not sub.get("url"):
            raise errors.InvalidApiInput("Each batch subrequest needs method and url")
        if halted:
            results.append({"statusCode": 412, "result": [errors.SalesforceError(
                "Batch processing halted per request", error_code="BATCH_PROCESSING_HALTED").to_json(code_first=True)]})
            continue
        url = "/services/data/" + str(sub["url"]).lstrip("/").removeprefix("services/data/")
        resp = c.run_subrequest(req, {"method": sub["method"], "url": url, "body": sub.get("richInput")}, {}, False)
        results.append({"statusCode": resp.status, "result": resp.body})
        halted = halt and resp.status >= 400
    return ApiResponse(200, {"hasErrors": any(r["statusCode"] >= 400 for r in results), "results": results})


def graph(req: ApiRequest) -> ApiResponse:
    graphs = c.listed(req.json_object(), "graphs", MAX_GRAPHS, f"a request may contain at most {MAX_GRAPHS} graphs")
    out = []
    for g in graphs:
        subs = g.get("compositeRequest") if isinstance(g, dict) else None
        if not isinstance(subs, list) or not subs or not g.get("graphId"):
            raise errors.InvalidApiInput("Each graph needs a graphId and a compositeRequest list")
        if len(subs) > MAX_GRAPH_NODES:
            raise errors.LimitExceeded(f"Limit Exceeded: a graph may contain at most {MAX_GRAPH_NODES} nodes")
        entries = c.run_composite(req, subs, True)
        ok = all(e["httpStatusCode"] < 400 for e in entries)
        out.append({"graphId": g["graphId"], "graphResponse": {"compositeResponse": entries}, "isSuccessful": ok})
    return ApiResponse(200, {"graphs": out})
