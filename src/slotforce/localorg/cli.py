"""`slotforce org`: run the local org and print how to connect to it."""

from __future__ import annotations

import json
import shlex
import signal
import sys

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
def serve(port: int, state_dir: str) -> None:
    """Serve the local org until Ctrl-C / SIGTERM; writes STATE/org.json and prints it on one line."""
    try:
        local = LocalOrg(state_dir=state_dir, port=port)
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
