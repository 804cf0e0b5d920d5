"""Log in again once when the org ends the session (401 INVALID_SESSION_ID), then retry the call.

Salesforce ends sessions after the org's timeout, on a revoke, or when an admin logs the user out;
a long-running worker must not turn that into failed bookings. `Relogin` stands in for a requests
Session's `request`: a call answered 401 INVALID_SESSION_ID logs in again (one login for all
threads that saw the same ended token), points the Salesforce client at the new token, and sends
the call once more. A failed login surfaces as `ReloginFailed`, a transport error to the gateway,
so the change is retried later with the login's message kept as its reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import requests

from slotforce.service.login import LoginError, Session


class ReloginFailed(requests.RequestException):
    """The session ended and logging in again failed; the message says what to fix."""


class Relogin:
    """A Session.request that re-logs in on an ended session; `login()` is called once at once."""

    def __init__(self, session: requests.Session, login: Callable[[], Session]) -> None:
        self._login = login
        self.current = login()  # LoginError here: the caller names it a connection error
        self.logins = 1
        self.client: Any = None  # the simple_salesforce.Salesforce whose headers follow the token
        self._lock = threading.RLock()
        self._request = session.request
        session.request = self  # type: ignore[method-assign]

    def __call__(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        response = self._request(method, url, *args, **kwargs)
        sent = _bearer(kwargs.get("headers"))
        if response.status_code != 401 or sent is None or not _ended_session(response):
            return response
        token = self._renew(sent)
        kwargs["headers"] = {**kwargs["headers"], "Authorization": f"Bearer {token}"}
        return self._request(method, url, *args, **kwargs)

    def _renew(self, ended: str) -> str:
        with self._lock:
            if ended == self.current.access_token:  # nobody logged in again since this token was sent
                try:
                    self.current = self._login()
                except LoginError as exc:
                    raise ReloginFailed(f"the session ended and logging in again failed: {exc}") from None
                self.logins += 1
                if self.client is not None:
                    self.client.session_id = self.current.access_token
                    self.client.headers["Authorization"] = f"Bearer {self.current.access_token}"
            return self.current.access_token


def _bearer(headers: Any) -> str | None:
    value = (headers or {}).get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() in ("bearer", "oauth") and token else None


def _ended_session(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, list) and any(isinstance(e, dict) and e.get("errorCode") == "INVALID_SESSION_ID"
                                          for e in body)
