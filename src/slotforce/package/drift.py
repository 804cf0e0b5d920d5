"""Drift: does a project's committed force-app match what the model and its extensions.yml generate?"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slotforce.package.definition import slotforce_package
from slotforce.package.extensions_path import DEFAULT_NAME, project_extensions
from slotforce.package.writer import render


@dataclass(frozen=True)
class Drift:
    """The files that differ between the committed force-app and a fresh build (paths under force-app/)."""

    extensions: Path | None
    missing: list[str]
    extra: list[str]
    changed: list[str]

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.changed)

    def message(self) -> str:
        """What an admin reads when it fails: what differs, and what to run."""
        used = f"with {self.extensions}" if self.extensions else f"with no {DEFAULT_NAME}"
        parts = [f"{label} {names}" for label, names in
                 (("missing", self.missing), ("extra", self.extra), ("changed", self.changed)) if names]
        return (f"force-app is not what the package model builds {used} ({'; '.join(parts)}). "
                "Run `make package` (or `slotforce package build`) and commit force-app/. "
                f"Fields of your own go in {DEFAULT_NAME} at the project root (template: "
                "extensions.example.yml), never straight into force-app: every build rewrites it.")


def drift(root: Path) -> Drift:
    """Compare `root`/force-app with the package built from the model and `root`'s extensions file."""
    extensions = project_extensions(root)
    expected = render(slotforce_package(extensions))
    force_app = Path(root) / "force-app"
    on_disk = {str(p.relative_to(force_app)): p.read_text(encoding="utf-8")
               for p in force_app.rglob("*") if p.is_file()}
    return Drift(extensions,
                 missing=sorted(set(expected) - set(on_disk)),
                 extra=sorted(set(on_disk) - set(expected)),
                 changed=sorted(k for k in set(expected) & set(on_disk) if expected[k] != on_disk[k]))
