"""Repo-root pytest setup: make the project's CumulusCI `tasks/` importable in tests.

CumulusCI registers a synthetic top-level `tasks` package on import and only adds a
project's tasks/ folder once a project is loaded; tests import task modules directly.
"""

from pathlib import Path

import cumulusci.core.config.project_config  # noqa: F401  creates sys.modules["tasks"]
import tasks

_TASKS_DIR = str(Path(__file__).parent / "tasks")
if _TASKS_DIR not in tasks.__path__:
    tasks.__path__.append(_TASKS_DIR)

# Fixtures for tests against a local org: a bare one (`local_org`, `sf`) and one with this
# repository's package deployed (`packaged_org`, `org`, `config_file`).
pytest_plugins = ["slotforce.localorg.testing", "slotforce.testing"]
