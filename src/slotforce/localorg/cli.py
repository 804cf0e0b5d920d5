"""`slotforce org`: run the local org and print how to connect to it."""

from __future__ import annotations

import json
import shlex
import signal
import sys
from pathlib import Path

import click

from slotforce.localorg.server import LocalOrg, env_exports

DEFAULT_STATE = ".slotforce/org"


@click.group()
def org() -> None:
    """The local org: a Salesforce-compatible HTTPS server for development and tests."""


@org.command()
@click.option("--port", default=8443, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--state", "state_dir", default=DEFAULT_STATE, show_default=True, type=click.Path(file_okay=False),
              help="Directory for the database, certificates and org.json (kept between runs).")
@click.option("--session-seconds", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Access tokens from /services/oauth2/token end after N seconds (then 401 INVALID_SESSION_ID); "
                   "org.json's token never ends. Default: sessions last while the org runs.")
def serve(port: int, state_dir: str, session_seconds: float | None) -> None:
    """Serve the local org until Ctrl-C / SIGTERM; writes STATE/org.json and prints it on one line."""
    try:
        local = LocalOrg(state_dir=state_dir, port=port, session_seconds=session_seconds)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; "
                                   "pick another --port (0 = any free port)") from None
    # uvicorn shuts down gracefully, then re-raises the signal it caught: make that a clean exit
    # (set before the line below: whoever reads it may signal us at once)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    local.write_org_json()
    click.echo(json.dumps(local.info()), nl=True)
    sys.stdout.flush()  # whoever started us is waiting for this line
    try:
        local.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        local.org.close()


@org.command()
@click.option("--state", "state_dir", default=DEFAULT_STATE, show_default=True, type=click.Path(file_okay=False),
              help="The state directory of a served org.")
@click.option("--name", default="local", show_default=True, help="CumulusCI org name (CUMULUSCI_ORG_<name>).")
def env(state_dir: str, name: str) -> None:
    """Print shell exports for requests/CumulusCI: eval "$(slotforce org env --state DIR)"."""
    try:
        exports = env_exports(state_dir, name)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    for variable, value in exports.items():
        click.echo(f"export {variable}={shlex.quote(value)}")


_state_option = click.option("--state", "state_dir", default=DEFAULT_STATE, show_default=True,
                             type=click.Path(file_okay=False), help="The local org's state directory.")


@org.group("connected-app")
def connected_app() -> None:
    """Connected apps of the local org: what the JWT bearer and refresh-token grants check."""


@connected_app.command("add")
@_state_option
@click.option("--client-id", required=True, help="The consumer key (the JWT's iss, the refresh grant's client_id).")
@click.option("--certificate", required=True, type=click.Path(dir_okay=False, exists=True),
              help="PEM X.509 certificate whose private key signs the JWT assertions (server.crt).")
@click.option("--callback-url", default=None, help="The app's callback URL (kept for the authorization-code flow).")
def connected_app_add(state_dir: str, client_id: str, certificate: str, callback_url: str | None) -> None:
    """Register a connected app (kept in STATE/oauth.json; a served org sees it at once)."""
    from slotforce.localorg.oauth import OAuth

    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    try:
        app = OAuth(None, state).add_connected_app(client_id, Path(certificate).read_text(), callback_url)
    except ValueError as exc:
        raise click.ClickException(f"--certificate {certificate}: {exc}") from None
    click.echo(json.dumps({"client_id": app["client_id"], "consumer_secret": app["consumer_secret"],
                           "callback_url": app["callback_url"]}))


@connected_app.command("token")
@_state_option
@click.option("--client-id", required=True, help="A connected app added with `connected-app add`.")
@click.option("--username", default=None, help="The user the token acts as (default: the org's admin).")
def connected_app_token(state_dir: str, client_id: str, username: str | None) -> None:
    """Issue a refresh token, as a user approving the app would get one; prints it as JSON."""
    from slotforce.localorg.errors import OAuthError
    from slotforce.localorg.models import Org
    from slotforce.localorg.oauth import OAuth

    database = Path(state_dir) / "org.db"
    if not database.exists():
        raise click.ClickException(f"{database} does not exist: start the org once with "
                                   f"`slotforce org serve --state {state_dir}`")
    local = Org(str(database))
    try:
        user = username or local.username
        token = OAuth(local, Path(state_dir)).issue_refresh_token(client_id, user)
    except OAuthError as exc:
        what = "--client-id: no connected app has that id (add it with `slotforce org connected-app add`)" \
            if exc.error_code == "invalid_client_id" else f"--username: {user} is not an active user of the org"
        raise click.ClickException(what) from None
    finally:
        local.close()
    click.echo(json.dumps({"refresh_token": token, "client_id": client_id, "username": user}))
