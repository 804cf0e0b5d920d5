"""Deploy-time checks of a parsed flow against the org's objects and the runtime's abilities.

Salesforce refuses a flow that references a missing object, field or resource; the local org also
refuses anything its runtime would not run exactly. Every problem names the line in the flow file.
"""

from __future__ import annotations

import re
from typing import Iterable

from ..schema import Schema, SObject
from . import actions, formula, logic, parents, scheduled
from .globals import RECORD_GLOBALS, api_path_ok
from .model import (ActionCall, Assignment, CustomError, CollectionProcessor, Decision, Flow, Loop, RecordCreate, RecordDelete, RecordLookup,
                    RecordUpdate, Subflow, Value)
from .parser import FlowDefinitionError

TRIGGER_TYPES = {"RecordBeforeSave", "RecordAfterSave", "RecordBeforeDelete"}
RECORD_TRIGGER_TYPES = {"Create", "Update", "CreateAndUpdate", "Delete"}
CONDITION_OPERATORS = {"EqualTo", "NotEqualTo", "GreaterThan", "LessThan", "GreaterThanOrEqualTo",
                       "LessThanOrEqualTo", "Contains", "StartsWith", "EndsWith", "IsNull", "IsBlank",
                       "IsEmpty", "IsChanged", "In", "NotIn", "WasVisited"}
FILTER_OPERATORS = {"EqualTo", "NotEqualTo", "GreaterThan", "LessThan", "GreaterThanOrEqualTo",
                    "LessThanOrEqualTo", "StartsWith", "EndsWith", "Contains", "IsNull", "In", "NotIn"}
ASSIGNMENT_OPERATORS = {"Assign", "Add", "Subtract", "AddItem", "AddAtStart", "AssignCount", "RemoveAll",
                        "RemoveFirst", "RemoveAfterFirst", "RemoveBeforeFirst", "RemovePosition",
                        "RemoveUncommon"}
SCHEDULE_UNITS = ("Months", "Days", "Hours", "Minutes")
SCHEDULE_FREQUENCIES = ("Once", "Daily", "Weekly")
FLOW_GLOBALS = {"faultmessage", "currentdatetime", "currentdate", "interviewstarttime"}
DATA_TYPES = {"String", "Number", "Currency", "Boolean", "Date", "DateTime", "Picklist", "Multipicklist",
              "SObject"}
_MERGE = re.compile(r"\{!([^}]+)\}")


def _fail(message: str, line: int) -> None:
    raise FlowDefinitionError(message, line)


class _Checker:
    def __init__(self, flow: Flow, schema: Schema, known_flows: dict[str, Flow]) -> None:
        self.flow = flow
        self.schema = schema
        self.known_flows = known_flows
        self.trigger_object: SObject | None = None

    def sobject(self, name: str, line: int, what: str) -> SObject:
        obj = self.schema.get(name or "")
        if obj is None:
            _fail(f"{what}: the object {name or '(none)'} does not exist in this org", line)
        return obj

    def field(self, obj: SObject, name: str, line: int, what: str):
        if "." in name or ":" in name:
            _fail(f"{what}: cross-object field {name} is not supported by the local org's flow runtime", line)
        f = obj.field(name)
        if f is None:
            _fail(f"{what}: the field {obj.name}.{name} does not exist", line)
        return f

    # ----- references -------------------------------------------------------------------------
    def reference(self, path: str, line: int, what: str) -> None:
        parts = path.strip().split(".")
        head, rest = parts[0], parts[1:]
        low = head.lower()
        if low in ("$record", "$record__prior"):
            if self.trigger_object is None:
                _fail(f"{what}: {head} exists only in record-triggered flows", line)
            if low == "$record__prior" and self.flow.start.record_trigger_type not in ("Update", "CreateAndUpdate"):
                _fail(f"{what}: $Record__Prior is available only in flows that run on update", line)
            if rest:
                self.path_field(self.trigger_object, rest, path, line, what)
            return
        if low == "$flow":
            if len(rest) != 1 or rest[0].lower() not in FLOW_GLOBALS:
                _fail(f"{what}: {path} is not supported (supported: $Flow.FaultMessage, $Flow.CurrentDateTime, "
                      "$Flow.CurrentDate, $Flow.InterviewStartTime)", line)
            return
        if low == "$globalconstant":
            if len(rest) != 1 or rest[0].lower() not in ("true", "false", "emptystring"):
                _fail(f"{what}: {path} is not a global constant", line)
            return
        if low == "$api":
            if len(rest) != 1 or not api_path_ok(rest[0]):
                _fail(f"{what}: {path} is not supported by the local org's flow runtime (supported: "
                      "$Api.Enterprise_Server_URL_NNN and $Api.Partner_Server_URL_NNN; a flow in the local org runs "
                      "inside a save, with no API session of its own)", line)
            return
        if low in RECORD_GLOBALS:
            obj = self.schema.get(RECORD_GLOBALS[low])
            if len(rest) != 1 or obj is None:
                _fail(f"{what}: {path}: {head} takes one field of {RECORD_GLOBALS[low]} (cross-object paths from "
                      f"{head} are not supported by the local org's flow runtime)", line)
            self.field(obj, rest[0], line, what)
            return
        if low == "$setup":
            if len(rest) != 2:
                _fail(f"{what}: {path}: $Setup takes a custom setting and one of its fields "
                      "($Setup.Setting__c.Field__c)", line)
            setting = self.schema.get(rest[0])
            if setting is None or setting.custom_setting != "Hierarchy":
                _fail(f"{what}: {path}: {rest[0]} is not a hierarchy custom setting of this org", line)
            self.field(setting, rest[1], line, what)
            return
        if head.startswith("$"):
            _fail(f"{what}: the global {head} is not supported by the local org's flow runtime", line)
        res = self.flow.resource(head)
        if res is None and self.flow.outcome(head) is not None:
            if rest:
                _fail(f"{what}: {path}: the decision outcome {head} is a Boolean and has no fields", line)
            return
        if res is None:
            _fail(f"{what}: {head} is not a variable, constant, formula, text template or element of this flow",
                  line)
        if not rest:
            return
        obj = self._record_type_of(res)
        if obj is not None:
            self.path_field(obj, rest, path, line, what)
        elif len(rest) > 1:
            _fail(f"{what}: {path}: {head} is not a record, so it has no parent records", line)

    def path_field(self, obj: SObject, rest: list[str], path: str, line: int, what: str) -> None:
        """The field a path reads from `obj`, through its parent relationships (Account.Owner.Name)."""
        for hop in rest[:-1]:
            lookup = obj.relationship(hop)
            if lookup is None:
                _fail(f"{what}: {path}: {obj.name} has no parent relationship {hop}", line)
            if lookup.polymorphic or len(lookup.reference_to) != 1:
                _fail(f"{what}: {path}: {obj.name}.{lookup.name} may point at {', '.join(lookup.reference_to)}; "
                      "polymorphic relationships are not supported by the local org's flow runtime", line)
            parent = self.schema.get(lookup.reference_to[0])
            if parent is None:
                _fail(f"{what}: {path}: the object {lookup.reference_to[0]} is not in the org", line)
            obj = parent
        self.field(obj, rest[-1], line, what)

    def written(self, path: str, line: int, what: str) -> None:
        """A path a flow writes to: its own variables and records' fields, never a parent's field."""
        if parents.is_cross_object(path):
            _fail(f"{what}: {path}: a flow cannot set a field of a parent record", line)
        self.reference(path, line, what)

    def _record_type_of(self, res, seen: frozenset = frozenset()) -> SObject | None:
        """The object of a record resource; `seen` stops elements that filter each other's output."""
        if hasattr(res, "data_type") and getattr(res, "object_type", None):
            return self.schema.get(res.object_type)
        if isinstance(res, RecordLookup):
            return self.schema.get(res.object)
        if isinstance(res, (CollectionProcessor, Loop)) and res.name.lower() not in seen:
            src = self.flow.resource(res.collection.split(".")[0])
            if isinstance(src, (RecordLookup, CollectionProcessor)) or getattr(src, "object_type", None):
                return self._record_type_of(src, seen | {res.name.lower()})
        return None

    def value(self, v: Value | None, line: int, what: str) -> None:
        if v is None:
            return
        if v.kind == "reference":
            self.reference(v.value, v.line or line, what)
        elif v.kind == "string" and v.value:
            self.text(v.value, v.line or line, what)

    def text(self, text: str, line: int, what: str) -> None:
        for m in _MERGE.finditer(text):
            self.reference(m.group(1), line, what)

    def logic(self, text: str, count: int, line: int, what: str) -> None:
        try:
            logic.parse(text, count)
        except logic.LogicError as exc:
            _fail(f"{what}: {exc}", line)

    def target(self, name: str | None, line: int, what: str) -> None:
        if name and name.lower() not in self.flow.elements:
            _fail(f"{what}: the connector goes to {name}, which is not an element of this flow", line)

    # ----- the flow -----------------------------------------------------------------------------
    def check(self) -> None:
        flow, start = self.flow, self.flow.start
        if start.trigger_type and start.trigger_type != "Scheduled":
            if start.trigger_type not in TRIGGER_TYPES:
                _fail(f"<start>: triggerType {start.trigger_type} is not supported by the local org's flow runtime "
                      f"(supported: {', '.join(sorted(TRIGGER_TYPES))})", start.line)
            self.trigger_object = self.sobject(start.object or "", start.line, "<start>")
            if self.trigger_object.name == "EventRelation":
                _fail("<start>: EventRelation does not support triggers (record-triggered flows)", start.line)
            rtt = start.record_trigger_type or ("Delete" if start.trigger_type == "RecordBeforeDelete" else None)
            if rtt not in RECORD_TRIGGER_TYPES:
                _fail(f"<start>: recordTriggerType {start.record_trigger_type} is not one of "
                      f"{', '.join(sorted(RECORD_TRIGGER_TYPES))}", start.line)
            start.record_trigger_type = rtt
            if start.trigger_type == "RecordBeforeDelete" and rtt != "Delete":
                _fail("<start>: RecordBeforeDelete flows must have recordTriggerType Delete", start.line)
            if rtt == "Delete" and start.trigger_type == "RecordBeforeSave":
                _fail("<start>: a delete trigger runs before delete: use triggerType RecordBeforeDelete", start.line)
            for f in start.filters:
                self.field(self.trigger_object, f.field, f.line, "<start> filter")
                if f.operator not in FILTER_OPERATORS | {"IsChanged"}:
                    _fail(f"<start> filter: operator {f.operator} is not supported", f.line)
                if f.operator == "IsChanged" and rtt not in ("Update", "CreateAndUpdate"):
                    _fail("<start> filter: IsChanged needs a flow that runs on update", f.line)
                self.value(f.value, f.line, "<start> filter")
            self.logic(start.filter_logic, len(start.filters), start.line, "<start> filterLogic")
            if start.filter_formula is not None:
                self.formula_refs(start.filter_formula.ast, start.filter_formula.line, "<start> filterFormula")
        elif start.trigger_type == "Scheduled":
            self.schedule_start(start)
        elif start.object:
            _fail("<start>: an object without triggerType is not supported", start.line)
        if not start.target and not start.scheduled_paths:
            _fail("<start> has no connector: the flow does nothing", start.line)
        self.target(start.target, start.line, "<start>")
        for path in start.scheduled_paths:
            self.scheduled_path(path)

        for var in flow.variables.values():
            if var.data_type not in DATA_TYPES:
                _fail(f"variable {var.name}: dataType {var.data_type} is not supported", var.line)
            if var.data_type == "SObject":
                self.sobject(var.object_type or "", var.line, f"variable {var.name}")
            self.value(var.value, var.line, f"variable {var.name}")
        for c in flow.constants.values():
            self.value(c.value, c.line, f"constant {c.name}")
        for f in flow.formulas.values():
            self.formula_refs(f.ast, f.line, f"formula {f.name}")
        for t in flow.text_templates.values():
            self.text(t.text, t.line, f"text template {t.name}")
        for el in flow.elements.values():
            self.element(el)

    def schedule_start(self, start) -> None:
        """A schedule-triggered flow: runs Once/Daily/Weekly from startDate startTime, for every record of its
        object meeting the filters (or once, without a record, when it names no object)."""
        if start.schedule is None:
            _fail("<start>: triggerType Scheduled needs a <schedule>", start.line)
        frequency, day, time_ = start.schedule
        if frequency not in SCHEDULE_FREQUENCIES:
            _fail(f"<start> <schedule>: frequency {frequency} is not one of {', '.join(SCHEDULE_FREQUENCIES)}",
                  start.line)
        try:
            scheduled.first_run(start.schedule)
        except ValueError:
            _fail(f"<start> <schedule>: startDate {day} / startTime {time_} is not a date and a time", start.line)
        if start.object:
            self.trigger_object = self.sobject(start.object, start.line, "<start>")
            for f in start.filters:
                self.field(self.trigger_object, f.field, f.line, "<start> filter")
                if f.operator not in FILTER_OPERATORS:
                    _fail(f"<start> filter: operator {f.operator} is not supported in a scheduled flow", f.line)
                self.value(f.value, f.line, "<start> filter")
            self.logic(start.filter_logic, len(start.filters), start.line, "<start> filterLogic")
            if start.filter_formula is not None:
                self.formula_refs(start.filter_formula.ast, start.filter_formula.line, "<start> filterFormula")
        if start.scheduled_paths:
            _fail("<scheduledPaths> belong to record-triggered flows", start.scheduled_paths[0].line)

    def scheduled_path(self, path) -> None:
        what = f"<scheduledPaths> {path.name}"
        start = self.flow.start
        if start.trigger_type != "RecordAfterSave" or start.record_trigger_type == "Delete":
            _fail(f"{what}: scheduled paths belong to flows that run after a record is created or updated", path.line)
        if not path.name and path.path_type != "AsyncAfterCommit":
            _fail("<scheduledPaths> has no <name>", path.line)
        if not path.target:
            _fail(f"{what} has no connector", path.line)
        self.target(path.target, path.line, what)
        if path.path_type == "AsyncAfterCommit":
            return
        if path.path_type is not None:
            _fail(f"{what}: pathType {path.path_type} is not supported (AsyncAfterCommit, or none for a "
                  "time-based path)", path.line)
        if path.offset_unit not in SCHEDULE_UNITS:
            _fail(f"{what}: offsetUnit {path.offset_unit} is not one of {', '.join(SCHEDULE_UNITS)}", path.line)
        if path.time_source == "RecordField":
            f = self.field(self.trigger_object, path.record_field or "", path.line, what)
            if f.type not in ("date", "datetime"):
                _fail(f"{what}: recordField {f.name} is not a Date or Date/Time field", path.line)
        elif path.time_source != "RecordTriggerEvent":
            _fail(f"{what}: timeSource {path.time_source} is not RecordTriggerEvent or RecordField", path.line)

    def formula_refs(self, ast, line: int, what: str) -> None:
        for path in formula.references(ast):
            self.reference(path, line, what)
        for path in _prior_reads(ast):
            self.prior_read(path, line, what)

    def prior_read(self, path: str, line: int, what: str) -> None:
        """ISCHANGED / PRIORVALUE / IsChanged compare with $Record__Prior, whose parents are not read."""
        if parents.is_cross_object(path):
            _fail(f"{what}: {path}: comparing a parent's field with its prior value is not supported by the "
                  "local org's flow runtime", line)

    def element(self, el) -> None:
        what = f"{el.kind} {el.name}"
        before = self.flow.start.trigger_type == "RecordBeforeSave"
        self.target(el.target, el.line, what)
        self.target(el.fault_target, el.line, what)
        if before and isinstance(el, (RecordCreate, RecordDelete, Subflow)):
            _fail(f"{what}: a before-save flow can only change $Record (no Create/Delete Records or subflows)",
                  el.line)
        if before and isinstance(el, RecordUpdate) and (el.input_reference or "").lower() != "$record":
            _fail(f"{what}: a before-save flow can only update $Record", el.line)
        obj_name = getattr(el, "object", "") or ""
        event = self.schema.get(obj_name) if obj_name.endswith("__e") else None
        if event is not None and event.platform_event and isinstance(el, (RecordLookup, RecordUpdate, RecordDelete)):
            _fail(f"{what}: {event.name} is a platform event: it can only be published (Create Records), not "
                  "queried, updated or deleted", el.line)
        check = {Assignment: self.assignment, Decision: self.decision, Loop: self.loop,
                 RecordLookup: self.record_lookup, RecordCreate: self.record_create,
                 RecordUpdate: self.record_update, RecordDelete: self.record_delete,
                 Subflow: self.subflow, CollectionProcessor: self.collection_processor,
                 ActionCall: self.action_call, CustomError: self.custom_error}.get(type(el))
        if check is not None:
            check(el, what)

    def assignment(self, el: Assignment, what: str) -> None:
        """Assignment: supported operators, known references."""
        for item in el.items:
            if item.operator not in ASSIGNMENT_OPERATORS:
                _fail(f"{what}: assignment operator {item.operator} is not supported", item.line)
            self.written(item.target, item.line, what)
            self.value(item.value, item.line, what)

    def decision(self, el: Decision, what: str) -> None:
        """Decision: each outcome's connector, condition logic and conditions."""
        for rule in el.rules:
            self.target(rule.target, rule.line, what)
            self.conditions(rule.conditions, rule.logic, rule.line, what, f"{what} rule {rule.name}")

    def conditions(self, conds, logic_text: str, line: int, what: str, where: str = "") -> None:
        """Condition logic, operators and both sides of each condition (decisions, collection filters)."""
        self.logic(logic_text, len(conds), line, where or what)
        for c in conds:
            if c.operator not in CONDITION_OPERATORS:
                _fail(f"{what}: condition operator {c.operator} is not supported by the local org's "
                      "flow runtime", c.line)
            if c.operator == "IsChanged":
                self.prior_read(c.left, c.line, what)
            if c.operator == "WasVisited":
                if c.left.lower() not in self.flow.elements:
                    _fail(f"{what}: WasVisited needs an element on the left, got {c.left}", c.line)
            else:
                self.reference(c.left, c.line, what)
            self.value(c.right, c.line, what)

    def collection_processor(self, el: CollectionProcessor, what: str) -> None:
        """Collection Filter / Sort: a collection, the item variable, conditions or sort fields."""
        if el.processor_type not in ("FilterCollectionProcessor", "SortCollectionProcessor"):
            _fail(f"{what}: collectionProcessorType {el.processor_type} is not supported by the local org's flow "
                  "runtime (supported: FilterCollectionProcessor, SortCollectionProcessor)", el.line)
        self.reference(el.collection, el.line, what)
        if el.processor_type == "FilterCollectionProcessor":
            if not el.item_reference:
                _fail(f"{what}: a collection filter needs assignNextValueToReference (the current item)", el.line)
            self.written(el.item_reference, el.line, what)
            self.conditions(el.conditions, el.logic, el.line, what)
            # Parents are read once per element visit, but the current item changes within this one.
            cross = parents.element_paths(self.flow, el)
            if cross:
                _fail(f"{what}: cross-object reference {cross[0]} in a collection filter is not supported by the "
                      "local org's flow runtime", el.line)
            return
        obj = self._record_type_of(self.flow.resource(el.collection.split(".")[0]) or object())
        for o in el.sort_options:
            if o.field and obj is not None:
                self.field(obj, o.field, el.line, what)
            elif o.field is None and obj is not None:
                _fail(f"{what}: sorting a record collection needs a sortField", el.line)

    def loop(self, el: Loop, what: str) -> None:
        """Loop: the next-value connector, the collection and the loop variable."""
        self.target(el.next_target, el.line, what)
        self.reference(el.collection, el.line, what)
        if el.item_reference:
            self.written(el.item_reference, el.line, what)

    def record_lookup(self, el: RecordLookup, what: str) -> None:
        """Get Records: object, filters, queried fields, where the result goes."""
        obj = self.sobject(el.object, el.line, what)
        self.filters(obj, el.filters, el.filter_logic, el.line, what)
        for q in el.queried_fields:
            self.field(obj, q, el.line, what)
        for a in el.output_assignments:
            self.field(obj, a.field, a.line, what)
            self.written(a.assign_to or "", a.line, what)
        if el.sort_field:
            self.field(obj, el.sort_field, el.line, what)
        if el.output_reference:
            self.written(el.output_reference, el.line, what)
        self.value(el.limit, el.line, what)

    def record_create(self, el: RecordCreate, what: str) -> None:
        """Create Records: from a record variable, or field by field (createable fields only)."""
        if el.input_reference:
            self.reference(el.input_reference, el.line, what)
        else:
            obj = self.sobject(el.object, el.line, what)
            for a in el.assignments:
                f = self.field(obj, a.field, a.line, what)
                if not f.createable:
                    _fail(f"{what}: the field {obj.name}.{f.name} cannot be set on create", a.line)
                self.value(a.value, a.line, what)
        if el.id_reference:
            self.written(el.id_reference, el.line, what)

    def record_update(self, el: RecordUpdate, what: str) -> None:
        """Update Records: a record variable, or filtered records of an object (updateable fields only)."""
        if el.input_reference:
            self.reference(el.input_reference, el.line, what)
            obj = (self.trigger_object if el.input_reference.lower() == "$record"
                   else self._record_type_of(self.flow.resource(el.input_reference.split(".")[0]) or object()))
        else:
            obj = self.sobject(el.object, el.line, what)
            self.filters(obj, el.filters, el.filter_logic, el.line, what)
            if not el.filters:
                _fail(f"{what}: Update Records without filters would update every {obj.name}", el.line)
        for a in el.assignments:
            if obj is not None:
                f = self.field(obj, a.field, a.line, what)
                if not f.updateable:
                    _fail(f"{what}: the field {obj.name}.{f.name} cannot be updated", a.line)
            self.value(a.value, a.line, what)

    def record_delete(self, el: RecordDelete, what: str) -> None:
        """Delete Records: a record variable, or filtered records of an object."""
        if el.input_reference:
            self.reference(el.input_reference, el.line, what)
        else:
            obj = self.sobject(el.object, el.line, what)
            self.filters(obj, el.filters, el.filter_logic, el.line, what)
            if not el.filters:
                _fail(f"{what}: Delete Records without filters would delete every {obj.name}", el.line)

    def custom_error(self, el: CustomError, what: str) -> None:
        """A Custom Error stops the save of the record a record-triggered flow runs for."""
        if self.trigger_object is None:
            _fail(f"{what}: custom errors belong to record-triggered flows", el.line)
        for message, field_name in el.messages:
            self.text(message, el.line, what)
            if field_name:
                self.field(self.trigger_object, field_name, el.line, what)

    def action_call(self, el: ActionCall, what: str) -> None:
        try:
            actions.check(el, what, self.value, self.schema)
        except actions.ActionDefinitionError as exc:
            _fail(exc.message, exc.line)
        for a in el.outputs:
            if a.assign_to:
                self.written(a.assign_to, a.line, what)

    def subflow(self, el: Subflow, what: str) -> None:
        """Subflow: an autolaunched flow that exists, with the input and output variables it declares."""
        child = self.known_flows.get(el.flow_name.lower())
        if child is None:
            _fail(f"{what}: the flow {el.flow_name} it calls is neither deployed nor in this deployment", el.line)
        if child.is_record_triggered:
            _fail(f"{what}: {el.flow_name} is record-triggered and cannot be called as a subflow", el.line)
        for a in el.inputs:
            var = child.variables.get(a.field.lower())
            if var is None or not var.is_input:
                _fail(f"{what}: {el.flow_name} has no input variable {a.field}", a.line)
            self.value(a.value, a.line, what)
        for a in el.outputs:
            var = child.variables.get(a.field.lower())
            if var is None or not var.is_output:
                _fail(f"{what}: {el.flow_name} has no output variable {a.field}", a.line)
            if a.assign_to:
                self.written(a.assign_to, a.line, what)

    def filters(self, obj: SObject, filters, logic_text: str, line: int, what: str) -> None:
        for f in filters:
            self.field(obj, f.field, f.line, what)
            if f.operator not in FILTER_OPERATORS:
                _fail(f"{what}: filter operator {f.operator} is not supported by the local org's flow runtime",
                      f.line)
            self.value(f.value, f.line, what)
        self.logic(logic_text, len(filters), line, f"{what} filterLogic")


def _prior_reads(node: tuple) -> list[str]:
    """The paths a formula hands to ISCHANGED() or PRIORVALUE()."""
    if node[0] != "call":
        return [p for n in node[1:] if isinstance(n, tuple) for p in _prior_reads(n)]
    own = [a[1] for a in node[2][:1] if node[1].upper() in ("ISCHANGED", "PRIORVALUE") and a[0] == "ref"]
    return own + [p for a in node[2] for p in _prior_reads(a)]


def validate_flow(flow: Flow, schema: Schema, known_flows: dict[str, Flow] | Iterable[Flow] = ()) -> None:
    """Raise FlowDefinitionError (with the line) for the first problem found in `flow`.
    `known_flows`: flows a subflow element may call (already deployed or in the same deployment),
    keyed by lower-cased API name."""
    if not isinstance(known_flows, dict):
        known_flows = {f.name.lower(): f for f in known_flows}
    _Checker(flow, schema, known_flows).check()
