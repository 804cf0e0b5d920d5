"""Who may read the service's pages: `service.api_token_env` names the Bearer token they need.

`/status`, `/status.json`, `/metrics`, `/owner` and `/bookings/{uid}` show bookings, people's
routing and queue contents, so with a token configured they answer 401 without
`Authorization: Bearer <token>`. Webhooks have their own signatures and `/healthz` tells nothing
private (load balancers call it without credentials), so neither takes the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

GUARDED = ("/status", "/status.json", "/metrics", "/owner", "/bookings/{uid}")


class BearerToken:
    """The token from the env var `env_name` (None: no token configured, every request passes)."""

    def __init__(self, env_name: str | None, environ: Mapping[str, str] | None = None) -> None:
        self.env_name = env_name
        environ = os.environ if environ is None else environ
        self.token = (environ.get(env_name) or None) if env_name else None

    @property
    def configured(self) -> bool:
        return self.env_name is not None

    def refusal(self, request: Request) -> Response | None:
        """None when the request may pass, else the 401 to answer (saying what to send)."""
        if self.env_name is None:
            return None
        if self.token is None:
            # Fail closed: a token named but not set must not open the pages to everyone.
            return _unauthorized(f"service.api_token_env names {self.env_name}, which is not set on the server: "
                                 "set it and restart slotforce serve")
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return _unauthorized(f"send Authorization: Bearer <token> (the value of {self.env_name} on the server)")
        if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return _unauthorized(f"the Bearer token is not the value of {self.env_name}")
        return None


def _unauthorized(reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="slotforce"'})


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def open_pages_warning(token: BearerToken, host: str) -> str | None:
    """What `serve` warns about at start: the pages have no token and the port is reachable from elsewhere."""
    if token.configured or is_loopback(host):
        return None
    return (f"{', '.join(GUARDED)} are served without authentication on {host}: set service.api_token_env in "
            "slotforce.yml to the name of an environment variable holding a token, or bind to 127.0.0.1 behind "
            "a reverse proxy that authenticates")
