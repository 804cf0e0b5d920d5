"""A local HTTPS stand-in for the Calendly and Cal.com APIs, serving tests/fixtures/link_apis/ as documented.

    with FakeLinkApi("calendly", tmp_path) as api:     # api.url, api.ca_path, api.requests
        api.throttle_once("/event_types", {"X-RateLimit-Reset": "1"})

A wrong or missing Bearer token gets the tool's documented 401 body. Calendly pages are chosen by
`page_token` (the fixtures' next_page links name the real host; the client must re-base them);
Cal.com lists are sliced by `skip`/`take`, as the API does.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import trustme

FIXTURES = Path(__file__).parents[1] / "fixtures" / "link_apis"
TOKEN = "test-link-api-token"
CALENDLY_ORG = "https://api.calendly.com/organizations/ORGSLOTFORCE0001"


def fixture(tool: str, name: str) -> dict:
    return json.loads((FIXTURES / tool / name).read_text())


def _calendly(path: str, query: dict[str, str], headers) -> tuple[int, dict]:
    pages = {"/organization_memberships": ("organization_memberships", "MEMBERSPAGE2TOKEN"),
             "/event_types": ("event_types", "EVENTTYPESPAGE2TOKEN")}
    if path == "/users/me":
        return 200, fixture("calendly", "users_me.json")
    if path in pages:
        if query.get("organization") != CALENDLY_ORG:
            return 400, {"title": "Invalid Argument", "message": "The supplied parameters are invalid."}
        name, second = pages[path]
        return 200, fixture("calendly", f"{name}_page{2 if query.get('page_token') == second else 1}.json")
    return 404, {"title": "Resource Not Found", "message": "The server could not find the requested resource."}


def _calcom(path: str, query: dict[str, str], headers) -> tuple[int, dict]:
    lists = {"/v2/organizations/9/users": "organization_users.json",
             "/v2/organizations/9/teams/event-types": "organization_teams_event_types.json"}
    if path == "/v2/me":
        return 200, fixture("calcom", "me.json")
    if path == "/v2/event-types":
        if headers.get("cal-api-version") != "2024-06-14":
            return 400, {"status": "error", "path": path, "error": {"code": "BadRequestException",
                                                                    "message": "cal-api-version header missing"}}
        return 200, fixture("calcom", "event_types.json")
    if path in lists:
        doc = fixture("calcom", lists[path])
        skip, take = int(query.get("skip", 0)), int(query.get("take", 250))
        return 200, {**doc, "data": doc["data"][skip:skip + take]}
    return 404, {"status": "error", "path": path, "error": {"code": "NotFoundException", "message": "Not Found"}}


ROUTES = {"calendly": _calendly, "calcom": _calcom}
UNAUTHORIZED = {"calendly": "unauthenticated.json", "calcom": "unauthorized.json"}


class FakeLinkApi:
    def __init__(self, tool: str, folder: Path):
        self.tool = tool
        ca = trustme.CA(organization_name="slotforce fake link API")
        self.ca_path = str(folder / f"{tool}-api-ca.pem")
        ca.cert_pem.write_to_path(self.ca_path)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(self._context)
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []  # (path, query, headers)
        self._throttled: dict[str, dict[str, str]] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def throttle_once(self, path: str, headers: dict[str, str]) -> None:
        """The next request for `path` answers 429 with `headers`."""
        self._throttled[path] = headers

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                fake.requests.append((parts.path, query, dict(self.headers)))
                extra: dict[str, str] = {}
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, body = 401, fixture(fake.tool, UNAUTHORIZED[fake.tool])
                elif parts.path in fake._throttled:
                    status, body, extra = 429, None, fake._throttled.pop(parts.path)
                else:
                    status, body = ROUTES[fake.tool](parts.path, query, self.headers)
                payload = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def __enter__(self) -> FakeLinkApi:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.socket = self._context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
