"""`slotforce check-config`: is slotforce.yml valid, and does it fit the org it points at?"""

from __future__ import annotations

import sys

import click

from slotforce.sync.settings import SettingsError, check_config

OBJECTS = ["Event", "Lead", "Contact", "Account"]


@click.command("check-config")
@click.option("--config", "config_option", default=None, metavar="PATH",
              help="slotforce.yml (default: $SLOTFORCE_CONFIG or ./slotforce.yml)")
@click.option("--offline", is_flag=True, help="Only check the file; do not connect to Salesforce.")
def check_config_command(config_option: str | None, offline: bool) -> None:
    """Validate slotforce.yml: keys and values offline, then fields and picklists against the org.

    Exit status: 0 valid, 1 problems found, 2 the org could not be reached (file checks passed).
    """
    # The service owns the parts of the file only it reads (links:) and how to connect; the
    # checks themselves are the engine's.
    from slotforce.service.config import load_service_config

    try:
        config = load_service_config(config_option)
    except SettingsError as err:
        click.echo(str(err), err=True)
        sys.exit(1)
    settings = config.settings
    click.echo(f"{config.path}: valid ({len(settings.event_types)} event type(s): {', '.join(settings.event_types)})")
    if offline:
        return
    from slotforce.service.connect import ConnectError, connect
    from slotforce.sync.gateway import Gateway, SalesforceCallError

    try:
        sf = connect(settings.salesforce, config.base_dir)
        describes = Gateway(sf, settings.salesforce.api_version).describe(OBJECTS)
    except (ConnectError, SalesforceCallError) as err:
        click.echo(f"could not check against the org: {err}", err=True)
        sys.exit(2)
    missing = [o for o in OBJECTS if o not in describes]
    problems = check_config(settings, describes)
    for name in missing:
        click.echo(f"warning: the org has no {name} object visible to this user", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) against the org at {sf.sf_instance}:", err=True)
        for p in problems:
            click.echo(f"  {p}", err=True)
        sys.exit(1)
    click.echo(f"fits the org at {sf.sf_instance}: every mapped field exists, types fit, picklist values are active")
