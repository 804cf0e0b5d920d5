"""One flow interview: walks the element graph for one record (or one subflow call).

An interview is a generator. Local elements (assignments, decisions, loops) run inline; at an element
that touches the database or calls a subflow it yields a Request and waits, so the runtime can gather
the requests of every interview waiting at the same element and serve them with one query or one DML
statement, the way Salesforce bulkifies flow interviews.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Generator

from ..schema import Schema
from . import formula, logic, parents, values
from .data import build_query, get_field, record_out, record_type
from .errors import Fault, FlowFault, RecordCustomError
from .model import (ActionCall, Assignment, CustomError, CollectionProcessor, Decision, Element, FieldAssignment, Flow, Loop, RecordCreate, RecordDelete,
                    RecordLookup, RecordUpdate, Subflow, Value)

MAX_STEPS = 100_000  # an interview that visits this many elements is looping forever
_MERGE = re.compile(r"\{!([^}]+)\}")


@dataclass
class Request:
    """What an interview needs from its element's batch: one lookup, create, update, delete or subflow call."""

    element: Element
    interview: "Interview"
    op: str  # parents | lookup | create | update | update_where | delete | delete_where | subflow
    sobject: str = ""
    query: Any = None  # access.Query for lookups and *_where
    records: list[dict] = field(default_factory=list)  # REST-shaped records / field values for *_where
    ids: list[str] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)  # subflow inputs
    paths: list[str] = field(default_factory=list)  # cross-object paths whose parents to read


class Interview(formula.Env):
    def __init__(self, flow: Flow, schema: Schema, *, now: dt.datetime, inputs: dict | None = None,
                 record: dict | None = None, prior: dict | None = None, event: str | None = None,
                 globals_: Any = None, start_at: str | None = None) -> None:
        self.flow = flow
        self.start_at = start_at  # a scheduled path's first element (else the start's connector)
        self.globals = globals_  # globals.OrgGlobals: $Api and $Setup
        self.schema = schema
        self._now = now
        self.record = record
        self.prior = prior
        self.event = event  # create | update | delete for record-triggered interviews
        self.vars: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.visited: set[str] = set()
        self.taken: set[str] = set()  # decision outcomes taken at each decision's latest visit
        self.fault_message: str | None = None
        self.current: Element | None = None
        for key, var in flow.variables.items():
            if var.is_collection:
                self.vars[key] = []
            elif var.value is not None:
                self.vars[key] = values.coerce(var.data_type, self.value(var.value))
            else:
                self.vars[key] = None
        for name, val in (inputs or {}).items():
            var = flow.variables.get(name.lower())
            if var is None or not var.is_input:
                raise FlowFault(f"flow {flow.name} has no input variable {name}")
            # A record handed to a subflow is the subflow's own copy, as a value passed between flows.
            if isinstance(val, dict):
                val = copy.copy(val)
            elif isinstance(val, list):
                val = [copy.copy(x) if isinstance(x, dict) else x for x in val]
            self.vars[name.lower()] = self._coerce_var(var, val)

    # ----- formula.Env -------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return self._now

    def is_new(self) -> bool:
        return self.event == "create"

    def is_changed(self, path: str) -> bool:
        head, _, rest = path.partition(".")
        if head.lower() != "$record" or not rest:
            raise FlowFault(f"ISCHANGED() needs a field of $Record, got {path}")
        if self.prior is None:
            return False
        return not values.equal(self._walk(self.record, rest.split(".")), self._walk(self.prior, rest.split(".")),
                                case_sensitive=True)

    def prior(self, path: str) -> Any:  # type: ignore[override]
        head, _, rest = path.partition(".")
        if head.lower() != "$record" or not rest:
            raise FlowFault(f"PRIORVALUE() needs a field of $Record, got {path}")
        if self.prior is None:
            return self._walk(self.record, rest.split("."))
        return self._walk(self.prior, rest.split("."))

    # ----- resources --------------------------------------------------------------------------
    def resolve(self, path: str) -> Any:
        parts = path.strip().split(".")
        head, rest = parts[0], parts[1:]
        low = head.lower()
        if low == "$record":
            base = self.record
        elif low == "$record__prior":
            base = self.prior
        elif low == "$flow":
            return self._flow_global(".".join(rest))
        elif low in ("$setup", "$api", "$user", "$profile", "$organization"):
            if self.globals is None:
                raise FlowFault(f"{path}: this flow runs without the org's globals")
            if low == "$api":
                return self.globals.api(".".join(rest))
            if low == "$setup":
                return self.globals.setup(rest[0], rest[1])
            return self.globals.record(head, rest[0])
        elif low == "$globalconstant":
            name = ".".join(rest).lower()
            return {"true": True, "false": False, "emptystring": ""}.get(name)
        else:
            base = self._resource(head)
        return self._walk(base, rest)

    def _flow_global(self, name: str) -> Any:
        low = name.lower()
        if low == "faultmessage":
            return self.fault_message
        if low == "currentdatetime":
            return self._now
        if low == "currentdate":
            return self._now.date()
        if low == "interviewstarttime":
            return self._now
        raise FlowFault(f"$Flow.{name} is not supported by the local org's flow runtime")

    def _resource(self, name: str) -> Any:
        key = name.lower()
        if key in self.vars:
            return self.vars[key]
        if key in self.outputs:
            return self.outputs[key]
        f = self.flow.formulas.get(key)
        if f is not None:
            try:
                result = formula.evaluate(f.ast, self)
            except formula.FormulaError as exc:
                raise FlowFault(f"formula {f.name}: {exc.message}") from None
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise FlowFault(f"formula {f.name} could not be evaluated: {exc}") from None
            result = values.coerce(f.data_type, result)
            if f.data_type in ("Number", "Currency") and isinstance(result, float):
                result = round(result, f.scale)
            return result
        c = self.flow.constants.get(key)
        if c is not None:
            return values.coerce(c.data_type, self.value(c.value))
        t = self.flow.text_templates.get(key)
        if t is not None:
            return self.merge(t.text)
        if key in self.flow.elements:
            return None  # an element that has not produced output yet
        if self.flow.outcome(key) is not None:
            return key in self.taken
        raise FlowFault(f"{name} is not a variable, formula, constant, text template or element of flow "
                        f"{self.flow.name}")

    def _walk(self, base: Any, fields: list[str]) -> Any:
        for name in fields:
            if base is None:
                return None
            if isinstance(base, dict):
                base = get_field(base, name)
            else:
                raise FlowFault(f"cannot read field {name} of a value that is not a record")
        return base

    def value(self, v: Value | None) -> Any:
        if v is None or v.kind == "null":
            return None
        if v.kind == "string":
            return self.merge(v.value) if v.value and "{!" in v.value else v.value
        if v.kind == "reference":
            return self.resolve(v.value)
        if v.kind == "date":
            return values.to_date(v.value)
        if v.kind == "dateTime":
            return values.to_datetime(v.value)
        return v.value

    def merge(self, text: str) -> str:
        return _MERGE.sub(lambda m: values.to_text(self.resolve(m.group(1))) or "", text)

    def _coerce_var(self, var, val: Any) -> Any:
        if var.is_collection:
            return list(val) if val is not None else []
        if var.data_type == "SObject":
            return val
        return values.coerce(var.data_type, val)

    def assign(self, target: str, val: Any) -> None:
        parts = target.strip().split(".")
        if len(parts) == 1:
            key = parts[0].lower()
            var = self.flow.variables.get(key)
            if var is None:
                raise FlowFault(f"{target} is not a variable of flow {self.flow.name}")
            self.vars[key] = self._coerce_var(var, val)
            return
        base = self.resolve(".".join(parts[:-1]))
        if base is None and len(parts) == 2:
            # Setting a field of an empty record variable creates the record, as Flow does.
            var = self.flow.variables.get(parts[0].lower())
            if var is not None and var.data_type == "SObject" and not var.is_collection:
                base = self.vars[var.name.lower()] = {"attributes": {"type": var.object_type}}
        if not isinstance(base, dict):
            raise FlowFault(f"cannot set {target}: {'.'.join(parts[:-1])} is null, not a record")
        self.set_field(base, parts[-1], val)

    def set_field(self, rec: dict, name: str, val: Any) -> None:
        sobject = self.schema.get(record_type(rec) or "")
        f = sobject.field(name) if sobject else None
        if sobject is not None and f is None:
            raise FlowFault(f"{sobject.name} has no field {name}")
        if f is not None:
            try:
                val = values.from_field(f.type, val) if not isinstance(val, (dict, list)) else val
            except values.ValueError_ as exc:
                raise FlowFault(f"{sobject.name}.{f.name}: {exc}") from None
            name = f.name
        for k in list(rec):
            if k.lower() == name.lower() and k != name:
                del rec[k]
        rec[name] = val

    # ----- conditions -------------------------------------------------------------------------
    def check(self, left: Any, op: str, right: Value | None, *, left_path: str = "") -> bool:
        r = self.value(right)
        if op == "EqualTo":
            return values.equal(left, r, case_sensitive=True)
        if op == "NotEqualTo":
            return not values.equal(left, r, case_sensitive=True)
        if op in ("GreaterThan", "LessThan", "GreaterThanOrEqualTo", "LessThanOrEqualTo"):
            c = values.compare(left, r)
            if c is None:
                return False
            return {"GreaterThan": c > 0, "LessThan": c < 0, "GreaterThanOrEqualTo": c >= 0,
                    "LessThanOrEqualTo": c <= 0}[op]
        if op in ("Contains", "StartsWith", "EndsWith"):
            if isinstance(left, list):
                return op == "Contains" and any(values.equal(x, r, case_sensitive=True) for x in left)
            a, b = values.to_text(left) or "", values.to_text(r) or ""
            return {"Contains": b in a, "StartsWith": a.startswith(b), "EndsWith": a.endswith(b)}[op]
        if op == "IsNull":
            return (left is None) == bool(values.to_boolean(r))
        if op == "IsBlank":
            return values.is_blank(left) == bool(values.to_boolean(r))
        if op == "IsEmpty":
            return (not left) == bool(values.to_boolean(r))
        if op == "IsChanged":
            return self.is_changed(left_path) == bool(values.to_boolean(r))
        if op in ("In", "NotIn"):
            pool = r if isinstance(r, list) else [r]
            hit = any(values.equal(left, x, case_sensitive=True) for x in pool)
            return hit if op == "In" else not hit
        if op == "WasVisited":
            return (left_path.lower() in self.visited) == bool(values.to_boolean(r))
        raise FlowFault(f"operator {op} is not supported by the local org's flow runtime")

    def conditions_met(self, conds: list, logic_text: str, *, left_of=None) -> bool:
        tree = logic.parse(logic_text, len(conds))

        def test(i: int) -> bool:
            c = conds[i]
            path = c.left if hasattr(c, "left") else c.field
            left_value = None if c.operator == "WasVisited" else (left_of(path) if left_of else self.resolve(path))
            if left_of and c.operator == "IsChanged":
                path = "$Record." + path
            return self.check(left_value, c.operator, c.right if hasattr(c, "right") else c.value, left_path=path)

        return logic.evaluate(tree, test)

    # ----- running ----------------------------------------------------------------------------
    def run(self) -> Generator[Request, Any, None]:
        target = self.start_at or self.flow.start.target
        steps = 0
        while target:
            el = self.flow.elements.get(target.lower())
            if el is None:
                raise FlowFault(f"flow {self.flow.name} has no element {target}")
            steps += 1
            if steps > MAX_STEPS:
                raise FlowFault(f"flow {self.flow.name} visited {MAX_STEPS} elements: an endless loop?", el)
            self.current = el
            self.visited.add(el.name.lower())
            try:
                paths = parents.element_paths(self.flow, el)
                if paths:
                    result = yield Request(el, self, "parents", paths=paths)
                    if isinstance(result, Fault):
                        raise FlowFault(result.message, el)
                if self._is_local_update(el):
                    self._apply_assignments(self.record, el.assignments)
                    target = el.target
                    continue
                if el.bulk:
                    request = self.prepare(el)
                    result = (yield request) if request is not None else None
                    if isinstance(result, Fault):
                        raise FlowFault(result.message, el)
                    self.finish(el, request, result)
                    target = el.target
                else:
                    target = self.step(el)
            except FlowFault as fault:
                fault.element = fault.element or el
                if el.fault_target:
                    self.fault_message = fault.message
                    target = el.fault_target
                    continue
                raise
            except values.ValueError_ as exc:
                if el.fault_target:
                    self.fault_message = str(exc)
                    target = el.fault_target
                    continue
                raise FlowFault(str(exc), el) from None

    def _is_local_update(self, el: Element) -> bool:
        return (isinstance(el, RecordUpdate) and self.flow.start.trigger_type == "RecordBeforeSave"
                and (el.input_reference or "").lower() == "$record")

    def step(self, el: Element) -> str | None:
        if isinstance(el, Assignment):
            for item in el.items:
                self._assignment(item)
            return el.target
        if isinstance(el, Decision):
            return self._decide(el)
        if isinstance(el, Loop):
            return self._loop(el)
        if isinstance(el, CollectionProcessor):
            return self._process_collection(el)
        if isinstance(el, CustomError):
            text, field_name = el.messages[0]
            raise RecordCustomError(self.merge(text), field_name)
        raise FlowFault(f"element {el.name} cannot run here")  # pragma: no cover

    def _decide(self, el: Decision) -> str | None:
        """The connector of the first outcome met (else the default); {!Outcome} is true for it alone."""
        self.taken.difference_update(r.name.lower() for r in el.rules)
        for rule in el.rules:
            if self.conditions_met(rule.conditions, rule.logic):
                if rule.requires_change and self.prior is not None:
                    was = self._with_prior(lambda: self.conditions_met(rule.conditions, rule.logic))
                    if was:
                        continue
                self.taken.add(rule.name.lower())
                return rule.target
        return el.target

    def _with_prior(self, fn):
        saved = self.record
        self.record = self.prior
        try:
            return fn()
        finally:
            self.record = saved

    def _process_collection(self, el: CollectionProcessor) -> str | None:
        items = self.resolve(el.collection)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise FlowFault(f"{el.name}: {el.collection} is not a collection")
        if el.processor_type == "FilterCollectionProcessor":
            kept = [x for x in items if self._meets(el, x)]
            self.outputs[el.name.lower()] = kept[:el.limit] if el.limit is not None else kept
        else:
            ordered = _sorted(items, el.sort_options)
            self._replace_collection(el.collection, ordered[:el.limit] if el.limit is not None else ordered)
        return el.target

    def _replace_collection(self, name: str, items: list) -> None:
        """Sorting changes the collection itself: a variable, or another element's output."""
        key = name.strip().lower()
        if key in self.flow.variables:
            self.assign(name, items)
        else:
            self.outputs[key] = items

    def _meets(self, el: CollectionProcessor, item: Any) -> bool:
        """Whether one item passes a collection filter's conditions (the item is the current item)."""
        self.assign(el.item_reference or "", copy.copy(item) if isinstance(item, dict) else item)
        return self.conditions_met(el.conditions, el.logic)

    def _loop(self, el: Loop) -> str | None:
        key = el.name.lower()
        state = self.outputs.get(key + "#state")
        if state is None:
            items = self.resolve(el.collection) or []
            if not isinstance(items, list):
                raise FlowFault(f"loop {el.name}: {el.collection} is not a collection")
            order = list(reversed(items)) if el.descending else list(items)
            state = {"items": order, "pos": 0}
            self.outputs[key + "#state"] = state
        if state["pos"] >= len(state["items"]):
            del self.outputs[key + "#state"]
            self.outputs.pop(key, None)
            return el.target
        item = state["items"][state["pos"]]
        state["pos"] += 1
        self.outputs[key] = item
        if el.item_reference:
            self.assign(el.item_reference, item)
        return el.next_target

    def _assignment(self, item) -> None:
        op, target = item.operator, item.target
        val = self.value(item.value)
        if op == "Assign":
            self.assign(target, copy.copy(val) if isinstance(val, dict) else val)
            return
        current = self.resolve(target)
        if op == "AssignCount":
            self.assign(target, len(val or []))
            return
        if isinstance(current, list) or self._is_collection(target):
            self.assign(target, _collection_assignment(op, target, list(current or []), val))
            return
        if op == "Add":
            if val is None:
                return
            if isinstance(current, str) or (current is None and isinstance(val, str)):
                self.assign(target, (current or "") + (values.to_text(val) or ""))
            else:
                self.assign(target, values.add(current if current is not None else 0, val))
            return
        if op == "Subtract":
            if val is None:
                return
            self.assign(target, values.subtract(current if current is not None else 0, val))
            return
        raise FlowFault(f"assignment operator {op} is not supported for {target}")

    def _is_collection(self, target: str) -> bool:
        var = self.flow.variables.get(target.lower())
        return bool(var and var.is_collection)

    def _apply_assignments(self, rec: dict | None, assignments: list[FieldAssignment]) -> None:
        if rec is None:
            raise FlowFault("there is no record to update")
        for a in assignments:
            self.set_field(rec, a.field, self.value(a.value))

    # ----- bulk elements: build the request, then take the batch's answer ---------------------
    def prepare(self, el: Element) -> Request | None:
        if isinstance(el, ActionCall):
            return Request(el, self, "action", inputs={a.field.lower(): self.value(a.value) for a in el.inputs})
        if isinstance(el, RecordLookup):
            return Request(el, self, "lookup", el.object, query=build_query(self, el))
        if isinstance(el, RecordCreate):
            if el.input_reference:
                src = self.resolve(el.input_reference)
                recs = src if isinstance(src, list) else ([src] if src else [])
                sobject = self._sobject_of(el, recs)
                return Request(el, self, "create", sobject,
                               records=[record_out(self.schema, sobject, r, create=True) for r in recs])
            rec = {"attributes": {"type": el.object}}
            self._apply_assignments(rec, el.assignments)
            return Request(el, self, "create", el.object, records=[record_out(self.schema, el.object, rec, create=True)])
        if isinstance(el, RecordUpdate):
            if el.input_reference:
                src = self.resolve(el.input_reference)
                recs = src if isinstance(src, list) else ([src] if src else [])
                out = []
                sobject = self._sobject_of(el, recs)
                for r in recs:
                    if el.assignments:
                        rec = {"attributes": {"type": sobject}, "Id": get_field(r, "Id")}
                        self._apply_assignments(rec, el.assignments)
                    else:
                        rec = r
                    out.append(record_out(self.schema, sobject, rec, create=False))
                if any(not r.get("Id") for r in out):
                    raise FlowFault(f"{el.name}: a record to update has no Id")
                return Request(el, self, "update", sobject, records=out)
            rec = {"attributes": {"type": el.object}}
            self._apply_assignments(rec, el.assignments)
            return Request(el, self, "update_where", el.object, query=build_query(self, el, fields=["Id"]),
                           records=[record_out(self.schema, el.object, rec, create=False)])
        if isinstance(el, RecordDelete):
            if el.input_reference:
                src = self.resolve(el.input_reference)
                recs = src if isinstance(src, list) else ([src] if src else [])
                ids = [r if isinstance(r, str) else get_field(r, "Id") for r in recs]
                dict_recs = [r for r in recs if isinstance(r, dict)]
                sobject = self._sobject_of(el, dict_recs) if (el.object or dict_recs) else ""
                return Request(el, self, "delete", sobject, ids=[i for i in ids if i])
            return Request(el, self, "delete_where", el.object, query=build_query(self, el, fields=["Id"]))
        if isinstance(el, Subflow):
            inputs = {a.field: self.value(a.value) for a in el.inputs}
            return Request(el, self, "subflow", inputs=inputs)
        raise FlowFault(f"element {el.name} cannot run here")  # pragma: no cover

    def _sobject_of(self, el, recs: list) -> str:
        """The object an element with inputReference writes: its <object>, the records' own type,
        or the record variable's objectType."""
        if getattr(el, "object", ""):
            return el.object
        for r in recs:
            if isinstance(r, dict) and record_type(r):
                return record_type(r)
        head = (el.input_reference or "").split(".")[0].lower()
        var = self.flow.variables.get(head)
        if var is not None and var.object_type:
            return var.object_type
        if head == "$record":
            return self.flow.start.object or ""
        lookup = self.flow.elements.get(head)
        if isinstance(lookup, RecordLookup):
            return lookup.object
        raise FlowFault(f"{el.name}: cannot tell which object {el.input_reference} holds")

    def finish(self, el: Element, request: Request, result: Any) -> None:
        if isinstance(el, RecordLookup):
            self._store_lookup(el, result or [])
        elif isinstance(el, RecordCreate):
            ids = result or []
            if el.input_reference:
                src = self.resolve(el.input_reference)
                recs = src if isinstance(src, list) else ([src] if src else [])
                for rec, new_id in zip(recs, ids):
                    rec["Id"] = new_id
                first = ids[0] if ids else None
            else:
                first = ids[0] if ids else None
            if el.id_reference and first is not None:
                self.assign(el.id_reference, first)
            if el.store_automatically:
                self.outputs[el.name.lower()] = first
        elif isinstance(el, (Subflow, ActionCall)):
            outputs = result or {}
            for a in el.outputs:
                if a.assign_to:
                    self.assign(a.assign_to, outputs.get(a.field.lower()))
            if el.store_automatically:
                self.outputs[el.name.lower()] = {k: v for k, v in outputs.items()}

    def _store_lookup(self, el: RecordLookup, records: list[dict]) -> None:
        if el.store_automatically:
            if el.first_only:
                self.outputs[el.name.lower()] = records[0] if records else None
            else:
                self.outputs[el.name.lower()] = records if records else None
            return
        if el.output_reference:
            var = self.flow.variables.get(el.output_reference.lower())
            if var is not None and var.is_collection:
                self.vars[var.name.lower()] = records
            elif records:
                self.assign(el.output_reference, records[0])
            else:
                self.assign(el.output_reference, None)
            return
        if el.output_assignments:
            if not records:
                if el.null_if_none:
                    for a in el.output_assignments:
                        self.assign(a.assign_to, None)
                return
            first = records[0]
            for a in el.output_assignments:
                self.assign(a.assign_to, get_field(first, a.field))


def _sorted(items: list, options: list) -> list:
    """`items` sorted by its sort options, the first deciding first; blanks last unless asked first."""
    out = list(items)
    for o in reversed(options):  # stable sorts from the last option to the first: the first one wins
        present = [x for x in out if not values.is_blank(_sort_value(x, o))]
        empty = [x for x in out if values.is_blank(_sort_value(x, o))]
        present.sort(key=lambda x, o=o: _sort_key(_sort_value(x, o)), reverse=o.descending)
        out = empty + present if o.nulls_first else present + empty
    return out


def _sort_value(item: Any, option) -> Any:
    return get_field(item, option.field) if option.field and isinstance(item, dict) else item


def _sort_key(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _collection_assignment(op: str, target: str, current: list, val: Any) -> list:
    """The collection `current` after an Assignment operator (Add, RemoveAll, RemovePosition...) with `val`."""
    items = val if isinstance(val, list) else [val]
    items = [copy.copy(x) if isinstance(x, dict) else x for x in items]
    if op in ("Add", "AddItem"):
        current.extend(items)
    elif op == "AddAtStart":
        current[:0] = items
    elif op == "RemoveAll":
        current = [x for x in current if not any(values.equal(x, y, case_sensitive=True) for y in items)]
    elif op in ("RemoveFirst", "RemoveAfterFirst", "RemoveBeforeFirst"):
        idx = next((i for i, x in enumerate(current) if values.equal(x, items[0], case_sensitive=True)), None)
        if idx is not None:
            if op == "RemoveFirst":
                del current[idx]
            elif op == "RemoveAfterFirst":
                current = current[: idx + 1]
            else:
                current = current[idx:]
    elif op == "RemovePosition":
        pos = int(values.to_number(val) or 0)
        if not 1 <= pos <= len(current):
            raise FlowFault(f"RemovePosition {pos} is outside the collection {target} of {len(current)} items")
        del current[pos - 1]
    elif op == "RemoveUncommon":
        current = [x for x in current if any(values.equal(x, y, case_sensitive=True) for y in items)]
    else:
        raise FlowFault(f"assignment operator {op} does not apply to the collection {target}")
    return current
