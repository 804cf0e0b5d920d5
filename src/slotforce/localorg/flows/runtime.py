"""Runs record-triggered and autolaunched flows inside a save, bulkified, under governor limits.

The org calls `before_save` and `after_save` with the records of one DML statement. Interviews for up
to 200 records run in lock-step: at each Get/Create/Update/Delete Records or Subflow element the
requests of all interviews waiting there become one query (1 SOQL) or one DML statement (1 DML,
N rows). Breaching a limit or a fault without a fault path raises CANNOT_EXECUTE_FLOW_TRIGGER, and
the org rolls the whole transaction back.
"""

from __future__ import annotations

import copy
import datetime as dt
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import SalesforceError
from ..schema import Schema
from ..soql.dates import org_time_zone
from . import actions, formula, parents, scheduled, values
from .access import LimitExceeded, OrgAccess, Query
from .data import SYSTEM_FIELDS, get_field, record_in
from .errors import Fault, FlowCustomValidationError, FlowFault, FlowTriggerError, RecordCustomError
from .interview import Interview, Request
from .model import Element, Flow
from .registry import FlowRegistry

CHUNK = 200  # records handed to one batch of interviews, as Salesforce chunks trigger records
MAX_DEPTH = 16  # nested saves caused by flows; Salesforce stops at "maximum trigger depth exceeded"

@dataclass
class _Failure(Exception):
    """An unhandled fault, carried up to the record-triggered flow that started it."""

    flow: Flow
    element: Element | None
    message: str
    limit: bool = False


@dataclass
class _Transaction:
    ran: set = field(default_factory=set)  # (timing, flow name, record id) already run: recursion control
    depth: int = 0


def _fault_text(op: str, exc: SalesforceError) -> str:
    """$Flow.FaultMessage as Salesforce words it for a failed data element."""
    inner = exc.message if exc.message.startswith(exc.error_code) else f"{exc.error_code}: {exc.message}"
    return (f"This error occurred when the flow tried to {op} records: {inner}. You can look up ExceptionCode "
            "values in the SOAP API Developer Guide.")


def _rest(schema: Schema, sobject: str, rec: dict) -> dict:
    """A typed flow record back in REST JSON shapes (to keep it, e.g. a scheduled path's prior record)."""
    obj = schema.get(sobject)
    out = {}
    for k, v in rec.items():
        f = obj.field(k) if obj and k != "attributes" else None
        if f is not None and not isinstance(v, (dict, list)):
            out[f.name] = values.to_field(f.type, v)
    return out


def _trigger_records(schema: Schema, sobject: str, event: str, new_records: list[dict] | None,
                     old_records: list[dict] | None) -> tuple[list[dict], list[dict] | None]:
    """The saved records as flow values ($Record: the old ones on delete) and, on update, $Record__Prior."""
    source = old_records if event == "delete" else new_records
    typed = [record_in(schema, sobject, r) for r in source or []]
    olds = [record_in(schema, sobject, r) for r in old_records] if old_records and event == "update" else None
    return typed, olds


class FlowRuntime:
    """The save hooks: `before_save` / `after_save(access, sobject, event, new_records, old_records)`;
    autolaunched flows run as subflows of the record-triggered ones."""

    def __init__(self, registry: FlowRegistry, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.registry = registry
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._tx: "weakref.WeakKeyDictionary[Any, _Transaction]" = weakref.WeakKeyDictionary()

    # ----- the save hooks ---------------------------------------------------------------------
    def before_save(self, access: OrgAccess, sobject: str, event: str, new_records: list[dict] | None,
                    old_records: list[dict] | None) -> None:
        """Run before-save flows (and before-delete flows); field values they set on $Record are
        written into `new_records` (REST dicts) in place."""
        flows = self.registry.triggered(sobject, "before", event)
        if not flows:
            return
        schema = access.schema
        typed, olds = _trigger_records(schema, sobject, event, new_records, old_records)
        self._trigger(access, flows, "before", event, typed, olds)
        if event == "delete":
            return
        obj = schema.get(sobject)
        for rest, rec in zip(new_records or [], typed):
            for k, v in rec.items():
                f = obj.field(k) if obj and k != "attributes" else None
                if f is None or f.name.lower() in SYSTEM_FIELDS:
                    continue
                new_value = values.to_field(f.type, v)
                if new_value != rest.get(f.name) or f.name not in rest:
                    if new_value is None and f.name not in rest:
                        continue
                    rest[f.name] = new_value

    def after_save(self, access: OrgAccess, sobject: str, event: str, new_records: list[dict] | None,
                   old_records: list[dict] | None) -> None:
        flows = self.registry.triggered(sobject, "after", event)
        if not flows:
            return
        typed, olds = _trigger_records(access.schema, sobject, event, new_records, old_records)
        self._trigger(access, flows, "after", event, typed, olds)

    def _trigger(self, access, flows: list[Flow], timing: str, event: str, records: list[dict],
                 olds: list[dict] | None) -> None:
        state = self._tx.setdefault(access, _Transaction())
        state.depth += 1
        added: list = []
        try:
            if state.depth > MAX_DEPTH:
                raise FlowTriggerError(f"maximum trigger depth exceeded: flows saved records {MAX_DEPTH} levels deep")
            now = self.clock()
            for flow in flows:
                self._entry_parents(access, flow, event, records, olds, now)
                chosen = []
                for i, rec in enumerate(records):
                    old = olds[i] if olds else None
                    rid = rec.get("Id")
                    key = (timing, flow.name.lower(), rid)
                    if rid and key in state.ran:
                        continue
                    if not self._enters(access, flow, event, rec, old, now):
                        continue
                    if rid:
                        state.ran.add(key)
                        added.append(key)
                    chosen.append((rec, old))
                if flow.start.scheduled_paths and timing == "after":
                    self._schedule(access, flow, event, chosen, now)
                if not flow.start.target:
                    continue  # only scheduled paths
                for start in range(0, len(chosen), CHUNK):
                    part = chosen[start:start + CHUNK]
                    try:
                        interviews = [Interview(flow, access.schema, now=now, record=rec,
                                                prior=old if event == "update" else None, event=event,
                                                globals_=getattr(access, "globals", None))
                                      for rec, old in part]
                        self.run_interviews(access, flow, interviews)
                    except FlowTriggerError as exc:
                        if exc.limit:
                            raise
                        raise FlowTriggerError(self._message(flow, None, exc.message)) from None
                    except (_Failure, LimitExceeded, RecordCustomError) as exc:
                        raise self._save_error(flow, exc) from None
        except BaseException:
            # The org may retry the save record by record: those records must run their flows again.
            state.ran.difference_update(added)
            raise
        finally:
            state.depth -= 1
            if state.depth == 0:
                self._tx.pop(access, None)

    def _schedule(self, access, flow: Flow, event: str, chosen: list, now: dt.datetime) -> None:
        """Keep each scheduled path of `flow` for every record that entered it (rolled back with the save)."""
        definition = self.registry.definition(flow.name)
        version = next((i + 1 for i, f in enumerate(definition.versions) if f is flow), 0) if definition else 0
        for rec, old in chosen:
            for path in flow.start.scheduled_paths:
                due = scheduled.due_time(path, rec, now, org_time_zone())
                if due is not None and rec.get("Id"):
                    prior = _rest(access.schema, flow.start.object, old) if old is not None else None
                    access.schedule_path(flow.name, version, path.name, rec["Id"], event, prior, due)

    def run_scheduled(self, access, flow: Flow, path_name: str, jobs: list[tuple[str, str, dict | None]]) -> None:
        """Run one batch of a scheduled path: [(record id, event, prior REST record)]. The record is read as it
        is now; one that was deleted, or no longer meets the flow's entry conditions, does not run."""
        path = next(p for p in flow.start.scheduled_paths if p.name == path_name)
        obj = access.schema.get(flow.start.object)
        ids = [rid for rid, _, _ in jobs]
        rows = access.query(Query(obj.name, [f.name for f in obj.fields.values()], ("cond", "Id", "IN", ids)))
        current = {r["Id"][:15]: record_in(access.schema, obj.name, r) for r in rows}
        now = self.clock()
        interviews = []
        for rid, event, prior in jobs:
            rec = current.get(rid[:15])
            old = record_in(access.schema, obj.name, prior) if prior is not None else None
            if rec is None or not self._enters(access, flow, event, rec, old, now):
                continue
            interviews.append(Interview(flow, access.schema, now=now, record=rec,
                                        prior=old if event == "update" else None, event=event,
                                        globals_=getattr(access, "globals", None), start_at=path.target))
        try:
            self.run_interviews(access, flow, interviews)
        except (_Failure, LimitExceeded, RecordCustomError) as exc:
            raise self._save_error(flow, exc) from None

    def _save_error(self, flow: Flow, exc: Exception) -> Exception:
        """What a save (or a scheduled run) fails with when one of `flow`'s interviews failed with `exc`."""
        if isinstance(exc, _Failure):
            return FlowTriggerError(self._message(flow, exc), limit=exc.limit)
        if isinstance(exc, LimitExceeded):
            return FlowTriggerError(self._message(flow, None, exc.message), limit=True)
        # a Custom Error element: the record's save fails, as a validation rule's would
        return FlowCustomValidationError(exc.message, fields=[exc.field] if exc.field else None)

    def run_schedule(self, access, flow: Flow, records: list[dict] | None) -> None:
        """One batch of a schedule-triggered flow: an interview per record (REST records of its object, already
        filtered by its entry conditions), or one interview without a record when the flow names no object."""
        now = self.clock()
        obj = flow.start.object
        typed = [record_in(access.schema, obj, r) for r in records] if records is not None else [None]
        interviews = [Interview(flow, access.schema, now=now, record=rec, event=None,
                                globals_=getattr(access, "globals", None)) for rec in typed]
        try:
            self.run_interviews(access, flow, interviews)
        except (_Failure, LimitExceeded, RecordCustomError) as exc:
            raise self._save_error(flow, exc) from None

    def schedule_entrants(self, access, flow: Flow) -> list[dict]:
        """The records of a schedule-triggered flow's object that meet its entry conditions, now."""
        obj = access.schema.get(flow.start.object)
        rows = access.query(Query(obj.name, [f.name for f in obj.fields.values()]))
        now = self.clock()
        return [r for r in rows if self._enters(access, flow, None, record_in(access.schema, obj.name, r), None, now)]

    @staticmethod
    def _message(flow: Flow, failure: _Failure | None, inner: str | None = None) -> str:
        where = ""
        if failure is not None:
            inner = failure.message
            el = failure.element
            where = (f"Flow {failure.flow.name}, element {el.name} ({el.kind}, line {el.line})"
                     if el is not None else f"Flow {failure.flow.name}")
        else:
            where = f"Flow {flow.name}"
        return (f"We can't save this record because the “{flow.label}” process failed. Give your Salesforce "
                f"admin these details. {where}: {inner}")

    @staticmethod
    def _entry_parents(access, flow: Flow, event: str, records: list[dict], olds: list[dict] | None,
                       now: dt.datetime) -> None:
        """Read the parents the entry conditions refer to, for every saved record (and prior) at once."""
        paths = parents.entry_paths(flow)
        if not paths:
            return
        bases = records + (olds or [])
        try:
            parents.fetch(access, [(Interview(flow, access.schema, now=now, record=r, event=event,
                                             globals_=getattr(access, "globals", None)), paths)
                                   for r in bases])
        except LimitExceeded as exc:
            raise FlowTriggerError(FlowRuntime._message(flow, None, exc.message), limit=True) from None
        except SalesforceError as exc:
            raise FlowTriggerError(FlowRuntime._message(flow, None, _fault_text("look up", exc))) from None

    def _enters(self, access, flow: Flow, event: str, rec: dict, old: dict | None,
                now: dt.datetime) -> bool:
        start = flow.start
        if not start.filters and start.filter_formula is None:
            return True

        def meets(record: dict, prior: dict | None) -> bool:
            iv = Interview(flow, access.schema, now=now, record=record, prior=prior, event=event,
                           globals_=getattr(access, "globals", None))
            if start.filter_formula is not None:
                try:
                    return bool(formula.evaluate(start.filter_formula.ast, iv))
                except (formula.FormulaError, FlowFault, TypeError, ValueError) as exc:
                    raise _Failure(flow, None, f"entry condition formula: {exc}") from None
            return iv.conditions_met(start.filters, start.filter_logic, left_of=lambda name: get_field(record, name))

        try:
            now_meets = meets(rec, old if event == "update" else None)
        except _Failure as failure:
            raise FlowTriggerError(self._message(flow, failure)) from None
        if not now_meets:
            return False
        if start.requires_change and event == "update" and old is not None:
            return not meets(old, None)
        return True

    # ----- lock-step execution ----------------------------------------------------------------
    def run_interviews(self, access: OrgAccess, flow: Flow, interviews: list[Interview]) -> None:
        waiting: dict[Interview, tuple[Any, Request]] = {}

        def advance(iv: Interview, gen, result) -> None:
            try:
                req = gen.send(result)
            except StopIteration:
                return
            except FlowFault as fault:
                raise _Failure(flow, fault.element or iv.current, fault.message) from None
            waiting[iv] = (gen, req)

        for iv in interviews:
            advance(iv, iv.run(), None)
        while waiting:
            first = next(iter(waiting.values()))[1]
            element = first.element
            # Interviews at one element may wait for its parents or for its own query: one batch each.
            group = [(iv, gen, req) for iv, (gen, req) in waiting.items()
                     if req.element is element and req.op == first.op]
            for iv, _, _ in group:
                del waiting[iv]
            try:
                results = self._execute(access, flow, element, [req for _, _, req in group])
            except LimitExceeded as exc:
                raise _Failure(flow, element, exc.message, limit=True) from None
            for (iv, gen, _), result in zip(group, results):
                advance(iv, gen, result)

    @staticmethod
    def _outputs(iv: Interview) -> dict:
        return {k: iv.vars.get(k) for k, v in iv.flow.variables.items() if v.is_output}

    # ----- one batched operation per element visit --------------------------------------------
    def _execute(self, access: OrgAccess, flow: Flow, element: Element, requests: list[Request]) -> list:
        op = requests[0].op
        if op == "parents":
            return self._parents(access, [(r.interview, r.paths) for r in requests])
        if op == "subflow":
            return self._subflow(access, flow, element, requests)
        if op == "action":
            return actions.run(access, flow, element, [r.inputs for r in requests])
        if op in ("lookup", "update_where", "delete_where"):
            access.limits.charge_soql()
            try:
                rows = self._select(access, requests)
            except LimitExceeded:
                raise
            except SalesforceError as exc:
                return [Fault(_fault_text("look up", exc)) for _ in requests]
        if op == "lookup":
            return [[record_in(access.schema, r.sobject, rec) for rec in rows[i]] for i, r in enumerate(requests)]
        if op in ("update_where", "delete_where"):
            if op == "delete_where":
                for r, found in zip(requests, rows):
                    r.ids = [rec["Id"] for rec in found]
                op = "delete"
            else:
                for r, found in zip(requests, rows):
                    r.records = [dict(r.records[0], Id=rec["Id"]) for rec in found]
                op = "update"
        return self._dml(access, element, op, requests)

    @staticmethod
    def _parents(access: OrgAccess, wants: list) -> list:
        """The parent records a batch's cross-object references read; a failed query faults them all."""
        try:
            parents.fetch(access, wants)
        except LimitExceeded:
            raise
        except SalesforceError as exc:
            return [Fault(_fault_text("look up", exc)) for _ in wants]
        return [None for _ in wants]

    def _select(self, access: OrgAccess, requests: list[Request]) -> list[list[dict]]:
        """One charged SOQL for the element visit; identical queries are asked once."""
        cache: dict[str, list[dict]] = {}
        out = []
        for r in requests:
            k = r.query.key()
            if k not in cache:
                cache[k] = access.query(r.query)
                access.limits.charge_soql_rows(len(cache[k]))
            out.append(copy.deepcopy(cache[k]))
        return out

    def _dml(self, access: OrgAccess, element: Element, op: str, requests: list[Request]) -> list:
        """The element visit's DML. Create Records and Update Records save partially (Salesforce,
        Spring '20 "Save Successful Record Changes in a Batch from Failed Actions"): a statement that
        fails is tried again in halves, so one interview's bad record fails that interview only and
        the others' records are saved (each try a statement, as the org counts them). Delete Records
        is all or nothing."""
        try:
            return self._dml_all(access, op, requests)
        except LimitExceeded:
            raise
        except SalesforceError as exc:
            if getattr(exc, "limit", False):
                raise
            if op == "delete" or len(requests) == 1:
                return [Fault(_fault_text(op, exc)) for _ in requests]
        half = len(requests) // 2
        return self._dml(access, element, op, requests[:half]) + self._dml(access, element, op, requests[half:])

    @staticmethod
    def _dml_all(access: OrgAccess, op: str, requests: list[Request]) -> list:
        """One combined DML statement for the element visit; any error fails all of it."""
        sobject = next((r.sobject for r in requests if r.sobject), "")
        if op == "create":
            batch = [rec for r in requests for rec in r.records]
            if not batch:
                return [[] for _ in requests]
            access.limits.charge_dml(len(batch))
            obj = access.schema.get(sobject)
            if obj is not None and obj.platform_event:  # Create Records on X__e publishes the events
                element = requests[0].element
                access.publish(sobject, batch, {"flow": requests[0].interview.flow.name, "element": element.name})
                return [[None] * len(r.records) for r in requests]
            ids = access.insert(sobject, batch)
            out, pos = [], 0
            for r in requests:
                out.append(ids[pos:pos + len(r.records)])
                pos += len(r.records)
            return out
        if op == "update":
            merged: dict[str, dict] = {}
            for r in requests:
                for rec in r.records:
                    merged.setdefault(rec["Id"][:15], {}).update(rec)
            if merged:
                access.limits.charge_dml(len(merged))
                access.update(sobject, list(merged.values()))
            return [None for _ in requests]
        if op == "delete":
            ids = list(dict.fromkeys(i for r in requests for i in r.ids))
            if ids:
                if not sobject:
                    obj = access.schema.by_prefix(ids[0])
                    sobject = obj.name if obj else ""
                access.limits.charge_dml(len(ids))
                access.delete(sobject, ids)
            return [None for _ in requests]
        raise AssertionError(op)  # pragma: no cover

    def _subflow(self, access: OrgAccess, flow: Flow, element, requests: list[Request]) -> list:
        child = self.registry.active(element.flow_name)
        if child is None:
            return [Fault(f"subflow {element.flow_name} has no active version") for _ in requests]
        now = self.clock()
        interviews = []
        for r in requests:
            try:
                interviews.append(Interview(child, access.schema, now=now, inputs=r.inputs,
                                            globals_=getattr(access, "globals", None)))
            except FlowFault as fault:
                raise _Failure(flow, element, fault.message) from None
        self.run_interviews(access, child, interviews)
        return [self._outputs(iv) for iv in interviews]
