"""Which metadata type each model becomes, and where its SFDX source file lives.

A component is (metadata type, fullName, model, template). Adding a type — Flow, say — is one more
`MetadataType` and one more template; the writer and validator stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slotforce.package.model import CustomObject, Package

SOURCE_ROOT = "main/default"


@dataclass(frozen=True)
class MetadataType:
    name: str  # Metadata API type, also the XML root element
    template: str
    folder: str
    suffix: str

    def path(self, full_name: str) -> str:
        if self.name == "CustomObject":
            return f"{SOURCE_ROOT}/{self.folder}/{full_name}/{full_name}{self.suffix}"
        if self.name == "CustomField":
            obj, name = full_name.split(".", 1)
            return f"{SOURCE_ROOT}/{self.folder}/{obj}/fields/{name}{self.suffix}"
        return f"{SOURCE_ROOT}/{self.folder}/{full_name}{self.suffix}"


CUSTOM_OBJECT = MetadataType("CustomObject", "CustomObject.xml.j2", "objects", ".object-meta.xml")
CUSTOM_FIELD = MetadataType("CustomField", "CustomField.xml.j2", "objects", ".field-meta.xml")
PERMISSION_SET = MetadataType("PermissionSet", "PermissionSet.xml.j2", "permissionsets", ".permissionset-meta.xml")

FLOW = MetadataType("Flow", "Flow.xml.j2", "flows", ".flow-meta.xml")

METADATA_TYPES = [CUSTOM_OBJECT, CUSTOM_FIELD, PERMISSION_SET, FLOW]
# Source suffix -> the root element a file with it must have (for `validate` on disk).
ROOT_BY_SUFFIX = {t.suffix: t.name for t in METADATA_TYPES}


@dataclass(frozen=True)
class Component:
    type: MetadataType
    full_name: str
    model: Any
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.type.path(self.full_name)


def components(package: Package) -> Iterator[Component]:
    """Every component of the package, in a stable order (objects, their fields, permission sets, flows)."""
    for obj in package.objects:
        if isinstance(obj, CustomObject):
            yield Component(CUSTOM_OBJECT, obj.api_name, obj)
        for f in obj.fields:
            yield Component(CUSTOM_FIELD, f"{obj.api_name}.{f.api_name}", f, {"object": obj})
    for ps in package.permission_sets:
        yield Component(PERMISSION_SET, ps.api_name, ps)
    for flow in package.flows:
        yield Component(FLOW, flow.api_name, flow, {"positions": flow.positions(), "go_to": flow.go_to_edges()})
