"""The REST API's route table: path pattern (after /services/data/vXX.X/), methods, handler, billing kind.

Order matters: the first entry whose pattern and method match wins, and a path that matches only
with other methods answers 405 naming them in this order. metadata/urls.py adds the Metadata
API's REST face; app.py joins both into the table every request carries.
"""

from __future__ import annotations

from slotforce.localorg.rest import composite, query, sobjects
from slotforce.localorg.rest.dispatch import route

_NAME = r"(?P<sobject>[A-Za-z][A-Za-z0-9_]*)"
_FIELD = r"(?P<field>[A-Za-z][A-Za-z0-9_]*)"

ROUTES = (
    # Resources by version, limits, sObject describes and records
    route(r"^$", "GET", sobjects.resources, None),
    route(r"^limits/?$", "GET", sobjects.limits, None),
    route(r"^sobjects/?$", "GET", sobjects.global_describe, "describe"),
    route(rf"^sobjects/{_NAME}/describe/?$", "GET", sobjects.sobject_describe, "describe"),
    route(rf"^sobjects/{_NAME}/?$", "GET", sobjects.basic_info, "describe"),
    route(rf"^sobjects/{_NAME}/?$", "POST", sobjects.create, "sobject"),
    route(rf"^sobjects/{_NAME}/(?P<id>[^/]+)/?$", "GET|PATCH|DELETE", sobjects.record, "sobject"),
    route(rf"^sobjects/{_NAME}/{_FIELD}/(?P<value>.*)$", "GET|PATCH|POST|DELETE", sobjects.by_external_id,
          "sobject"),
    # sObject Collections and Composite
    route(r"^composite/sobjects/?$", "POST|PATCH|DELETE", composite.collections, "collections"),
    route(rf"^composite/sobjects/{_NAME}/?$", "GET|POST|PATCH", composite.collections_typed, "collections"),
    route(rf"^composite/sobjects/{_NAME}/{_FIELD}/?$", "PATCH", composite.collections_upsert, "collections"),
    route(r"^composite/?$", "POST", composite.composite, "composite"),
    # Query, QueryAll, their next batches, Tooling queries
    route(r"^query/?$", "GET", query.query, "query"),
    route(r"^queryAll/?$", "GET", query.query_all, "query"),
    route(r"^(?P<kind>query|queryAll)/(?P<locator>01g[0-9A-Za-z]{12,15})-(?P<start>\d+)/?$", "GET",
          query.query_more, "query"),
    route(r"^tooling/query/?$", "GET", query.tooling_query, "tooling"),
)
