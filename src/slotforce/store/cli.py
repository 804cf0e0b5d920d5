"""Operator commands over the outbox: `slotforce status`, `errors`, `replay ID`, `trace BOOKING_UID`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from slotforce.store import DEFAULT_ORG, Outbox, OutboxItem, StoreError
from slotforce.store.config import configured_org, open_configured_store
from slotforce.yamlfile import config_option

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables (for scripts).")
org_option = click.option("--org", "org", default=None, metavar="NAME",
                          help="The org (a name under orgs: in slotforce.yml); default: the only one.")


def _org(config: str | None, org: str | None) -> str:
    try:
        return configured_org(config, org)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def outbox_from(config: str | None) -> Iterator[Outbox]:
    try:
        outbox = open_configured_store(config)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield outbox
    finally:
        outbox.close()


def _console() -> Console:
    # Booking uids, error messages and answers are data: no [markup], :emoji: or highlighting in them.
    return Console(width=140 if not sys.stdout.isatty() else None, highlight=False, markup=False, emoji=False)


def _when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _summary(item: OutboxItem) -> str:
    if item.state.value == "done":
        outcome = item.outcome or {}
        return ", ".join(f"{k}={v}" for k, v in outcome.items() if v not in (None, "", [], {})) or "sent"
    if item.last_error:
        return (f"{item.last_error_code}: " if item.last_error_code else "") + item.last_error
    return ""


def _item_json(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "org": item.org,
        "state": item.state.value,
        "source": item.source,
        "action": item.action,
        "booking_uid": item.booking_uid,
        "previous_booking_uid": item.previous_booking_uid,
        "event_type": item.event_type,
        "attempts": item.attempts,
        "available_at": _when(item.available_at),
        "updated_at": _when(item.updated_at),
        "error": item.last_error,
        "error_code": item.last_error_code,
        "outcome": item.outcome,
    }


def _items_table(title: str, items: list[OutboxItem]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "updated (UTC)", "state", "action", "booking uid", "event type", "tries", "result"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            str(item.id),
            _when(item.updated_at),
            item.state.value,
            item.action,
            item.booking_uid,
            item.event_type or "",
            str(item.attempts),
            _summary(item),
        )
    return table


@click.command()
@config_option
@org_option
@click.option("--recent", default=15, show_default=True, help="How many recently changed items to list.")
@json_option
def status(config: str | None, org: str | None, recent: int, as_json: bool) -> None:
    """Queue depth by state and the most recent booking changes (of one org)."""
    org = _org(config, org)
    with outbox_from(config) as outbox:
        counts = outbox.counts(org=org)
        items = outbox.items(limit=recent, org=org)
        budget = outbox.budget_wait(org=org)
    if as_json:
        wait = {"items": budget.items, "next_try_at": _when(budget.next_try_at)} if budget else None
        click.echo(json.dumps({"org": org, "counts": counts, "waiting_for_budget": wait,
                               "recent": [_item_json(i) for i in items]}, indent=2))
        return
    console = _console()
    queue = Table(title="Outbox" if org == DEFAULT_ORG else f"Outbox of org {org}", title_justify="left")
    labels = {
        "pending": "pending (due)",
        "retry_scheduled": "waiting to retry",
        "waiting_for_budget": "  of those, waiting for the API budget",
        "leased": "being sent",
        "done": "done",
        "failed": "failed (replayable)",
        "parked": "parked (replayable)",
        "deliveries": "webhook deliveries stored",
        "repeated_deliveries": "repeated deliveries ignored",
    }
    queue.add_column("state")
    queue.add_column("count", justify="right")
    for key, label in labels.items():
        queue.add_row(label, str(counts.get(key, 0)))
    console.print(queue)
    if budget:
        console.print(f"Waiting for the Salesforce API budget: {budget.items} change(s). The org's daily API request "
                      f"limit is spent (REQUEST_LIMIT_EXCEEDED; a rolling 24-hour window). Next try at "
                      f"{_when(budget.next_try_at)} UTC; waiting does not use up retries.")
    console.print(_items_table(f"Recent ({len(items)})", items) if items else "No booking changes yet.")


@click.command()
@config_option
@org_option
@click.option("--limit", default=50, show_default=True, help="How many failed/parked items to list.")
@json_option
def errors(config: str | None, org: str | None, limit: int, as_json: bool) -> None:
    """Permanent failures and parked changes (replay them by id), and the last sync error per event type."""
    org = _org(config, org)
    with outbox_from(config) as outbox:
        failed = outbox.items(states=["failed", "parked"], limit=limit, org=org)
        last = outbox.last_sync_errors(org=org)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "failed": [_item_json(i) for i in failed],
                    "last_sync_errors": [
                        {"event_type": e.event_type, "code": e.code, "message": e.message, "at": _when(e.at),
                         "item_id": e.item_id, "details": e.details}
                        for e in last
                    ],
                },
                indent=2,
            )
        )
        return
    console = _console()
    if failed:
        console.print(_items_table(f"Failed and parked ({len(failed)}): `slotforce replay ID` sends one again", failed))
    else:
        console.print("No failed or parked booking changes.")
    if last:
        table = Table(title="Last sync error per event type", title_justify="left")
        for column in ("event type", "at (UTC)", "code", "message", "item", "details"):
            table.add_column(column, overflow="fold")
        for e in last:
            details = ", ".join(f"{k}: {v}" for k, v in e.details.items())
            table.add_row(e.event_type, _when(e.at), e.code or "", e.message, str(e.item_id or ""), details)
        console.print(table)
    else:
        console.print("No sync errors recorded.")


@click.command()
@config_option
@click.option("--org", "org", default=None, metavar="NAME",
              help="Only this org's items (IDs of another org's are refused); --all-parked: default the only org.")
@click.argument("item_ids", metavar="ID...", nargs=-1, type=int)
@click.option(
    "--all-parked",
    is_flag=True,
    help="Replay every parked change (e.g. changes of bookings made before slotforce was installed).",
)
def replay(config: str | None, org: str | None, item_ids: tuple[int, ...], all_parked: bool) -> None:
    """Send failed or parked booking changes again (IDs from `slotforce errors`).

    A replayed change no longer waits for its booking's create: use it when the Event exists in
    Salesforce already, or once the cause of a failure is fixed.
    """
    if not item_ids and not all_parked:
        raise click.UsageError("give at least one ID, or --all-parked")
    problems = 0
    if org is not None or all_parked:  # (item ids are one sequence over every org)
        org = _org(config, org)
    with outbox_from(config) as outbox:
        ids = list(item_ids)
        if all_parked:
            ids += [i.id for i in outbox.items(states=["parked"], limit=1_000_000, org=org) if i.id not in ids]
        for item_id in ids:
            try:
                if org is not None and (owner := outbox.get(item_id).org) != org:
                    raise StoreError(f"item {item_id} is org {owner}'s, not {org}'s")
                item = outbox.replay(item_id)
            except StoreError as exc:
                problems += 1
                click.echo(f"Error: {exc}", err=True)
                continue
            click.echo(f"item {item.id} ({item.action} {item.booking_uid}) is pending again; the worker sends it next")
    if all_parked and not ids:
        click.echo("No parked changes.")
    if problems:
        raise click.ClickException(f"{problems} of {len(ids)} item(s) not replayed")


@click.command()
@config_option
@org_option
@click.argument("booking_uid")
@json_option
def trace(config: str | None, org: str | None, booking_uid: str, as_json: bool) -> None:
    """Everything that happened to one booking (of one org): its queued changes and the sync engine's decisions."""
    org = _org(config, org)
    with outbox_from(config) as outbox:
        items = sorted(outbox.items(booking_uid=booking_uid, limit=1000, org=org), key=lambda i: i.id)
        traces = outbox.traces(booking_uid, org=org)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "items": [_item_json(i) for i in items],
                    "traces": [
                        {"action_key": t.action_key, "item_id": t.item_id, "at": _when(t.at), "steps": t.steps}
                        for t in traces
                    ],
                },
                indent=2,
                default=str,
            )
        )
        return
    if not items and not traces:
        raise click.ClickException(
            f"no booking {booking_uid!r}{'' if org == DEFAULT_ORG else f' of org {org}'} in the outbox (check the uid; "
            "`slotforce status` lists recent ones)"
        )
    console = _console()
    console.print(_items_table(f"Changes of booking {booking_uid}", items))
    for entry in traces:
        console.print(f"{entry.action_key or 'item ' + str(entry.item_id)}  ({_when(entry.at)} UTC)")
        for number, step in enumerate(entry.steps, 1):
            console.print(f"  {number:2d}. {_step_text(step)}")


def _step_text(step: Any) -> str:
    # The engine stores steps as {"step": name, "detail": {...}}; anything else is printed as it is.
    if isinstance(step, dict) and "step" in step:
        detail = step.get("detail") or {}
        facts = ", ".join(f"{k}={v}" for k, v in detail.items()) if isinstance(detail, dict) else str(detail)
        return f"{step['step']}" + (f" ({facts})" if facts else "")
    return json.dumps(step, default=str) if not isinstance(step, str) else step
