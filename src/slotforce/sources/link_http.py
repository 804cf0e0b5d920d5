"""HTTP for the scheduling tools' REST APIs: Bearer token, JSON, backoff on 429, errors that say what to check.

    client = ApiClient("calendly", "https://api.calendly.com", token)
    page = client.get("/users/me")                         # parsed JSON

A 429 is retried after the server's Retry-After (or X-RateLimit-Reset, which Calendly documents),
a 502/503/504 or a dropped connection with a short exponential wait; 401 and 403 raise
`LinkApiError` with what to check. The token only ever goes to `base_url`'s origin: a page link
the API hands back is re-based on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import RetryCallState, retry, retry_if_exception_type, stop_after_attempt

TIMEOUT_SECONDS = 30
ATTEMPTS = 6
MAX_WAIT_SECONDS = 120.0  # a Retry-After longer than this is not worth holding an hourly run for
TRANSIENT = (502, 503, 504)

# What a 401/403 means for each tool, in the words of its settings pages.
HINTS = {
    401: "the token is missing, mistyped, expired or revoked: create a new one and put it in ${env}",
    403: "the token is valid but may not read this: {scopes}",
}
SCOPES = {
    "calendly": "use a token of an organization owner or admin with the scopes users:read, "
                "organizations:read and event_types:read",
    "calcom": "use an API key of an organization admin (the organization endpoints need the ORG_ADMIN role)",
}


class LinkApiError(Exception):
    """The scheduling tool's API could not give the links; the message says what to check."""


class TokenMissing(LinkApiError):
    """The environment variable that should hold the API token is unset or empty."""


class _Retry(Exception):
    """A response worth trying again, after `wait` seconds (None: the default backoff)."""

    def __init__(self, why: str, wait: float | None = None):
        super().__init__(why)
        self.wait = wait


def retry_after(headers: Any, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (seconds or epoch)."""
    from email.utils import parsedate_to_datetime

    now = time.time() if now is None else now
    for name in ("Retry-After", "X-RateLimit-Reset"):
        value = (headers.get(name) or "").strip()
        if not value:
            continue
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError):
                continue
        else:
            if seconds > 1e9:  # an epoch time (Cal.com's X-RateLimit-Reset-*), not a delay
                seconds -= now
        return min(max(seconds, 0.0), MAX_WAIT_SECONDS)
    return None


def _wait(state: RetryCallState) -> float:
    err = state.outcome.exception() if state.outcome else None
    if isinstance(err, _Retry) and err.wait is not None:
        return err.wait
    return min(0.5 * 2 ** (state.attempt_number - 1), 8.0)


def _message(body: Any) -> str:
    """The error text of either tool's error body ({title, message} or {error: {code, message}})."""
    if not isinstance(body, dict):
        return ""
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
    return " ".join(str(inner[k]) for k in ("title", "code", "message") if inner.get(k))


@dataclass
class ApiClient:
    source: str  # calendly | calcom
    base_url: str
    token: str
    token_env: str = ""
    headers: dict[str, str] | None = None
    session: requests.Session | None = None
    calls: int = 0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.session is None:
            self.session = requests.Session()  # trust_env on: REQUESTS_CA_BUNDLE and proxies apply

    def rebase(self, url: str) -> str:
        """A path, or an absolute link from the API, as a URL on base_url's origin."""
        parts = urlsplit(url)
        if not parts.scheme:
            return self.base_url + (url if url.startswith("/") else "/" + url)
        base = urlsplit(self.base_url)
        return f"{base.scheme}://{base.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def get(self, path: str, params: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None,
            missing_ok: bool = False) -> Any:
        """GET `path` (or a page link) as JSON; None for a 404 when `missing_ok`."""
        try:
            return self._get(self.rebase(path), params, headers, missing_ok)
        except _Retry as err:
            raise LinkApiError(f"{self.source} API: {err} (gave up after {ATTEMPTS} attempts)") from None

    @retry(retry=retry_if_exception_type(_Retry), wait=_wait, stop=stop_after_attempt(ATTEMPTS), reraise=True)
    def _get(self, url: str, params: dict[str, Any] | None, headers: dict[str, str] | None, missing_ok: bool) -> Any:
        self.calls += 1
        sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                **(self.headers or {}), **(headers or {})}
        try:
            answer = self.session.get(url, params=params, headers=sent, timeout=TIMEOUT_SECONDS)
        except requests.exceptions.SSLError as err:
            raise LinkApiError(f"{self.source} API at {self.base_url}: TLS failed ({err}); "
                               "check base_url and REQUESTS_CA_BUNDLE") from None
        except (requests.ConnectionError, requests.Timeout) as err:
            raise _Retry(f"GET {url}: {type(err).__name__}") from None
        if answer.status_code == 429:
            raise _Retry(f"GET {url}: 429 Too Many Requests", retry_after(answer.headers))
        if answer.status_code in TRANSIENT:
            raise _Retry(f"GET {url}: HTTP {answer.status_code}")
        if answer.status_code == 404 and missing_ok:
            return None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code in HINTS:
            hint = HINTS[answer.status_code].format(env=self.token_env or "the token variable",
                                                    scopes=SCOPES.get(self.source, "check its permissions"))
            raise LinkApiError(f"{self.source} API answered {answer.status_code} to GET {urlsplit(url).path}"
                               f" ({_message(body) or answer.reason}): {hint}")
        if answer.status_code >= 400 or body is None:
            raise LinkApiError(f"{self.source} API answered {answer.status_code} to GET {urlsplit(url).path}: "
                               f"{_message(body) or answer.text[:200] or answer.reason}")
        return body
