"""CumulusCI tasks for the slotforce package: thin wrappers over `slotforce.package`.

Loaded by CumulusCI as `tasks.package.<Class>` (the repo's tasks/ joins a synthetic `tasks`
package; no `tasks/__init__.py` is ever executed). Neither task needs an org.
"""

from __future__ import annotations

from pathlib import Path

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.core.tasks import BaseTask

from slotforce.package import PackageError, build, project_extensions, validate

_PATH = {"description": "SFDX package directory to write or check (default force-app).", "required": False}


class GenerateSlotforcePackage(BaseTask):
    task_docs = "Generates force-app from the slotforce package model (objects, fields, permission sets, flows). No org needed."
    task_options = {
        "path": _PATH,
        "extensions": {
            "description": "YAML file of extra admin fields (default: the project's extensions.yml, or the path "
                           "in cumulusci.yml project: custom: slotforce_extensions:; see extensions.example.yml).",
            "required": False,
        },
    }

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        self.path = Path(self.options.get("path") or "force-app")
        extensions = self.options.get("extensions")
        self.extensions = Path(extensions) if extensions else None
        if self.extensions is not None and not self.extensions.is_file():
            raise TaskOptionsError(f"extensions: {self.extensions} is not a file")

    def _run_task(self):
        try:
            # the project's own extensions.yml unless the option names another file
            extensions = self.extensions or project_extensions(self.project_config.repo_root)
            report = build(self.path, extensions)
        except PackageError as error:
            raise CumulusCIFailure(str(error)) from None
        if extensions:
            self.logger.info(f"Admin fields from {extensions}")
        for name, kind, count in report.objects:
            self.logger.info(f"  {name} ({kind}): {count} fields")
        for name, n_objects, n_fields in report.permission_sets:
            self.logger.info(f"  {name}: {n_objects} objectPermissions, {n_fields} fieldPermissions")
        for name, trigger, count in report.flows:
            self.logger.info(f"  flow {name} ({trigger}): {count} elements")
        self.logger.info(f"Wrote {report.summary()} to {self.path}")
        self.return_values = {"files": [str(f) for f in report.files]}


class ValidateSlotforcePackage(BaseTask):
    task_docs = "Validates every *-meta.xml under path against the Metadata API XSD. No org needed."
    task_options = {"path": _PATH}

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        self.path = Path(self.options.get("path") or "force-app")

    def _run_task(self):
        problems = validate(self.path)
        for problem in problems:
            self.logger.error(str(problem))
        if problems:
            raise CumulusCIFailure(f"{len(problems)} problem(s) in {self.path}")
        self.logger.info(f"{self.path} is valid against the Metadata API XSD")
        self.return_values = {"problems": 0}
