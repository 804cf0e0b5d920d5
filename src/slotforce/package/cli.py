"""`slotforce package build|validate`: generate force-app from the model, check force-app on disk."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from slotforce.package.build import build as build_package
from slotforce.package.build import validate as validate_package
from slotforce.package.errors import DefinitionError, SchemaError

_out_option = click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("force-app"),
    show_default=True, help="SFDX package directory (files go to OUT/main/default).",
)


@click.group()
def package() -> None:
    """Build and validate the slotforce Salesforce package (force-app)."""


@package.command()
@_out_option
@click.option("--extensions", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML of extra admin fields to add (see extensions.example.yml).")
def build(out_dir: Path, extensions: Path | None) -> None:
    """Render the package model to SFDX source, validate it, then write it (all or nothing)."""
    console = Console()
    try:
        report = build_package(out_dir, extensions)
    except DefinitionError as error:
        raise click.ClickException(f"{error}\nNothing written.") from None
    except SchemaError as error:
        raise click.ClickException(str(error)) from None

    objects = Table(title="Objects")
    objects.add_column("object")
    objects.add_column("kind")
    objects.add_column("fields", justify="right")
    for name, kind, count in report.objects:
        objects.add_row(name, kind, str(count))
    console.print(objects)
    perms = Table(title="Permission sets")
    perms.add_column("permission set")
    perms.add_column("objectPermissions", justify="right")
    perms.add_column("fieldPermissions", justify="right")
    for name, n_objects, n_fields in report.permission_sets:
        perms.add_row(name, str(n_objects), str(n_fields))
    console.print(perms)
    flows = Table(title="Flows")
    flows.add_column("flow")
    flows.add_column("runs on")
    flows.add_column("elements", justify="right")
    for name, trigger, count in report.flows:
        flows.add_row(name, trigger, str(count))
    console.print(flows)
    console.print(f"[green]wrote {report.summary()}[/] to {out_dir / 'main' / 'default'}, "
                  "all valid against the Metadata API XSD", soft_wrap=True)


@package.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@_out_option
def validate(path: Path | None, out_dir: Path) -> None:
    """Validate every *-meta.xml under PATH (default: --out) against the Metadata API XSD."""
    console = Console()
    target = path or out_dir
    problems = validate_package(target)
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/]", highlight=False, soft_wrap=True)
        raise click.ClickException(f"{len(problems)} problem(s) in {target}")
    count = sum(1 for _ in target.rglob("*-meta.xml"))
    console.print(f"[green]{count} files in {target} are valid[/] against the Metadata API XSD")
