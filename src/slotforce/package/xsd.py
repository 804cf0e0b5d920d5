"""The Metadata API XSD, taken from the WSDL that simple-salesforce ships: schema order and validation.

Metadata types are declared as complexTypes only (the WSDL never needs them as root elements),
so a global element is added for each one; then any `<CustomObject>`, `<Flow>`, ... document can be
validated on its own, strictly, including the order of children that `xsd:sequence` demands.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from lxml import etree

METADATA_NS = "http://soap.sforce.com/2006/04/metadata"
_XS = "http://www.w3.org/2001/XMLSchema"
_X = f"{{{_XS}}}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one metadata file: where it is and which schema rule it breaks."""

    file: str
    line: int
    element: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: <{self.element}>: {self.message}" if self.element else f"{where}: {self.message}"


def _wsdl_schema() -> etree._Element:
    wsdl = files("simple_salesforce").joinpath("metadata.wsdl").read_bytes()
    schema = etree.fromstring(wsdl).find(f".//{_X}schema")
    if schema is None:  # pragma: no cover - would mean simple-salesforce changed its packaging
        raise RuntimeError("simple_salesforce/metadata.wsdl holds no <xsd:schema>")
    return schema


@dataclass(frozen=True)
class _Child:
    name: str
    type: str | None  # local type name in the metadata namespace, None for xsd: builtins


class MetadataSchema:
    """The compiled schema plus, per complexType, its children in sequence order (base type first)."""

    def __init__(self) -> None:
        wsdl_schema = _wsdl_schema()
        # A fresh root that declares the tns prefix itself: QName values like type="tns:ID" need it
        # in scope, and the WSDL declared it on <definitions>, which we leave behind.
        source = etree.Element(f"{_X}schema", dict(wsdl_schema.attrib), nsmap={"xsd": _XS, "tns": METADATA_NS})
        for child in wsdl_schema:
            source.append(copy.deepcopy(child))
        self._types: dict[str, etree._Element] = {
            t.get("name"): t for t in source.findall(f"{_X}complexType")
        }
        for name in self._types:
            element = etree.SubElement(source, f"{_X}element")
            element.set("name", name)
            element.set("type", f"tns:{name}")
        self.xmlschema = etree.XMLSchema(source)
        self._order: dict[str, list[_Child]] = {}

    def is_type(self, name: str) -> bool:
        return name in self._types

    def children(self, type_name: str) -> list[_Child]:
        """Child elements of a complexType in the order the XSD sequence requires."""
        if type_name not in self._order:
            self._order[type_name] = self._walk(type_name)
        return self._order[type_name]

    def _walk(self, type_name: str) -> list[_Child]:
        node = self._types.get(type_name)
        if node is None:
            return []
        result: list[_Child] = []
        extension = node.find(f"{_X}complexContent/{_X}extension")
        if extension is not None:
            result.extend(self._walk(extension.get("base").split(":")[-1]))
            node = extension
        for element in node.iterfind(f"{_X}sequence/{_X}element"):
            prefix, _, local = element.get("type", "").rpartition(":")
            result.append(_Child(element.get("name"), None if prefix == "xsd" else local))
        return result

    def sort(self, root: etree._Element) -> None:
        """Put every element's children into schema order, in place (stable for repeated names)."""
        self._sort(root, etree.QName(root).localname)

    def _sort(self, element: etree._Element, type_name: str | None) -> None:
        if type_name is None:
            return
        declared = self.children(type_name)
        if not declared:
            return
        position = {child.name: (i, child.type) for i, child in enumerate(declared)}
        kids = [k for k in element if isinstance(k.tag, str)]
        unknown = len(declared)  # unknown names go last; validation then names them
        kids.sort(key=lambda k: position.get(etree.QName(k).localname, (unknown, None))[0])
        for kid in kids:
            element.remove(kid)
        for kid in kids:
            element.append(kid)
            self._sort(kid, position.get(etree.QName(kid).localname, (0, None))[1])

    def validate(self, document: etree._ElementTree | etree._Element, file: str) -> list[Problem]:
        """Strict validation (order included); each problem names file, line, element and rule."""
        if self.xmlschema.validate(document):
            return []
        return [
            Problem(file, entry.line, _element_of(entry.message), _clean(entry.message))
            for entry in self.xmlschema.error_log
        ]


_ELEMENT = re.compile(r"^Element '(?:\{[^}]*\})?([^']+)'")


def _element_of(message: str) -> str:
    found = _ELEMENT.match(message)
    return found.group(1) if found else ""


def _clean(message: str) -> str:
    message = message.replace(f"{{{METADATA_NS}}}", "")
    return _ELEMENT.sub("", message).lstrip(": ").strip()


@lru_cache(maxsize=1)
def metadata_schema() -> MetadataSchema:
    """The schema, built once per process (about half a second)."""
    return MetadataSchema()


def validate_text(text: str, file: str) -> list[Problem]:
    """Parse and strictly validate one metadata document held in memory."""
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError as error:
        return [Problem(file, error.lineno or 0, "", f"not well-formed XML: {error.msg}")]
    return _validate_root(root, file)


def _validate_root(root: etree._Element, file: str) -> list[Problem]:
    qname = etree.QName(root)
    schema = metadata_schema()
    if qname.namespace != METADATA_NS:
        return [Problem(file, root.sourceline or 0, qname.localname,
                        f"root element must be in namespace {METADATA_NS}")]
    if not schema.is_type(qname.localname):
        return [Problem(file, root.sourceline or 0, qname.localname,
                        "not a Metadata API type (no complexType of that name in the XSD)")]
    return schema.validate(root, file)


def validate_file(path, file: str | None = None) -> list[Problem]:
    """Parse and strictly validate one metadata file on disk (line numbers are the file's)."""
    name = file or str(path)
    try:
        root = etree.parse(str(path)).getroot()
    except etree.XMLSyntaxError as error:
        return [Problem(name, error.lineno or 0, "", f"not well-formed XML: {error.msg}")]
    return _validate_root(root, name)
