"""`slotforce ingest --source calcom|calendly|api FILE...`: store payload files in the outbox."""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path

import click

from slotforce.sources import SOURCES, WebhookRejected, options_for, receive
from slotforce.store import DEFAULT_ORG, StoreError, configured_org, open_configured_store, read_config
from slotforce.yamlfile import config_option, config_path


@click.command()
@config_option
@click.option("--source", required=True, type=click.Choice(sorted(SOURCES)), help="Which format the files are in.")
@click.option("--org", "org", default=None, metavar="NAME",
              help="Whose bookings they are (a name under orgs: in slotforce.yml); default: the only org.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
def ingest(config: str | None, source: str, org: str | None, files: tuple[str, ...]) -> None:
    """Store webhook payload FILES in the outbox, exactly as if the webhook had been delivered.

    Signatures are NOT checked: files are trusted local input (you read them from your own disk).
    Everything else is: size limit, format, required fields. Repeated files are stored once.
    `-` reads one payload from standard input. Run `slotforce sync` (or the service) to send them.
    """
    rejected = 0
    try:
        org = configured_org(config, org)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    limits = _size_limit(config, source, org)
    try:
        outbox = open_configured_store(config)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    with closing(outbox):
        for name in files:
            body = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            try:
                receipt = receive(
                    outbox, source, body, {"Content-Type": "application/json"}, secrets=None, verify=False, org=org,
                    **limits
                )
            except WebhookRejected as exc:
                rejected += 1
                click.echo(f"{name}: rejected: {exc.reason}", err=True)
                continue
            except StoreError as exc:
                raise click.ClickException(str(exc)) from exc
            new = len(receipt.item_ids) - len(receipt.duplicate_item_ids)
            if not receipt.item_ids:
                note = receipt.note
                click.echo(f"{name}: stored, no booking change" + (f" ({note})" if note else ""))
            elif new == 0:
                click.echo(f"{name}: already queued (items {_ids(receipt.item_ids)})")
            else:
                click.echo(f"{name}: queued {new} change(s) (items {_ids(receipt.item_ids)})")
    if rejected:
        raise click.ClickException(f"{rejected} of {len(files)} file(s) rejected; nothing was stored for them")


def _size_limit(config: str | None, source: str, org: str = DEFAULT_ORG) -> dict[str, int]:
    """The size limit applies to files too (`sources.<name>.max_body_bytes`); the replay window does not."""
    try:
        raw = read_config(config_path(config))
        block = (raw.get("orgs") or {}).get(org) if isinstance(raw.get("orgs"), dict) else raw
        sources = block.get("sources") if isinstance(block, dict) else None
        options = options_for(source, sources if isinstance(sources, dict) else None)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    except (TypeError, ValueError) as exc:
        raise click.ClickException(f"sources.{source}.max_body_bytes: {exc}") from exc
    return {"max_body_bytes": options["max_body_bytes"]} if "max_body_bytes" in options else {}


def _ids(ids: tuple[int, ...]) -> str:
    return ", ".join(str(i) for i in ids)

