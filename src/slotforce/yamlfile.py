"""slotforce's YAML files (slotforce.yml, links files, admin extensions): where the config is, how a
file is read, and how a place inside one is named in error messages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

if TYPE_CHECKING:
    from pydantic import ValidationError


class YamlFileError(Exception):
    """A YAML file that cannot be read: `where` is 'line L, column C' or '(file)'."""

    def __init__(self, path: Path, where: str, problem: str, detail: str = "") -> None:
        self.path, self.where, self.problem, self.detail = path, where, problem, detail
        super().__init__(f"{path}: {problem}" if where == "(file)" else f"{path}: {where}: {problem}")


def config_path(option: str | os.PathLike[str] | None = None) -> Path:
    """--config PATH, else $SLOTFORCE_CONFIG, else ./slotforce.yml."""
    return Path(option or os.environ.get("SLOTFORCE_CONFIG") or "slotforce.yml")


# The one --config option every command that reads slotforce.yml takes.
config_option = click.option(
    "--config", "config", type=click.Path(dir_okay=False), default=None,
    help="slotforce.yml (default: $SLOTFORCE_CONFIG or ./slotforce.yml).")


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """The document in `path` (JSON is YAML too); YamlFileError says where a syntax error is."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlFileError(path, "(file)", "not found") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        detail = str(getattr(err, "problem", None) or err)
        raise YamlFileError(path, where, f"not valid YAML: {detail}", detail) from err


def key_path(parts: tuple[Any, ...] | list[Any]) -> str:
    """('event_types', 'x', 'write_to_record', 2, 'value') -> event_types.x.write_to_record[2].value"""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(err: ValidationError, prefix: tuple[Any, ...] = (), *,
                        unknown_key: str) -> list[tuple[str, str]]:
    """pydantic's errors as (key path, message) pairs a user of the file can act on: paths without the
    union member names pydantic adds, messages without "Value error, ", `unknown_key` for a key the
    model does not have (say which keys it takes)."""
    found = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"]
                    if not (isinstance(p, str) and (p.startswith("function-") or p in ("str", "bool"))))
        msg = unknown_key if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")
        found.append((key_path(prefix + loc), msg))
    return found
