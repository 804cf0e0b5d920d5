"""A deploy zip: its files and its package.xml manifest (MDAPI format, as CumulusCI sends it)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from ..mdxml import elements, local_name, named, text

# Salesforce's deploy limits (Metadata API Developer Guide, "Metadata Limits"): 39 MB compressed,
# 400 MB uncompressed, 10,000 files. The uncompressed size is counted while reading (a zip's headers
# may lie), so a zip bomb stops at the limit and memory stays bounded by it.
MAX_ZIP_BYTES = 39 * 1024 * 1024
MAX_UNZIPPED_BYTES = 400 * 1024 * 1024
MAX_FILES = 10_000
_CHUNK = 1024 * 1024
SIZE_MESSAGE = ("LIMIT_EXCEEDED: Maximum size of deploy file exceeded: a deploy may be at most 39 MB compressed "
                "and 400 MB uncompressed")


class PackageError(Exception):
    """The zip or its package.xml cannot be read: the whole deploy fails with this problem."""

    def __init__(self, message: str, file_name: str = "package.xml", line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.file_name = file_name
        self.line = line
        self.column = column


@dataclass
class Package:
    files: dict[str, bytes]  # path in the zip (package root removed) -> content
    members: dict[str, list[str]] = field(default_factory=dict)  # metadata type -> members ("*" allowed)
    version: str = ""
    root: str = ""  # the folder holding package.xml ("" or e.g. "metadata/"): results name files with it

    def named(self, type_name: str, member: str) -> bool:
        """Whether package.xml names this component (directly or with `*`)."""
        wanted = self.members.get(type_name, [])
        return "*" in wanted or member in wanted


def parse_xml(content: bytes, file_name: str):
    """An lxml root, or PackageError with the line and column of the syntax error."""
    try:
        return etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (0, 0)
        raise PackageError(f"malformed XML: {exc.msg}", file_name, line, col) from None


def _read_bounded(zf: zipfile.ZipFile, names: list[str]) -> dict[str, bytes]:
    """Every file's content, refusing as soon as the total passes MAX_UNZIPPED_BYTES."""
    if sum(zf.getinfo(n).file_size for n in names) > MAX_UNZIPPED_BYTES:
        raise PackageError(SIZE_MESSAGE, "")
    total, raw = 0, {}
    for n in names:
        parts = []
        with zf.open(n) as f:
            while chunk := f.read(_CHUNK):
                total += len(chunk)
                if total > MAX_UNZIPPED_BYTES:
                    raise PackageError(SIZE_MESSAGE, "")
                parts.append(chunk)
        raw[n] = b"".join(parts)
    return raw


def read_package(zip_bytes: bytes) -> Package:
    if len(zip_bytes) > MAX_ZIP_BYTES:
        raise PackageError(SIZE_MESSAGE, "")
    try:
        zf = zipfile.ZipFile(io.BytesIO(zip_bytes))
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if len(names) > MAX_FILES:
            raise PackageError(f"LIMIT_EXCEEDED: Maximum number of files exceeded: a deploy may hold at most "
                               f"{MAX_FILES:,} files ({len(names):,} sent)", "")
        raw = _read_bounded(zf, names)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise PackageError(f"the ZipFile is not a valid zip archive: {exc}", "") from None
    prefix = ""
    if "package.xml" not in raw:
        # singlePackage=false zips hold one folder per package; accept exactly one.
        roots = [n[: -len("package.xml")] for n in raw if n.endswith("/package.xml") and n.count("/") == 1]
        if len(roots) != 1:
            raise PackageError("No package.xml found", "package.xml")
        prefix = roots[0]
        raw = {n[len(prefix):]: v for n, v in raw.items() if n.startswith(prefix)}
    root = parse_xml(raw["package.xml"], prefix + "package.xml")
    if local_name(root) != "Package":
        raise PackageError(f"package.xml: the root element is <{local_name(root)}>, expected <Package>",
                           "package.xml", root.sourceline)
    pkg = Package({n: v for n, v in raw.items() if n != "package.xml"}, root=prefix)
    for t in elements(root):
        tag = local_name(t)
        if tag == "version":
            pkg.version = (t.text or "").strip()
        elif tag == "types":
            name = text(t, "name")
            members = [(c.text or "").strip() for c in named(t, "members")]
            if not name:
                raise PackageError("package.xml: a <types> element has no <name>", "package.xml", t.sourceline)
            pkg.members.setdefault(name, []).extend(members)
    return pkg
