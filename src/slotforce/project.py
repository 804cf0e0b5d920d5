"""Find the current project: the folder, from the working directory up, with cumulusci.yml or sfdx-project.json.

Files that belong to a checkout, not to the installed package (force-app, tools/node_modules,
examples/), are found from here, so an installed wheel never guesses a checkout beside itself.
"""

from __future__ import annotations

from pathlib import Path

MARKERS = ("cumulusci.yml", "sfdx-project.json")


class ProjectNotFound(FileNotFoundError):
    """No folder from the working directory up is a project; the message says what to do."""


def find_root(start: Path | str | None = None) -> Path:
    """The nearest folder at or above `start` (default: the working directory) holding one of MARKERS."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).is_file() for marker in MARKERS):
            return folder
    raise ProjectNotFound(f"no project at or above {here} (no folder holds {' or '.join(MARKERS)}): "
                          "cd into your slotforce checkout or SFDX project first")
