"""Render the package model to SFDX source (jinja2 -> lxml), in Metadata API schema order, and write it.

Templates say *what* goes into a file in readable order; lxml then puts every element where the
XSD's `xsd:sequence` wants it (the order is read from the XSD, not hand-kept), indents by four
spaces, and the result is validated before anything touches the disk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import jinja2
from lxml import etree

from slotforce.package.components import SOURCE_ROOT, components
from slotforce.package.model import Package
from slotforce.package.xsd import metadata_schema

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("slotforce.package", "templates"),
    autoescape=True,  # labels and descriptions may hold & and <
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["xbool"] = lambda value: "true" if value else "false"
_parser = etree.XMLParser(remove_blank_text=True)


def to_schema_order(xml: str) -> str:
    """Re-order, re-indent and re-serialise one metadata document the way Salesforce writes it."""
    root = etree.fromstring(xml.lstrip().encode("utf-8"), _parser)  # templates may open with macros
    metadata_schema().sort(root)
    etree.indent(root, space="    ")
    return XML_DECLARATION + etree.tostring(root, encoding="unicode") + "\n"


def render(package: Package) -> dict[str, str]:
    """Every file of the package: path relative to the SFDX package directory -> XML text."""
    files: dict[str, str] = {}
    for component in components(package):
        template = _env.get_template(component.type.template)
        raw = template.render(m=component.model, package=package, **component.context)
        files[component.path] = to_schema_order(raw)
    return files


def write_atomically(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Replace `out_dir/main/default` with exactly `files`, all or nothing.

    The new tree is written next to the old one and swapped in with renames, so a failure half
    way leaves the previous force-app intact and no stale file of an older model survives.
    """
    out_dir = Path(out_dir)
    target = out_dir / SOURCE_ROOT
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(".default.*"):
        if not _alive(leftover.name):  # left by a build killed half way, not one running now
            shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".default.new-{os.getpid()}-", dir=target.parent))
    written: list[Path] = []
    try:
        for relative, text in sorted(files.items()):
            inner = Path(relative).relative_to(SOURCE_ROOT)
            path = staging / inner
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            written.append(target / inner)
        old = None
        if target.exists():
            old = target.parent / f".default.old-{os.getpid()}-{staging.name.rsplit('-', 1)[-1]}"
            os.rename(target, old)
        try:
            os.rename(staging, target)
        except OSError:
            if old is not None:
                os.rename(old, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _alive(name: str) -> bool:
    """Whether the build that named a `.default.new-PID-x` / `.default.old-PID-x` dir still runs."""
    try:
        pid = int(name.split("-")[1])
        os.kill(pid, 0)
    except (IndexError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
