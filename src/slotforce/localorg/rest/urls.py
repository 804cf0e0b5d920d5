"""The REST API's route table: path pattern (after /services/data/vXX.X/), methods, handler, billing kind.

ROUTES are served; REFUSED are real Salesforce resources answered 400 UNSUPPORTED_BY_LOCAL_ORG.

Order matters: the first entry whose pattern and method match wins, and a path that matches only
with other methods answers 405 naming them in this order. metadata/urls.py adds the Metadata
API's REST face; app.py joins both into the table every request carries.
"""

from __future__ import annotations

from slotforce.localorg.rest import bulk2, bulk2_query, composite, composite_graph, query, replication, sobjects, tree
from slotforce.localorg.rest.refusals import refused
from slotforce.localorg.rest.dispatch import route

_NAME = r"(?P<sobject>[A-Za-z][A-Za-z0-9_]*)"
_FIELD = r"(?P<field>[A-Za-z][A-Za-z0-9_]*)"
_JOB = r"(?P<job>[0-9A-Za-z]{15,18})"

_ANY = "GET|POST|PATCH|PUT|DELETE"


def _refuse(pattern: str, feature: str, methods: str = _ANY):
    """A real Salesforce resource the local org does not serve: 400 UNSUPPORTED_BY_LOCAL_ORG naming it (not billed)."""
    return route(pattern, methods, refused(feature), None)


def _bulk_jobs(family: str, handlers) -> tuple:
    """jobs/{family} (GET list, POST create), jobs/{family}/{id} (GET, PATCH, DELETE) and the job's SUBRESOURCES."""
    base = rf"^jobs/{family}"
    return (route(rf"{base}/?$", "GET|POST", handlers.jobs, "bulk"),
            route(rf"{base}/{_JOB}/?$", "GET|PATCH|DELETE", handlers.job, "bulk"),
            *(route(rf"{base}/{_JOB}/{name}/?$", methods, handler, "bulk")
              for name, methods, handler in handlers.SUBRESOURCES))


ROUTES = (
    # Resources by version, limits, sObject describes and records
    route(r"^$", "GET", sobjects.resources, None),
    route(r"^limits/?$", "GET", sobjects.limits, None),
    route(r"^limits/recordCount/?$", "GET", replication.record_count, None),
    route(r"^recent/?$", "GET", replication.recent, "query"),
    route(r"^sobjects/?$", "GET", sobjects.global_describe, "describe"),
    route(rf"^sobjects/{_NAME}/describe/?$", "GET", sobjects.sobject_describe, "describe"),
    route(rf"^sobjects/{_NAME}/?$", "GET", sobjects.basic_info, "describe"),
    route(rf"^sobjects/{_NAME}/?$", "POST", sobjects.create, "sobject"),
    route(rf"^sobjects/{_NAME}/updated/?$", "GET", replication.updated, "sobject"),
    route(rf"^sobjects/{_NAME}/deleted/?$", "GET", replication.deleted, "sobject"),
    _refuse(rf"^sobjects/{_NAME}/describe/.+$", "The describe resource {path} (layouts, compact and approval layouts)"),
    _refuse(rf"^sobjects/{_NAME}/(listviews|quickActions|eventSchema|relevantItems|defaultValues|"
            r"passwordUtilities|suggestedArticles|richTextImageFields)(/.*)?$",
            "The sObject resource {path}"),
    route(rf"^sobjects/{_NAME}/(?P<id>[^/]+)/?$", "GET|PATCH|DELETE", sobjects.record, "sobject"),
    route(r"^sobjects/User/(?P<id>[0-9A-Za-z]{15,18})/password/?$", "GET|POST|DELETE", sobjects.user_password,
          "sobject"),
    _refuse(rf"^sobjects/{_NAME}/(?=[^/]*\d)[0-9A-Za-z]{{15}}([0-9A-Za-z]{{3}})?/[^/]+/?$",
            "Relationship traversal and blob retrieval (sobjects/{sobject}/{{id}}/{{relationship or field}})"),
    route(rf"^sobjects/{_NAME}/{_FIELD}/(?P<value>.*)$", "GET|PATCH|POST|DELETE", sobjects.by_external_id,
          "sobject"),
    # sObject Collections and Composite
    route(r"^composite/sobjects/?$", "POST|PATCH|DELETE", composite.collections, "collections"),
    route(rf"^composite/sobjects/{_NAME}/?$", "GET|POST|PATCH", composite.collections_typed, "collections"),
    route(rf"^composite/sobjects/{_NAME}/{_FIELD}/?$", "PATCH", composite.collections_upsert, "collections"),
    route(r"^composite/?$", "POST", composite.composite, "composite"),
    route(rf"^composite/tree/{_NAME}/?$", "POST", tree.tree, "composite"),
    route(r"^composite/batch/?$", "POST", composite_graph.batch, "composite"),
    route(r"^composite/graph/?$", "POST", composite_graph.graph, "composite"),
    # Query, QueryAll, their next batches, Tooling queries
    route(r"^query/?$", "GET", query.query, "query"),
    route(r"^queryAll/?$", "GET", query.query_all, "query"),
    route(r"^(?P<kind>query|queryAll)/(?P<locator>01g[0-9A-Za-z]{12,15})-(?P<start>\d+)/?$", "GET",
          query.query_more, "query"),
    route(r"^tooling/query/?$", "GET", query.tooling_query, "tooling"),
    # Bulk API 2.0 ingest and query jobs (bulk_jobs.py and bulk_query.py run them)
    *_bulk_jobs("ingest", bulk2),
    *_bulk_jobs("query", bulk2_query),
)

# Real resources the local org refuses, by family (docs/design.md "Local org endpoints"); app.py puts
# them after every served table (metadata/urls.py's too), so a served path is never refused.
REFUSED = (
    _refuse(r"^composite/tree/?$", "Composite tree without an sObject (composite/tree/{{sObject}} is served)"),
    _refuse(r"^composite/sobjects/.+$", "The sObject Collections form {path}"),
    _refuse(r"^(search|parameterizedSearch)(/.*)?$", "SOSL search (search, parameterizedSearch)"),
    _refuse(r"^tooling/executeAnonymous/?$", "Anonymous Apex (tooling/executeAnonymous): the local org runs no Apex"),
    _refuse(r"^tooling/(runTestsAsynchronous|runTestsSynchronous)/?$",
            "Apex tests (tooling/runTests*): the local org runs no Apex"),
    _refuse(r"^tooling/.*$", "The Tooling API resource {path} (only tooling/query is served)"),
    _refuse(r"^metadata/.*$", "The Metadata REST resource {path} (only metadata/deployRequest is served)"),
    _refuse(r"^(connect|chatter)(/.*)?$", "Connect REST API (connect, chatter)"),
    _refuse(r"^ui-api(/.*)?$", "User Interface API (ui-api)"),
    _refuse(r"^(actions|process|quickActions|analytics|wave|smartdatadiscovery|async-queries|event|"
            r"appMenu|tabs|theme|support|licensing|consent|scheduling|commerce|knowledgeManagement|"
            r"compactLayouts|localizedvalue|emailConnect|folders|jsonxform|nouns|iot|eclair|domino|"
            r"serviceTemplates|match|prechatForms|fingerprint|sobjects/relevantItems|apexrest)(/.*)?$",
            "The REST resource {path}"),
)
