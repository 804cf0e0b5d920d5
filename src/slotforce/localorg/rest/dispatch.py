"""Requests under /services/data/vXX.X/: resolving a route table, JSON in/out, errors as Salesforce shapes them.

The tables themselves are urls.py (and metadata/urls.py); the app joins them into one RouteTable
that every request carries. The same `dispatch` serves HTTP requests (via app.py) and Composite
subrequests (in-process, inside the Composite's transaction), so a subrequest behaves exactly
like its REST twin.
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from slotforce.localorg import errors
from slotforce.localorg.errors import SalesforceError
from slotforce.localorg.models import Org, Transaction

MIN_VERSION = 31
MAX_VERSION = 63
VERSIONS = [f"{v}.0" for v in range(MIN_VERSION, MAX_VERSION + 1)]
MAX_BODY_BYTES = 20 * 1024 * 1024
# Bulk API 2.0: "the maximum size for a single upload is 150 MB" (of base64-encoded content, Bulk API 2.0 limits)
MAX_BULK_UPLOAD_BYTES = 150 * 1024 * 1024


@dataclasses.dataclass
class ApiRequest:
    """One REST call: `path` is what follows /services/data/vXX.X/ (raw, still percent-encoded)."""

    org: Org
    ctx: Transaction
    method: str
    version: str
    path: str
    params: dict[str, str]
    routes: RouteTable
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    composite_all_or_none: bool = False
    groups: dict[str, str] = dataclasses.field(default_factory=dict)
    _json: Any = dataclasses.field(default=None, repr=False)
    _parsed: bool = False

    @property
    def version_number(self) -> float:
        return float(self.version)

    def json(self) -> Any:
        """The parsed body, or JSON_PARSER_ERROR with the position Salesforce's parser would give."""
        if not self._parsed:
            self._json = parse_json(self.body)
            self._parsed = True
        return self._json

    def json_object(self) -> dict:
        data = self.json()
        if not isinstance(data, dict):
            raise errors.JsonParserError(
                f"Cannot deserialize instance of sobject from {'START_ARRAY' if isinstance(data, list) else 'VALUE_STRING'} "
                "value or request may be missing a required field at [line:1, column:1]")
        return data

    def sobject(self, name: str | None = None):
        """The sObject named in the URL; unknown names are 404 NOT_FOUND on sObject routes."""
        name = name if name is not None else self.groups["sobject"]
        s = self.org.schema.get(name)
        if s is None:
            raise errors.NotFound("The requested resource does not exist")
        return s


@dataclasses.dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def flag(value: Any) -> bool:
    """A Boolean as Salesforce reads it from a JSON body or a query parameter: true, or "true" in any case."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def parse_json(body: bytes | str | None) -> Any:
    if body is None or body == b"" or body == "":
        raise errors.JsonParserError("No content to map due to end-of-input at [line:1, column:0]")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text)
    except UnicodeDecodeError:
        raise errors.JsonParserError("Invalid UTF-8 start byte at [line:1, column:1]") from None
    except json.JSONDecodeError as exc:
        return _bad_json(exc)


def _bad_json(exc: json.JSONDecodeError):
    char = exc.doc[exc.pos] if exc.pos < len(exc.doc) else ""
    what = f"Unexpected character ('{char}' (code {ord(char)}))" if char else "Unexpected end-of-input"
    raise errors.JsonParserError(f"{what}: {exc.msg.lower()} at [line:{exc.lineno}, column:{exc.colno}]")


def error_response(exc: SalesforceError, *, code_first: bool = False) -> ApiResponse:
    """`exc` as REST answers it: a list of one error (`code_first`: see SalesforceError.to_json)."""
    return ApiResponse(exc.status, [exc.to_json(code_first=code_first)])


def not_found() -> ApiResponse:
    """The REST framework's 404 for a URL no route serves (or an API version the org does not serve)."""
    return error_response(errors.NotFound(), code_first=True)


Handler = Callable[[ApiRequest], ApiResponse]


@dataclasses.dataclass(frozen=True)
class Route:
    """One entry of a route table: a regex over the path after vXX.X/, its methods, handler, billing."""

    methods: tuple[str, ...]
    pattern: re.Pattern
    handler: Handler
    kind: str | None  # what the call is billed as (None: not billed)


def route(pattern: str, methods: str, handler: Handler, kind: str | None) -> Route:
    """A route table entry: `methods` as "GET|PATCH", `pattern` a regex over the path after vXX.X/."""
    return Route(tuple(methods.split("|")), re.compile(pattern), handler, kind)


Resolved = tuple[Route | None, dict[str, str], list[str]]


class RouteTable:
    """The REST API's routes, tried in order (the first route whose pattern and method match wins)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)

    def resolve(self, method: str, path: str) -> Resolved:
        """The route for a request; or None plus the methods the path allows (for 405)."""
        path = path.split("?", 1)[0]
        allowed: list[str] = []
        for r in self.routes:
            m = r.pattern.match(path)
            if not m:
                continue
            if method in r.methods or (method == "HEAD" and "GET" in r.methods):
                return r, {k: v for k, v in m.groupdict().items() if v is not None}, []
            allowed.extend(r.methods)
        return None, {}, allowed


def dispatch(req: ApiRequest, found: Resolved | None = None) -> ApiResponse:
    """Run one API call inside `req.ctx` (routed by `req.routes`); errors become Salesforce's error list."""
    r, groups, allowed = found or req.routes.resolve(req.method, req.path)
    if r is None:
        if allowed:
            return error_response(errors.MethodNotAllowed(f"HTTP Method '{req.method}' not allowed. Allowed are "
                                                          f"{','.join(dict.fromkeys(allowed))}"), code_first=True)
        return not_found()
    req.groups = {k: urllib.parse.unquote(v) if k != "value" else urllib.parse.unquote_plus(v)
                  for k, v in groups.items()}
    return r.handler(req)


def parse_version(segment: str) -> str | None:
    """'v62.0' -> '62.0' when the local org serves that version, else None."""
    m = re.fullmatch(r"v(\d+)\.0", segment)
    if not m or not MIN_VERSION <= int(m.group(1)) <= MAX_VERSION:
        return None
    return f"{int(m.group(1))}.0"


def split_url(url: str) -> tuple[str | None, str, dict[str, str]]:
    """'/services/data/v62.0/sobjects/Account?x=1' -> ('62.0', 'sobjects/Account', {'x': '1'})."""
    parsed = urllib.parse.urlsplit(url)
    m = re.match(r"^/services/data/(v[^/]+)/?(.*)$", parsed.path)
    if not m:
        return None, parsed.path, {}
    params = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
    return parse_version(m.group(1)), m.group(2), params


def limit_info(org: Org) -> str:
    return f"api-usage={org.api_used}/{org.daily_api_max}"
