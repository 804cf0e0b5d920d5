"""Pydantic models of Flow metadata (the standard, documented elements only) and the rules a
bulk-safe record-triggered Flow must follow.

Elements: start, recordLookups, recordCreates, recordUpdates, recordDeletes, decisions,
assignments, loops, subflows; resources: variables, formulas, textTemplates. Connectors
are plain element names. `Flow` checks, before any XML exists: unique names, connector targets,
references (`{!X}` and elementReference roots), a fault connector on every data element, every
element reachable, and no query, DML or subflow on a cycle (a Loop body or a goto-style loop).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from slotforce.package.names import DEVELOPER_NAME


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DataType = Literal["String", "Number", "Boolean", "Date", "DateTime", "SObject", "Picklist"]

# --- values ------------------------------------------------------------------------------------

class Value(_Model):
    """FlowElementReferenceOrValue: exactly one of these is set (all None = null string)."""

    string: str | None = None
    number: float | None = None
    boolean: bool | None = None
    reference: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if sum(v is not None for v in (self.string, self.number, self.boolean, self.reference)) > 1:
            raise ValueError("a flow value is exactly one of string, number, boolean, reference")
        return self


def ref(name: str) -> Value:
    return Value(reference=name)


def text(value: str) -> Value:
    return Value(string=value)


def number(value: float) -> Value:
    return Value(number=value)


TRUE = Value(boolean=True)
FALSE = Value(boolean=False)
NULL = Value()

# --- element parts -----------------------------------------------------------------------------

Operator = Literal[
    "EqualTo", "NotEqualTo", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo",
    "Contains", "StartsWith", "EndsWith", "IsNull", "IsChanged", "In", "NotIn",
]


class Condition(_Model):
    left: str
    operator: Operator
    right: Value


class Rule(_Model):
    name: str
    label: str | None = None
    conditions: list[Condition]
    logic: str = "and"  # and | or | custom such as "1 AND (2 OR 3)"
    next: str | None = None


class RecordFilter(_Model):
    field: str
    operator: Operator
    value: Value


class FieldValue(_Model):
    field: str
    value: Value


class AssignmentItem(_Model):
    to: str
    operator: Literal["Assign", "Add", "Subtract", "AssignCount", "RemoveAll"] = "Assign"
    value: Value


# --- elements ----------------------------------------------------------------------------------

class _Node(_Model):
    name: str
    label: str | None = None
    description: str | None = None

    @property
    def shown(self) -> str:
        return self.label or self.name.replace("_", " ")

    def targets(self) -> list[tuple[str, str]]:
        """(connector kind, target) pairs leaving this element."""
        return []


class _Data(_Node):
    next: str | None = None
    fault: str | None = None

    def targets(self):
        return [(k, t) for k, t in (("connector", self.next), ("faultConnector", self.fault)) if t]


class RecordLookup(_Data):
    kind: Literal["recordLookups"] = "recordLookups"
    object: str
    filters: list[RecordFilter]
    filter_logic: str = "and"
    first_only: bool = True
    output: str  # variable receiving the record (first_only) or the record collection
    fields: list[str]  # queriedFields; never "all fields"
    sort_field: str | None = None
    sort_order: Literal["Asc", "Desc"] | None = None


class RecordCreate(_Data):
    kind: Literal["recordCreates"] = "recordCreates"
    input_reference: str | None = None  # record or record collection variable
    object: str | None = None
    values: list[FieldValue] = []
    id_to: str | None = None  # assignRecordIdToReference

    @model_validator(mode="after")
    def _shape(self):
        if (self.input_reference is None) == (self.object is None):
            raise ValueError(f"{self.name}: create from input_reference or from object + values, not both")
        return self


class RecordUpdate(_Data):
    kind: Literal["recordUpdates"] = "recordUpdates"
    input_reference: str | None = None
    object: str | None = None
    filters: list[RecordFilter] = []
    values: list[FieldValue] = []

    @model_validator(mode="after")
    def _shape(self):
        if self.input_reference is None and not (self.object and self.filters and self.values):
            raise ValueError(f"{self.name}: update needs input_reference, or object + filters + values")
        if self.input_reference is not None and (self.object or self.filters or self.values):
            raise ValueError(f"{self.name}: with input_reference, leave object/filters/values empty")
        return self


class RecordDelete(_Data):
    kind: Literal["recordDeletes"] = "recordDeletes"
    input_reference: str | None = None
    object: str | None = None
    filters: list[RecordFilter] = []


class Decision(_Node):
    kind: Literal["decisions"] = "decisions"
    rules: list[Rule]
    default: str | None = None
    default_label: str = "Otherwise"

    def targets(self):
        out = [("connector", r.next) for r in self.rules if r.next]
        return out + ([("defaultConnector", self.default)] if self.default else [])


class Assignment(_Node):
    kind: Literal["assignments"] = "assignments"
    items: list[AssignmentItem]
    next: str | None = None

    def targets(self):
        return [("connector", self.next)] if self.next else []


class Loop(_Node):
    kind: Literal["loops"] = "loops"
    collection: str
    item: str  # assignNextValueToReference
    each: str  # nextValueConnector: first element of the body
    done: str | None = None  # noMoreValuesConnector

    def targets(self):
        return [("nextValueConnector", self.each)] + ([("noMoreValuesConnector", self.done)] if self.done else [])


class SubflowInput(_Model):
    name: str
    value: Value


class SubflowOutput(_Model):
    name: str
    to: str


class Subflow(_Node):
    kind: Literal["subflows"] = "subflows"
    flow_name: str
    inputs: list[SubflowInput] = []
    outputs: list[SubflowOutput] = []
    next: str | None = None

    def targets(self):
        return [("connector", self.next)] if self.next else []


Element = Annotated[
    Union[RecordLookup, RecordCreate, RecordUpdate, RecordDelete, Decision, Assignment, Loop, Subflow],
    Field(discriminator="kind"),
]
DATA_KINDS = ("recordLookups", "recordCreates", "recordUpdates", "recordDeletes")

# --- resources ---------------------------------------------------------------------------------

class Variable(_Model):
    name: str
    data_type: DataType
    object_type: str | None = None
    collection: bool = False
    input: bool = False
    output: bool = False
    value: Value | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _sobject(self):
        if (self.data_type == "SObject") != (self.object_type is not None):
            raise ValueError(f"variable {self.name}: object_type goes with (and only with) data_type SObject")
        return self


class Formula(_Model):
    name: str
    data_type: DataType
    expression: str
    description: str | None = None


class TextTemplate(_Model):
    name: str
    text: str
    description: str | None = None


class Start(_Model):
    """Record-triggered when `object` is set; otherwise an autolaunched flow (a subflow)."""

    next: str
    object: str | None = None
    trigger_type: Literal["RecordAfterSave", "RecordBeforeSave"] | None = None
    record_trigger_type: Literal["Create", "Update", "CreateAndUpdate", "Delete"] | None = None
    filters: list[RecordFilter] = []
    filter_logic: str | None = None

    @model_validator(mode="after")
    def _trigger(self):
        triggered = (self.object, self.trigger_type, self.record_trigger_type)
        if any(v is not None for v in triggered) and not all(v is not None for v in triggered):
            raise ValueError("a record-triggered start needs object, trigger_type and record_trigger_type")
        if self.filters and self.filter_logic is None:
            raise ValueError("start filters need a filter_logic (and, or, or custom)")
        return self


# --- the flow ----------------------------------------------------------------------------------

_MERGE = re.compile(r"\{!([^}]+)\}")
GLOBALS = {"$Record", "$Record__Prior", "$Flow"}


class Flow(_Model):
    api_name: str
    label: str
    description: str
    api_version: str = "62.0"
    status: Literal["Active", "Draft"] = "Active"
    start: Start
    elements: list[Element]
    variables: list[Variable] = []
    formulas: list[Formula] = []
    text_templates: list[TextTemplate] = []
    interview_label: str | None = None
    # Where this flow runs among the object's flows (1..2000); ours need no particular order.
    trigger_order: Annotated[int, Field(ge=1, le=2000)] = 500

    @property
    def record_triggered(self) -> bool:
        return self.start.object is not None

    def by_kind(self, kind: str) -> list:
        return [e for e in self.elements if e.kind == kind]

    def positions(self) -> dict[str, tuple[int, int]]:
        """Canvas positions: a plain grid in definition order (auto-layout recomputes them)."""
        return {e.name: (176 + 264 * (i % 5), 158 + 180 * (i // 5)) for i, e in enumerate(self.elements)}

    @model_validator(mode="after")
    def _check(self):
        if not DEVELOPER_NAME.match(self.api_name):
            raise ValueError(f"flow API name {self.api_name!r} must be a developer name")
        nodes = {e.name: e for e in self.elements}
        resources = [*self.variables, *self.formulas, *self.text_templates]
        names = [*(e.name for e in self.elements), *(r.name for r in resources)]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"flow {self.api_name}: {name} is defined twice")
            if not DEVELOPER_NAME.match(name):
                raise ValueError(f"flow {self.api_name}: {name!r} is not a developer name")
        known = set(names)
        where = f"flow {self.api_name}"
        if self.start.next not in nodes:
            raise ValueError(f"{where}: start connects to unknown element {self.start.next}")
        for e in self.elements:
            for kind, target in e.targets():
                if target not in nodes:
                    raise ValueError(f"{where}: {e.name} {kind} points to unknown element {target}")
        for owner, reference in self._references():
            root = reference.split(".")[0]
            if root not in known and root not in GLOBALS:
                raise ValueError(f"{where}: {owner} references {reference}, which is not defined")
            if root == "$Record" and not self.record_triggered:
                raise ValueError(f"{where}: {owner} uses $Record but the flow is not record-triggered")
            if root == "$Record__Prior" and self.start.record_trigger_type not in ("Update", "CreateAndUpdate"):
                raise ValueError(f"{where}: {owner} uses $Record__Prior, which only update triggers have")
        fault_targets = {e.fault for e in self.elements if isinstance(e, _Data) and e.fault}
        for e in self.elements:
            if e.kind in DATA_KINDS and e.fault is None and e.name not in fault_targets:
                raise ValueError(f"{where}: {e.name} has no fault connector; route failures to an element "
                                 "that records $Flow.FaultMessage")
        reachable = self._reachable(nodes)
        for name in nodes:
            if name not in reachable:
                raise ValueError(f"{where}: {name} is not reachable from the start")
        for cycle in _cycles(nodes):
            costly = [n for n in cycle if nodes[n].kind in (*DATA_KINDS, "subflows")]
            if costly:
                raise ValueError(f"{where}: {', '.join(sorted(costly))} runs inside a loop "
                                 f"({' -> '.join(sorted(cycle))}); collect into a collection and do one "
                                 "query or DML outside the loop")
        return self

    def go_to_edges(self) -> set[tuple[str, str]]:
        """(source, target) connectors that jump back to an earlier element other than a Loop.

        Auto-layout draws the flow as a tree; a jump backwards (our goto-style line splitting)
        must be flagged `isGoTo` or Flow Builder cannot place it.
        """
        nodes = {e.name: e for e in self.elements}
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}  # 1 = on the DFS path, 2 = done

        def visit(name: str) -> None:
            state[name] = 1
            for _, target in nodes[name].targets():
                if state.get(target) == 1 and nodes[target].kind != "loops":
                    back.add((name, target))
                elif target not in state:
                    visit(target)
            state[name] = 2

        visit(self.start.next)
        return back

    def field_uses(self):
        """(sObject, field) pairs this flow reads or writes, as far as the metadata names them."""
        types = {v.name: v.object_type for v in self.variables if v.object_type}
        if self.start.object:
            types["$Record"] = types["$Record__Prior"] = self.start.object
        for f in self.start.filters:
            yield self.start.object, f.field
        for e in self.elements:
            obj = getattr(e, "object", None)
            if obj:
                for f in [*getattr(e, "filters", []), *getattr(e, "values", [])]:
                    yield obj, f.field
                for name in getattr(e, "fields", []):
                    yield obj, name
        for owner, reference in self._references():
            parts = reference.split(".")
            if len(parts) == 2 and parts[0] in types:
                yield types[parts[0]], parts[1]

    def _reachable(self, nodes) -> set[str]:
        seen: set[str] = set()
        todo = [self.start.next]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(t for _, t in nodes[name].targets())
        return seen

    def _references(self):
        """(owner, reference) for every variable/element reference in the flow."""
        def values(owner, *vs):
            for v in vs:
                if v is not None and v.reference:
                    yield owner, v.reference
                if v is not None and v.string:
                    yield from ((owner, m) for m in _MERGE.findall(v.string))

        for f in self.start.filters:
            yield from values("start", f.value)
        for e in self.elements:
            n = e.name
            if isinstance(e, (RecordLookup, RecordUpdate, RecordDelete)):
                for f in e.filters:
                    yield from values(n, f.value)
            if isinstance(e, RecordLookup):
                yield n, e.output
            if isinstance(e, (RecordCreate, RecordUpdate, RecordDelete)) and e.input_reference:
                yield n, e.input_reference
            if isinstance(e, (RecordCreate, RecordUpdate)):
                for fv in e.values:
                    yield from values(n, fv.value)
            if isinstance(e, RecordCreate) and e.id_to:
                yield n, e.id_to
            if isinstance(e, Decision):
                for r in e.rules:
                    for c in r.conditions:
                        yield n, c.left
                        yield from values(n, c.right)
            if isinstance(e, Assignment):
                for item in e.items:
                    yield n, item.to
                    yield from values(n, item.value)
            if isinstance(e, Loop):
                yield n, e.collection
                yield n, e.item
            if isinstance(e, Subflow):
                for i in e.inputs:
                    yield from values(n, i.value)
                for o in e.outputs:
                    yield n, o.to
        for f in self.formulas:
            yield from ((f.name, m) for m in _MERGE.findall(f.expression))
        for t in self.text_templates:
            yield from ((t.name, m) for m in _MERGE.findall(t.text))


def _cycles(nodes: dict) -> list[set[str]]:
    """Strongly connected components with a cycle (Tarjan): a Loop body or a goto-style loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for _, w in nodes[v].targets():
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or any(t == v for _, t in nodes[v].targets()):
                found.append(component)

    for name in nodes:
        if name not in index:
            visit(name)
    return found
