"""Admin extensions: extra fields declared in YAML, merged into the package before rendering.

    objects:
      Contact:
        fields:
          - api_name: Last_Booking_Status__c
            type: Text
            length: 40
            label: Last Booking Status
            description: Why the field exists.

Every error names the file and the key path (`objects.Contact.fields[1].length`), because the
person reading it is editing that YAML, not our Python.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from slotforce.package.errors import DefinitionError
from slotforce.package.model import FIELD_TYPES, CustomField, CustomObject, StandardObject
from slotforce.yamlfile import YamlFileError, key_path, read_yaml

_FIELD = TypeAdapter(CustomField)



def _fail(file: Path, where, problem: str, fix: str = "") -> DefinitionError:
    return DefinitionError(f"{file}: {key_path(where)}" if where else str(file), problem, fix)


def load_extensions(file: Path) -> dict[str, list]:
    """Read and check the YAML; returns object API name -> list of field models."""
    try:
        data = read_yaml(file)
    except YamlFileError as error:
        if error.problem == "not found":
            raise _fail(file, (), "file not found", "pass the path of an extensions YAML") from None
        raise _fail(file, (), f"not valid YAML: {error.where}: {error.detail}") from None
    if not isinstance(data, dict) or set(data) != {"objects"} or not isinstance(data["objects"], dict):
        raise _fail(file, (), "expected a mapping with one key, `objects`, mapping object API names to "
                    "`fields:` lists", "see extensions.example.yml")
    result: dict[str, list] = {}
    for obj_name, body in data["objects"].items():
        here = ("objects", obj_name)
        if not isinstance(body, dict) or set(body) != {"fields"} or not isinstance(body["fields"], list):
            raise _fail(file, here, "expected `fields:` followed by a list of field definitions")
        fields = []
        for i, raw in enumerate(body["fields"]):
            fields.append(_field(file, (*here, "fields", i), raw))
        result[str(obj_name)] = fields
    return result


def _field(file: Path, here: tuple, raw) -> object:
    if not isinstance(raw, dict):
        raise _fail(file, here, "a field definition must be a mapping (api_name, type, label, description, ...)")
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        raise _fail(file, (*here, "type"), f"unknown field type {kind!r}",
                    f"use one of {', '.join(FIELD_TYPES)}")
    try:
        return _FIELD.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        loc = [p for p in first["loc"] if p != kind]  # the union adds the type tag to the path
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown key for a {kind} field"
        raise _fail(file, (*here, *loc), message) from None


def apply_extensions(objects: list, file: Path) -> list:
    """Return `objects` with the extension fields added (new standard objects created as needed)."""
    extra = load_extensions(file)
    by_name = {o.api_name: o for o in objects}
    merged = list(objects)
    for obj_name, fields in extra.items():
        here = ("objects", obj_name)
        existing = by_name.get(obj_name)
        if existing is None:
            if obj_name.endswith("__c"):
                raise _fail(file, here, f"{obj_name} is not an object of this package",
                            "extensions add fields; new custom objects belong in the package definition")
            try:
                existing = StandardObject(api_name=obj_name)
            except ValidationError as error:
                raise _fail(file, here, error.errors()[0]["msg"].removeprefix("Value error, ")) from None
            merged.append(existing)
        taken = {f.api_name.lower() for f in existing.fields}
        for i, f in enumerate(fields):
            if f.api_name.lower() in taken:
                raise _fail(file, (*here, "fields", i, "api_name"),
                            f"duplicate API name {f.api_name} on {obj_name}", "pick a name not used yet")
            if f.track_history and isinstance(existing, StandardObject):
                raise _fail(file, (*here, "fields", i, "track_history"),
                            "history tracking on standard objects is set up in the org, not here")
            if f.track_history and isinstance(existing, CustomObject) and not existing.enable_history:
                raise _fail(file, (*here, "fields", i, "track_history"), f"{obj_name} has history off")
            taken.add(f.api_name.lower())
        updated = existing.model_copy(update={"fields": [*existing.fields, *fields]})
        merged[merged.index(existing)] = updated
        by_name[obj_name] = updated
    return merged
