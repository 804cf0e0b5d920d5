"""Where a project keeps its admin extensions: `extensions.yml` at the root, or the path cumulusci.yml names.

Extensions are project configuration, so every path that builds force-app (`slotforce package
build`, `make package`, `cci task run generate_package`, `cci flow run deploy_package`, the drift
test) finds the same file without being told: `project: custom: slotforce_extensions:` in
cumulusci.yml if set (relative to the project root), else `extensions.yml` beside cumulusci.yml.
"""

from __future__ import annotations

from pathlib import Path

from slotforce.package.errors import DefinitionError
from slotforce.project import ProjectNotFound, find_root
from slotforce.yamlfile import YamlFileError, read_yaml

DEFAULT_NAME = "extensions.yml"
OVERRIDE_KEY = "project.custom.slotforce_extensions"


def project_extensions(root: Path | str | None = None) -> Path | None:
    """The project's extensions file, or None when it has none (or there is no project at all).

    `root` defaults to the project found from the working directory. A path cumulusci.yml names
    must exist: a typo there would otherwise drop the admin's fields without a word.
    """
    try:
        root = Path(root) if root is not None else find_root()
    except ProjectNotFound:  # an installed slotforce outside any checkout: nothing to add
        return None
    configured = _configured(root)
    if configured is not None:
        path = configured if configured.is_absolute() else root / configured
        if not path.is_file():
            raise DefinitionError(f"{root / 'cumulusci.yml'}: {OVERRIDE_KEY}", f"{path} does not exist",
                                  "fix the path, or remove the key to use extensions.yml at the project root")
        return path
    default = root / DEFAULT_NAME
    return default if default.is_file() else None


def _configured(root: Path) -> Path | None:
    file = root / "cumulusci.yml"
    if not file.is_file():
        return None
    try:
        data = read_yaml(file)
    except YamlFileError as error:
        raise DefinitionError(str(file), error.problem, "fix cumulusci.yml") from None
    value = ((data or {}).get("project") or {}).get("custom") or {}
    value = value.get("slotforce_extensions") if isinstance(value, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{file}: {OVERRIDE_KEY}", "expected a path relative to the project root")
    return Path(value)
