"""`slotforce serve`, `sync`, `owner EMAIL`, `links sync [FILE]`, `check-config`: the commands that run the engine
against the org named in slotforce.yml."""

from __future__ import annotations

import logging
import os
import signal
import sys
from datetime import datetime, timezone

import click
from rich.console import Console
from rich.table import Table

from slotforce.sync import SettingsError
from slotforce.yamlfile import config_option


def _console(err: bool = False) -> Console:
    # Booking uids and Salesforce messages are data: no [markup] or highlighting applied to them.
    return Console(stderr=err, width=None if sys.stdout.isatty() else 120, highlight=False, markup=False, emoji=False)


def _config(option: str | None):
    from slotforce.service.config import load_service_config

    try:
        return load_service_config(option)
    except SettingsError as err:
        raise click.ClickException(str(err)) from err


def _connect(config, org=None):
    """A client for `org` (an OrgConfig; default: the file's only org)."""
    from slotforce.service.connect import ConnectError, connect

    settings = (org or config.only_org).settings
    try:
        return connect(settings.salesforce, config.base_dir)
    except ConnectError as err:
        raise click.ClickException(str(err)) from err


def _org(config, name: str | None):
    """The OrgConfig `--org NAME` names (default: the only one), or a usage error listing the orgs."""
    try:
        return config.org(name)
    except KeyError as err:
        raise click.UsageError(err.args[0]) from None


org_option = click.option("--org", "org", default=None, metavar="NAME",
                          help="The org (a name under orgs: in slotforce.yml); default: the only one.")


def _reload_on_sighup(service) -> None:
    """SIGHUP reads slotforce.yml again (Service.reload: new orgs served, removed ones refused; an invalid
    file is refused and logged). The reload runs off the signal handler, in a thread of its own."""
    import threading

    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=service.reload, name="slotforce-reload",
                                                             daemon=True).start())


@click.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--log-format", default="text", show_default=True, type=click.Choice(["text", "json"]),
              help="text lines, or one JSON object per line (fields at the top level) for a log pipeline.")
@click.option("--log-pii", is_flag=True, help="Keep email addresses in the log (replaced by <email> otherwise).")
@click.option("--no-worker", is_flag=True,
              help="Intake only (webhooks, owner lookup, status): run the workers as `slotforce worker` elsewhere.")
def serve(config: str | None, host: str, port: int, log_level: str, log_format: str, log_pii: bool,
          no_worker: bool) -> None:
    """Receive webhooks, sync them to Salesforce, answer owner lookups, show /status.

    POST /webhooks/{calcom|calendly|api} answers 202 once the delivery is stored. A worker in
    this process drains the outbox (woken by each delivery, else every 0.5 s) unless --no-worker.
    SIGTERM stops taking requests, finishes the batch in hand, and exits 0. With a `links:` block in
    slotforce.yml (a `file:`, or `from: calendly|calcom` with `token_env:`) the links are synced at
    start and then every `every_minutes` (by one worker of the deployment).
    """
    import uvicorn

    from slotforce.service.access import open_pages_warning
    from slotforce.service.app import Service, build_app
    from slotforce.store import StoreError

    from slotforce.service.logs import configure

    cfg = _config(config)
    configure(log_level, log_format, log_pii)
    try:
        service = Service(cfg, worker=not no_worker)
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    refused = service.intake.write_problem()
    if refused is not None and refused.cause == "read_only":
        # It will not fix itself, and every webhook would be answered 503: say so now, not per request.
        raise click.ClickException(f"not starting: {refused}")
    if refused is not None:  # a full disk or a held lock may clear; /healthz answers 503 meanwhile
        logging.getLogger("slotforce.service").error("starting, but %s", refused)
    if (open_pages := open_pages_warning(service.token, host)) is not None:
        logging.getLogger("slotforce.service").warning("%s", open_pages)
    click.echo(f"slotforce: serving on http://{host}:{port} (status page /status, config {cfg.path}; "
               "SIGHUP reloads it)", err=True)
    _reload_on_sighup(service)
    server = _graceful_server(uvicorn.Config(build_app(service), host=host, port=port, log_level=log_level,
                                             access_log=log_level == "debug", lifespan="on", log_config=None,
                                             timeout_graceful_shutdown=30))
    server.run()
    if not server.started:
        sys.exit(1)


@click.command()
@config_option
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--log-format", default="text", show_default=True, type=click.Choice(["text", "json"]))
@click.option("--log-pii", is_flag=True, help="Keep email addresses in the log (replaced by <email> otherwise).")
def worker(config: str | None, log_level: str, log_format: str, log_pii: bool) -> None:
    """Sync the outbox to Salesforce until SIGTERM: the worker role, without the HTTP intake.

    Run as many as Salesforce keeps up with, on any hosts sharing a `store: postgresql://...`
    (`slotforce serve --no-worker` takes the webhooks). Woken at once by each delivery; the link
    sync of `links:` runs on one worker per period. SIGTERM or SIGINT finishes the batch in hand
    and exits 0.
    """
    from slotforce.service.app import Service
    from slotforce.service.logs import configure
    from slotforce.store import StoreError

    cfg = _config(config)
    configure(log_level, log_format, log_pii)
    try:
        service = Service(cfg)
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    stop = _stop_on_signals()
    _reload_on_sighup(service)
    service.start()
    click.echo(f"slotforce: worker {service.worker.name} running (config {cfg.path}, {len(cfg.orgs)} org(s)); "
               "SIGTERM stops it, SIGHUP reloads the config", err=True)
    while not stop.wait(1.0):  # (a timed wait: signal handlers run between the waits)
        pass
    click.echo("slotforce: stopping: finishing the batch in hand", err=True)
    service.stop()


def _stop_on_signals():
    """An event set by SIGTERM or SIGINT, for a process whose main thread only waits."""
    import threading

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _graceful_server(config):
    """A uvicorn server for which SIGTERM is a clean stop (exit status 0).

    uvicorn re-raises a caught SIGTERM after its graceful shutdown, so the process would end with
    status -15; a service manager should see an orderly stop as success.
    """
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            if sig == signal.SIGTERM and sig in self._captured_signals:
                self._captured_signals.remove(sig)

    return Server(config)


@click.command()
@config_option
@click.option("--org", "org", default=None, metavar="NAME", help="Only this org's changes (default: every org's).")
@click.option("--max-batches", type=int, default=None, help="Stop after this many batches (default: until empty).")
def sync(config: str | None, org: str | None, max_batches: int | None) -> None:
    """Drain the outbox once: send every ready booking change to Salesforce, then exit.

    Changes waiting for a retry time stay waiting (see `slotforce status`). Exit status 1 when
    any change failed permanently (replay it with `slotforce replay ID` once fixed). With several
    orgs, every org's changes are sent (taking the orgs in turn) unless --org names one.
    """
    from slotforce.service.worker import Worker
    from slotforce.store import StoreError

    cfg = _config(config)
    orgs = [_org(cfg, org)] if org is not None else list(cfg.orgs.values())
    try:
        outbox = cfg.open_outbox()
    except StoreError as err:
        raise click.ClickException(str(err)) from err
    try:
        worker = Worker(outbox, orgs={o.name: (o.settings, lambda o=o: _connect(cfg, o)) for o in orgs},
                        timing=cfg.outbox)
        report = worker.drain(max_batches=max_batches)
        counts = outbox.counts(org=org)
        held = outbox.held_leases()
        budget = outbox.budget_wait(org=org)
    finally:
        outbox.close()
    console = _console()
    table = Table(title=f"slotforce sync: {report.batches} batch(es) in {report.seconds:.1f} s", title_justify="left")
    table.add_column("")
    table.add_column("changes", justify="right")
    for label, n in (("processed", report.processed), ("skipped", report.skipped), ("retried later", report.retried),
                     ("waiting for the API budget", report.waiting), ("left to another worker", report.abandoned),
                     ("failed", report.failed)):
        if n or label not in ("waiting for the API budget", "left to another worker"):
            table.add_row(label, str(n))
    table.add_row("Salesforce API calls", str(report.api_calls))
    table.add_row("still waiting to retry", str(counts.get("retry_scheduled", 0)))
    held_elsewhere = sum(h.items for h in held)
    if held_elsewhere:
        table.add_row("being sent by another worker", str(held_elsewhere))
    console.print(table)
    if budget:
        console.print(f"Waiting for the Salesforce API budget: {budget.items} change(s); the org's daily request "
                      f"limit is spent (a rolling 24 h window). Next try at {budget.next_try_at:%Y-%m-%d %H:%M:%S} UTC "
                      "(outbox.budget_probe_seconds); waiting does not use up retries.")
    for line in held_lease_lines(held):
        console.print(line)
    for e in report.errors[:10]:
        console.print(f"  {e}")
    if report.failed:
        sys.exit(1)


def held_lease_lines(held, now: datetime | None = None) -> list[str]:
    """Say which items another worker (alive or dead) holds, and when they come back to the queue."""
    now = now or datetime.now(timezone.utc)
    lines = []
    for h in held:
        if h.expires_at > now:
            left = (h.expires_at - now).total_seconds()
            lines.append(f"{h.items} change(s) are leased by {h.worker or 'another worker'} until "
                         f"{h.expires_at:%H:%M:%S} UTC ({left:.0f} s); if that worker died, the next "
                         "`slotforce sync` after then sends them.")
        else:
            lines.append(f"{h.items} change(s) were leased by {h.worker or 'another worker'}, whose lease ended at "
                         f"{h.expires_at:%H:%M:%S} UTC without a result (the worker probably died); the next "
                         "`slotforce sync` sends them.")
    return lines


@click.command()
@config_option
@org_option
@click.argument("email")
@click.option("--event-type", "event_type", default=None, metavar="SLUG", help="Event type slug (settings key).")
@click.option("--host", "hosts", multiple=True, metavar="EMAIL",
              help="A host of the event type; repeat. The owner is only returned if they are a host.")
@click.option("--trace", "show_trace", is_flag=True, help="Print the decision steps.")
def owner(config: str | None, org: str | None, email: str, event_type: str | None, hosts: tuple[str, ...],
          show_trace: bool) -> None:
    """Round-robin owner lookup: whose calendar should EMAIL's booking land on?

    Prints the owner's email, the record that decided and why; exit status 3 when there is none.
    """
    from slotforce.sync import SalesforceCallError, SyncEngine

    cfg = _config(config)
    chosen = _org(cfg, org)
    engine = SyncEngine(chosen.settings, _connect(cfg, chosen))
    try:
        found, trace = engine.owner_for(email, event_type, list(hosts))
    except SalesforceCallError as err:
        raise click.ClickException(str(err)) from err
    if show_trace:
        for i, step in enumerate(trace, 1):
            click.echo(f"  {i:2d}. {step}")
    if found is None:
        why = trace[-1] if len(trace) else "owner_not_found"
        click.echo(f"no owner for {email}: {why}")
        sys.exit(3)
    click.echo(f"{found.email}  ({found.reason}: {found.record_type} {found.record_id})")


@click.group()
def links() -> None:
    """Scheduling links (Scheduling_Link__c)."""


@links.command("sync")
@config_option
@org_option
@click.argument("file", type=click.Path(dir_okay=False), required=False)
def links_sync(config: str | None, org: str | None, file: str | None) -> None:
    """Upsert scheduling links by Link_Key__c; only changed links are sent.

    With FILE (YAML or JSON), the links in it: each entry {key, url, kind: Profile|Event_Type|
    Managed_Event, owner_email, active}. Without FILE, the source slotforce.yml's `links:` names:
    its `file:`, or `from: calendly|calcom` with the API token in the variable `token_env:` names.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from slotforce.service.link_source import NoLinkSource, configured_links
    from slotforce.sources import LinkApiError, PulledLinks
    from slotforce.sync import LinkSyncError, LinksFileError, load_links, sync_links

    cfg = _config(config)
    chosen = _org(cfg, org)
    console = _console(err=True)
    labels = {"read": "reading links from the API", "compare": "comparing with Salesforce",
              "upsert": "upserting changed links"}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console,
                  transient=True) as progress:
        tasks: dict[str, int] = {}

        def report(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(labels.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        try:
            pulled = (PulledLinks(source=file, links=load_links(file)) if file
                      else configured_links(cfg, report, org=chosen))
        except (LinksFileError, LinkApiError, NoLinkSource) as err:
            raise click.ClickException(str(err)) from err
        sf = _connect(cfg, chosen)
        try:
            result = sync_links(sf, pulled.links, progress=report)
        except LinkSyncError as err:
            raise click.ClickException(str(err)) from err
    calls = f"{result.api_calls} Salesforce API call(s)" + (
        f", {pulled.api_calls} {pulled.source} API call(s)" if pulled.api_calls else "")
    click.echo(f"{pulled.source}: {result.total} link(s): {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged, {len(result.failed)} failed, {len(pulled.skipped)} skipped "
               f"({calls})")
    for note in pulled.skipped:
        click.echo(f"  skipped {note}", err=True)
    for failure in result.failed:
        click.echo(f"  {failure}", err=True)
    if result.failed:
        sys.exit(1)


# The objects whose describe `check-config` reads (mappings write to Event and the Who record; accounts are matched).
CHECKED_OBJECTS = ["Event", "Lead", "Contact", "Account"]


@click.command("check-config")
@config_option
@click.option("--offline", is_flag=True, help="Only check the file; do not connect to Salesforce.")
def check_config_command(config: str | None, offline: bool) -> None:
    """Validate slotforce.yml: keys and values offline, then fields and picklists against the org
    (every org of `orgs:`, each finding naming its org).

    Exit status: 0 valid, 1 problems found, 2 the outbox (`store:`) or an org could not be reached
    (file checks passed).
    """
    # The file as the service reads it (links:, outbox: included); the checks are the engine's.
    from slotforce.service.config import load_service_config
    from slotforce.sources import secret_env_names

    try:
        cfg = load_service_config(config)
    except SettingsError as err:
        click.echo(str(err), err=True)
        sys.exit(1)
    unset = [(f"{org.key_path}sources.{source}",
              f"the environment variable {env} is not set: every {source} delivery is refused")
             for org in cfg.orgs.values() for source, env in secret_env_names(org.sources).items()
             if source in org.sources and not os.environ.get(env)]
    for where, what in unset:
        click.echo(f"{cfg.path}: {where}: {what}", err=True)
    if unset:
        sys.exit(1)
    for org in cfg.orgs.values():
        types = org.settings.event_types
        named = f"org {org.name}: " if cfg.many_orgs else ""
        click.echo(f"{cfg.path}: {named}valid ({len(types)} event type(s): {', '.join(types)})")
    if offline:
        return
    from slotforce.store import StoreError, check_store

    try:  # before the org: a worker that cannot reach its outbox has nothing to send
        check_store(cfg.store, base_dir=cfg.base_dir)
    except StoreError as err:
        click.echo(f"could not check the outbox (store:): {err}", err=True)
        sys.exit(2)
    worst = 0
    for org in cfg.orgs.values():
        worst = max(worst, _check_org(cfg, org))
    if worst:
        sys.exit(worst)


def _check_org(cfg, org) -> int:
    """Check one org's settings against its Salesforce: 0 fits, 1 problems, 2 not reachable."""
    from slotforce.service.connect import ConnectError, connect
    from slotforce.service.org_names import missing_names
    from slotforce.sync import Gateway, SalesforceCallError, check_config

    settings = org.settings
    named = f"org {org.name}: " if cfg.many_orgs else ""
    try:
        sf = connect(settings.salesforce, cfg.base_dir)
        describes = Gateway(sf, settings.salesforce.api_version).describe(CHECKED_OBJECTS)
    except (ConnectError, SalesforceCallError) as err:
        click.echo(f"{named}could not check against the org: {err}", err=True)
        return 2
    missing = [o for o in CHECKED_OBJECTS if o not in describes]
    problems = ([f"{org.key_path}{p}" for p in check_config(settings, describes)]
                + [f"{org.key_path}{where}: {what}" for where, what in missing_names(sf, settings)])
    for name in missing:
        click.echo(f"{named}warning: the org has no {name} object visible to this user", err=True)
    not_ready = _report_readiness(sf, settings.salesforce, named)
    if problems:
        click.echo(f"{named}{len(problems)} problem(s) against the org at {sf.sf_instance}:", err=True)
        for p in problems:
            click.echo(f"  {p}", err=True)
        return 1
    click.echo(f"{named}fits the org at {sf.sf_instance}: every mapped field exists, types fit, picklist values are active")
    return 1 if not_ready else 0


def _report_readiness(sf, salesforce, named: str = "") -> bool:
    """Print the integration user's readiness checks; True when any failed."""
    from slotforce.service.readiness import readiness

    # the org's name in the commands the checks suggest: CumulusCI's, else a placeholder to fill in
    org_name = salesforce.cumulusci or ("local" if salesforce.local else "<your org alias>")
    checks = readiness(sf, org_name)
    for check in checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'} {named}{check.name}: {check.detail}", err=not check.ok)
    return not all(check.ok for check in checks)
