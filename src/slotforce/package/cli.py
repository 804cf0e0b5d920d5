"""`slotforce package build|validate`: generate force-app from the model, check force-app on disk."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from slotforce.package.build import build as build_package
from slotforce.package.build import validate as validate_package
from slotforce.package.errors import DefinitionError, SchemaError
from slotforce.package.extensions_path import project_extensions

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
              help="YAML of extra admin fields (default: the project's extensions.yml, or the path "
                   "cumulusci.yml names in project: custom: slotforce_extensions:).")
def build(out_dir: Path, extensions: Path | None) -> None:
    """Render the package model to SFDX source, validate it, then write it (all or nothing)."""
    console = Console()
    try:
        extensions = extensions or project_extensions()
        report = build_package(out_dir, extensions)
    except DefinitionError as error:
        raise click.ClickException(f"{error}\nNothing written.") from None
    except SchemaError as error:
        raise click.ClickException(str(error)) from None

    console.print(_table("Objects", ("object", "kind", "fields"), report.objects))
    console.print(_table("Permission sets", ("permission set", "objectPermissions", "fieldPermissions"),
                         report.permission_sets, counts=2))
    console.print(_table("Flows", ("flow", "runs on", "elements"), report.flows))
    with_fields = f" with the fields of {extensions}" if extensions else ""
    console.print(f"[green]wrote {report.summary()}[/] to {out_dir / 'main' / 'default'}{with_fields}, "
                  "all valid against the Metadata API XSD", soft_wrap=True)


def _table(title: str, columns: tuple[str, ...], rows, *, counts: int = 1) -> Table:
    """One table of the build report; the last `counts` columns are numbers (right-aligned)."""
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if i >= len(columns) - counts else "left")
    for row in rows:
        table.add_row(*map(str, row))
    return table


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
