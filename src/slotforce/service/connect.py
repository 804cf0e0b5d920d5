"""Open a simple_salesforce.Salesforce from slotforce.yml's `salesforce:` block.

- `local: STATE_DIR`: the local org's STATE_DIR/org.json (instance URL, token, its CA bundle).
- `cumulusci: ORGNAME`: the org as CumulusCI's keychain knows it (token refreshed by CumulusCI).
- `jwt: {client_id, username, private_key_file, login_url}`: the JWT bearer flow (login.py).
- `refresh: {client_id, instance_url, refresh_token_env, client_secret_env}`: a refresh-token grant.

The two credential kinds log in again, once, when the org ends their session mid-run (relogin.py).

Secrets are read from environment variables named in the file, never from the file itself.

Every client gets a `CallGuard` on its requests Session: simple-salesforce sets no timeout, so one
hung call would hold a worker (and its lease) forever. The worker tightens the timeout to below its
lease and hooks a lease check in before each call (`call_guard`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from simple_salesforce import Salesforce

from slotforce.service.login import LoginError, jwt_login, refresh_login
from slotforce.service.login import Session as LoginSession
from slotforce.service.relogin import Relogin
from slotforce.sync import SalesforceSettings


# Seconds one Salesforce call may take when nobody set a tighter limit (the worker does: 3/4 of its lease).
DEFAULT_CALL_TIMEOUT = 90.0


class ConnectError(Exception):
    """The org named in slotforce.yml cannot be reached; the message says which key and what to do."""


class CallGuard:
    """Stands in for a requests Session's `request`: a default timeout, and a check before each call.

    `before_call(method, url)` may raise to stop the call before anything is sent (the worker's
    lease check raises `LeaseLost`, a `requests.RequestException` to the gateway's eyes).
    `on_result(answered, detail)` hears how each call went: False when no answer came, or a 5xx, or
    the session was refused (401): what an outage looks like from here (the service's health).
    """

    def __init__(self, request: Callable[..., requests.Response], timeout: float) -> None:
        self._request = request
        self.timeout = timeout
        self.before_call: Callable[[str, str], None] | None = None
        self.on_result: Callable[[bool, str], None] | None = None

    def __call__(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if self.before_call is not None:
            self.before_call(method, url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        try:
            response = self._request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            self._report(False, f"{method} {urlparse(url).path}: {type(exc).__name__}: {exc}")
            raise
        failed = response.status_code >= 500 or response.status_code == 401
        self._report(not failed, f"{method} {urlparse(url).path}: HTTP {response.status_code}" if failed else "")
        return response

    def _report(self, answered: bool, detail: str) -> None:
        if self.on_result is not None:
            self.on_result(answered, detail)


def call_guard(sf: Salesforce, timeout: float | None = None) -> CallGuard:
    """The guard on `sf`'s session (installed on first use), with `timeout` seconds if given.

    Works on any simple-salesforce client, also ones made elsewhere (a test's LocalOrg.client()).
    """
    guard = _guarded(sf.session)
    if timeout is not None:
        guard.timeout = timeout
    return guard


def _guarded(session: requests.Session) -> CallGuard:
    guard = session.__dict__.get("request")
    if not isinstance(guard, CallGuard):
        guard = CallGuard(session.request, DEFAULT_CALL_TIMEOUT)
        session.request = guard  # type: ignore[method-assign]  # Session.get/post call self.request too
    return guard


def _session() -> requests.Session:
    session = requests.Session()
    _guarded(session)
    return session


def _local(state_dir: Path, version: str) -> Salesforce:
    org_json = state_dir / "org.json"
    if not org_json.exists():
        raise ConnectError(f"salesforce.local: {org_json} does not exist; start the org first with "
                           f"`slotforce org serve --state {state_dir}`")
    try:
        info = json.loads(org_json.read_text())
        instance_url, token = info["instance_url"], info["access_token"]
    except (ValueError, KeyError) as exc:
        raise ConnectError(f"salesforce.local: {org_json} is not a local org's org.json ({exc})") from exc
    session = _session()
    # REQUESTS_CA_BUNDLE would override `verify`; the local org's CA is what this session must trust.
    session.trust_env = False
    ca = info.get("ca_bundle")
    if ca:
        ca_path = Path(ca) if Path(ca).is_absolute() else state_dir / ca
        session.verify = str(ca_path)
    return Salesforce(instance_url=instance_url, session_id=token, version=info.get("api_version") or version,
                      session=session)


def _cumulusci(org_name: str, version: str) -> Salesforce:
    try:
        from cumulusci.cli.runtime import CliRuntime

        runtime = CliRuntime(load_keychain=True)
        _, org_config = runtime.get_org(org_name)
        org_config.refresh_oauth_token(runtime.keychain)
    except Exception as exc:  # CumulusCI raises many types; all mean "this org is not usable"
        raise ConnectError(f"salesforce.cumulusci: cannot use CumulusCI org {org_name!r}: {exc} "
                           f"(check `cci org list` in this project)") from exc
    return Salesforce(instance_url=org_config.instance_url, session_id=org_config.access_token, version=version,
                      session=_session())


def _jwt(cfg, base_dir: Path, version: str) -> Salesforce:
    key_file = Path(cfg.private_key_file).expanduser()
    key_file = key_file if key_file.is_absolute() else base_dir / key_file
    if not key_file.exists():
        raise ConnectError(f"salesforce.jwt.private_key_file: {key_file} does not exist")
    session = requests.Session()
    return _logged_in(session, version, partial(jwt_login, session, login_url=cfg.login_url,
                                                client_id=cfg.client_id, username=cfg.username, key_file=key_file))


def _refresh(cfg, version: str) -> Salesforce:
    token = os.environ.get(cfg.refresh_token_env)
    if not token:
        raise ConnectError(f"salesforce.refresh.refresh_token_env: the environment variable {cfg.refresh_token_env} is not set")
    secret = None
    if cfg.client_secret_env:
        secret = os.environ.get(cfg.client_secret_env)
        if not secret:
            raise ConnectError(f"salesforce.refresh.client_secret_env: {cfg.client_secret_env} is not set")
    session = requests.Session()
    return _logged_in(session, version, partial(refresh_login, session, url=cfg.instance_url, client_id=cfg.client_id,
                                                refresh_token=token, client_secret=secret,
                                                token_env=cfg.refresh_token_env))


def _logged_in(session: requests.Session, version: str, login: Callable[[], LoginSession]) -> Salesforce:
    """A client on `session` that logs in with `login` now, and again whenever the org ends the session."""
    try:
        relogin = Relogin(session, login)
    except LoginError as exc:
        raise ConnectError(str(exc)) from None
    _guarded(session)
    sf = Salesforce(instance_url=relogin.current.instance_url, session_id=relogin.current.access_token,
                    version=version, session=session)
    relogin.client = sf
    return sf


def connect(sf: SalesforceSettings, base_dir: str | os.PathLike[str] = ".") -> Salesforce:
    """A connected client for the org `sf` names; relative paths are relative to `base_dir`."""
    base = Path(base_dir)
    version = sf.api_version
    if sf.local:
        state = Path(sf.local).expanduser()
        return _local(state if state.is_absolute() else base / state, version)
    if sf.cumulusci:
        return _cumulusci(sf.cumulusci, version)
    if sf.jwt:
        return _jwt(sf.jwt, base, version)
    if sf.refresh:
        return _refresh(sf.refresh, version)
    raise ConnectError("salesforce: choose one of local, cumulusci, jwt, refresh")
