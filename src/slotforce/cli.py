"""The `slotforce` command: a table of subcommands, each imported only when used."""

from __future__ import annotations

import importlib
import importlib.util

import click

# name -> "module:attribute" of a click command. Imported lazily so `slotforce --help`
# stays fast and one part's heavy imports never slow another's commands.
COMMANDS: dict[str, str] = {
    "package": "slotforce.package.cli:package",
    "org": "slotforce.localorg.cli:org",
    "demo": "slotforce.demo:demo",
    "ingest": "slotforce.sources.cli:ingest",
    "status": "slotforce.store.cli:status",
    "errors": "slotforce.store.cli:errors",
    "replay": "slotforce.store.cli:replay",
    "trace": "slotforce.store.cli:trace",
    "check-config": "slotforce.service.cli:check_config_command",
    "serve": "slotforce.service.cli:serve",
    "sync": "slotforce.service.cli:sync",
    "worker": "slotforce.service.cli:worker",
    "owner": "slotforce.service.cli:owner",
    "links": "slotforce.service.cli:links",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, t in COMMANDS.items() if importlib.util.find_spec(t.split(":")[0]))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slotforce")
def main() -> None:
    """slotforce: get scheduling data into Salesforce.

    Build and validate the Salesforce package, run a local Salesforce-compatible org,
    and sync booking webhooks into Booking Action records.
    """
