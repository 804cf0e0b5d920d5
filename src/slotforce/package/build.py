"""Build force-app from the model (render, validate, then write) and re-validate force-app on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slotforce.package.components import ROOT_BY_SUFFIX, components
from slotforce.package.definition import slotforce_package
from slotforce.package.errors import SchemaError
from slotforce.package.model import CustomObject
from slotforce.package.writer import render, write_atomically
from slotforce.package.xsd import Problem, validate_file, validate_text


@dataclass
class BuildReport:
    out_dir: Path
    objects: list[tuple[str, str, int]] = field(default_factory=list)  # (api name, kind, field count)
    permission_sets: list[tuple[str, int, int]] = field(default_factory=list)  # (name, objects, fields)
    flows: list[tuple[str, str, int]] = field(default_factory=list)  # (name, trigger, element count)
    files: list[Path] = field(default_factory=list)
    by_type: dict[str, int] = field(default_factory=dict)  # metadata type -> files written

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {t}" for t, n in self.by_type.items())
        return f"{len(self.files)} files ({kinds})"


def build(out_dir: Path = Path("force-app"), extensions: Path | None = None) -> BuildReport:
    """Generate the package into `out_dir` (SFDX: `out_dir/main/default/...`).

    Everything is rendered and validated in memory first; any DefinitionError or SchemaError is
    raised before a single file is written.
    """
    package = slotforce_package(extensions)
    files = render(package)
    problems = [p for path, text in files.items() for p in validate_text(text, path)]
    if problems:
        raise SchemaError(problems)
    report = BuildReport(Path(out_dir))
    report.objects = [
        (o.api_name, "custom" if isinstance(o, CustomObject) else "standard", len(o.fields))
        for o in package.objects
    ]
    report.permission_sets = [
        (ps.api_name, len(ps.object_permissions), len(ps.field_permissions)) for ps in package.permission_sets
    ]
    report.flows = [
        (f.api_name, f"{f.start.object} {f.start.record_trigger_type}" if f.record_triggered else "subflow",
         len(f.elements))
        for f in package.flows
    ]
    for component in components(package):
        report.by_type[component.type.name] = report.by_type.get(component.type.name, 0) + 1
    report.files = write_atomically(files, Path(out_dir))
    return report


def validate(path: Path = Path("force-app")) -> list[Problem]:
    """Strictly validate every `*-meta.xml` under `path` against the Metadata API XSD."""
    path = Path(path)
    if not path.exists():
        return [Problem(str(path), 0, "", "does not exist; run `slotforce package build` first")]
    files = sorted(p for p in path.rglob("*-meta.xml") if p.is_file())
    if not files:
        return [Problem(str(path), 0, "", "holds no *-meta.xml files; run `slotforce package build` first")]
    problems: list[Problem] = []
    for file in files:
        shown = str(file)
        problems.extend(validate_file(file, shown))
        problems.extend(_root_matches_suffix(file, shown))
    return problems


def _root_matches_suffix(file: Path, shown: str) -> list[Problem]:
    from lxml import etree

    for suffix, root in ROOT_BY_SUFFIX.items():
        if file.name.endswith(suffix):
            try:
                actual = etree.QName(etree.parse(str(file)).getroot()).localname
            except etree.XMLSyntaxError:
                return []  # already reported by validate_file
            if actual != root:
                return [Problem(shown, 1, actual, f"a {suffix} file must have root <{root}>")]
    return []
