"""Parent records for cross-object references ($Record.Account.Name, Item.Owner.Profile.Name).

Salesforce reads the parent fields an element needs for the whole batch of interviews at that
element; so does the runtime. Before an element runs, every interview waiting there hands over the
paths it reads, and each relationship step becomes one SOQL (per parent object) over all their lookup
ids. A fetched parent is kept on the child record under its relationship name (Account, Owner__r),
where reading the path finds it; record_out and the save hooks skip such values, and the next visit
reads it afresh (the lookup id may have changed in between).
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from typing import Any, Iterable

from ..schema import Schema
from . import formula
from .access import OrgAccess, Query
from .data import get_field, record_in, record_type
from .model import Condition, Element, Flow, Value

_MERGE = re.compile(r"\{!([^}]+)\}")
_GLOBALS = ("$flow", "$globalconstant", "$setup", "$api", "$user", "$profile", "$organization")


def is_cross_object(path: str) -> bool:
    """True for a path that reads a field through at least one relationship (three parts or more)."""
    parts = path.strip().split(".")
    return len(parts) >= 3 and parts[0].lower() not in _GLOBALS


def element_paths(flow: Flow, el: Element) -> list[str]:
    """The cross-object paths an element reads, also through the formulas and text templates it uses."""
    key = el.name.lower()
    if key not in flow.cross_paths:
        flow.cross_paths[key] = _cross_paths(flow, _read_paths(el))
    return flow.cross_paths[key]


def entry_paths(flow: Flow) -> list[str]:
    """The cross-object paths the start element's entry conditions (filters or formula) read."""
    start = flow.start
    direct = [p for f in start.filters for p in _value_paths(f.value)]
    if start.filter_formula is not None:
        direct += formula.references(start.filter_formula.ast)
    return _cross_paths(flow, direct)


def _read_paths(node: Any) -> list[str]:
    """Every resource path in the values and condition left sides inside `node` (an element)."""
    if isinstance(node, Value):
        return _value_paths(node)
    if isinstance(node, Condition):
        return [node.left] + _value_paths(node.right)
    if isinstance(node, list):
        return [p for x in node for p in _read_paths(x)]
    if is_dataclass(node) and not isinstance(node, type):
        return [p for f in fields(node) for p in _read_paths(getattr(node, f.name))]
    return []


def _value_paths(v: Value | None) -> list[str]:
    if v is None:
        return []
    if v.kind == "reference":
        return [v.value]
    if v.kind == "string" and v.value and "{!" in v.value:
        return [m.group(1) for m in _MERGE.finditer(v.value)]
    return []


def _cross_paths(flow: Flow, paths: Iterable[str]) -> list[str]:
    """The cross-object ones among `paths` and the paths of the formulas and templates they name."""
    out: list[str] = []
    seen: set[str] = set()
    todo = list(paths)
    while todo:
        path = todo.pop().strip()
        if path.lower() in seen:
            continue
        seen.add(path.lower())
        if is_cross_object(path):
            out.append(path)
            continue
        head = path.split(".")[0].lower()
        if head in flow.formulas:
            todo += formula.references(flow.formulas[head].ast)
        elif head in flow.text_templates:
            todo += [m.group(1) for m in _MERGE.finditer(flow.text_templates[head].text)]
    return sorted(out)


def fetch(access: OrgAccess, wants: list[tuple[formula.Env, list[str]]]) -> None:
    """Attach the parents every (interview, paths) pair reaches: one SOQL per step and parent object."""
    depth = max((len(p.split(".")) - 2 for _, paths in wants for p in paths), default=0)
    for level in range(1, depth + 1):
        for sobject, hop in _hops(access.schema, wants, level).items():
            _load(access, sobject, hop)


def _hops(schema: Schema, wants, level: int) -> dict[str, dict]:
    """Per parent object at this step: the lookup ids, the fields to read and where each parent goes."""
    hops: dict[str, dict] = {}
    for env, paths in wants:
        for path in paths:
            parts = path.strip().split(".")
            if len(parts) - 2 < level:
                continue
            base = env.resolve(".".join(parts[:level]))
            if not isinstance(base, dict):
                continue
            obj = schema.get(record_type(base) or "")
            lookup = obj.relationship(parts[level]) if obj else None
            parent = schema.get(lookup.reference_to[0]) if lookup and lookup.reference_to else None
            if parent is None:
                continue  # refused at deploy; a record of another type reads as null
            hop = hops.setdefault(parent.name, {"ids": set(), "fields": {"Id"}, "links": []})
            nxt = parts[level + 1]
            wanted = parent.relationship(nxt) if level + 1 < len(parts) - 1 else parent.field(nxt)
            if wanted is not None:
                hop["fields"].add(wanted.name)
            rid = get_field(base, lookup.name)
            if rid:
                hop["ids"].add(str(rid))
            hop["links"].append((base, lookup.relationship_name, rid))
    return hops


def _load(access: OrgAccess, sobject: str, hop: dict) -> None:
    """One SOQL for the step's parents of one object; each child record gets its parent (or null)."""
    found: dict[str, dict] = {}
    if hop["ids"]:
        access.limits.charge_soql()
        rows = access.query(Query(sobject, sorted(hop["fields"]), ("cond", "Id", "IN", sorted(hop["ids"]))))
        access.limits.charge_soql_rows(len(rows))
        found = {r["Id"][:15]: record_in(access.schema, sobject, r) for r in rows}
    for base, name, rid in hop["links"]:
        base[name] = found.get(str(rid)[:15]) if rid else None
