"""The flow runtime plugged into the org (models.Org): save hooks, data access, auto numbers.

`install(org, registry)` registers the before-save and after-save hooks on the org. Inside a hook,
the org's Transaction is the data access: queries go to the SOQL engine (the runtime charges one
SOQL per element visit through `ctx.count_soql`), DML goes through `ctx.insert/update/delete`, which
count one DML statement per call and fire the flows of the saved object again.
"""

from __future__ import annotations

import json
import re
import weakref
from typing import TYPE_CHECKING, Any

import datetime as dt

from .. import emails, events, store
from ..errors import SalesforceError
from ..schema import SObject
from ..soql import nodes
from .access import LikePattern, Limits, Query
import logging

from ..values import format_datetime_seconds, parse_datetime
from . import pending, scheduled
from .errors import FlowTriggerError
from .globals import OrgGlobals
from .registry import FlowRegistry
from .runtime import FlowRuntime

if TYPE_CHECKING:
    from ..models import Org

_EVENTS = {"insert": "create", "update": "update", "delete": "delete"}
log = logging.getLogger("slotforce.localorg")
AUTONUMBER_META = "autonumber:"
EMAIL_TEMPLATES_META = "metadata:email_templates"
SCHEDULE_META = "flows:schedule:"  # + flow name: the last run (or activation) of a schedule-triggered flow  # deployed EmailTemplates, read by email alert actions  # store meta key prefix: {"format": "BA-{00000000}", "next": 1}


class _TransactionLimits(Limits):
    """Limits charged on the org's transaction counters, so API requests and flows share them."""

    def __init__(self, ctx) -> None:
        super().__init__()
        self._ctx = ctx

    def charge_soql(self, rows: int = 0) -> None:
        self._ctx.count_soql()
        self.charge_soql_rows(rows)

    def charge_dml(self, rows: int) -> None:
        # ctx.insert/update/delete count the statement themselves: one call per element visit.
        pass


class TransactionAccess:
    """OrgAccess over one models.Transaction."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.schema = ctx.org.schema
        self.limits = _TransactionLimits(ctx)
        self.user_id = ctx.user_id
        self.org_id = ctx.org.org_id
        self.instance_url = ctx.org.instance_url
        self.globals = OrgGlobals(self)  # $Api and $Setup, read once per transaction

    def query(self, query: Query) -> list[dict]:
        # A syntax tree, not text: a flow's Get Records skips the SOQL parser (most of a query's cost).
        return self.ctx.org.execute_query(soql_tree(query)).records

    def insert(self, sobject: str, records: list[dict]) -> list[str]:
        return self.ctx.insert(sobject, records)

    def update(self, sobject: str, records: list[dict]) -> None:
        self.ctx.update(sobject, records)

    def delete(self, sobject: str, ids: list[str]) -> None:
        self.ctx.delete(sobject, ids)

    def schedule_path(self, flow: str, version: int, path: str, record_id: str, event: str, prior: dict | None,
                      due: dt.datetime) -> None:
        """Keep a scheduled path until the org's clock passes `due` (pending.py; rolled back with the save)."""
        pending.add(self.ctx.conn, flow, version, path, record_id, event, prior, format_datetime_seconds(due))

    def email_template(self, name: str) -> dict | None:
        """A deployed EmailTemplate ({subject, body, type}) by its folder/Name, as it is now."""
        raw = store.get_meta(self.ctx.conn, EMAIL_TEMPLATES_META)
        return json.loads(raw).get(name) if raw else None

    def publish(self, sobject: str, events_: list[dict], source: dict) -> None:
        """Publish platform events (after this transaction commits: they are kept with it, events.py)."""
        for e in events_:
            events.record(self.ctx.conn, {"publishedAt": self.ctx.now(), "sobject": sobject, "fields": e, **source})

    def send_email(self, message: dict) -> None:
        """Keep a message the org would send once this transaction commits (emails.py)."""
        emails.record(self.ctx.conn, {"sentAt": self.ctx.now(), **message})


class OrgFlows:
    """The hooks registered on one org; `registry` holds the deployed flows."""

    def __init__(self, org, registry: FlowRegistry) -> None:
        self.org = org
        self.registry = registry
        self.runtime = FlowRuntime(registry, clock=org.clock)
        self._access: "weakref.WeakKeyDictionary[Any, TransactionAccess]" = weakref.WeakKeyDictionary()

    def access(self, ctx) -> TransactionAccess:
        acc = self._access.get(ctx)
        if acc is None:
            acc = self._access[ctx] = TransactionAccess(ctx)
        return acc

    def before_save(self, ctx, sobject: SObject, event: str, new_records: list, old_records: list) -> None:
        if event == "insert":
            fill_auto_numbers(ctx.conn, sobject, new_records)
        old = old_records if event != "insert" else None
        self.runtime.before_save(self.access(ctx), sobject.name, _EVENTS[event], new_records, old)

    def after_save(self, ctx, sobject: SObject, event: str, new_records: list, old_records: list) -> None:
        old = old_records if event != "insert" else None
        self.runtime.after_save(self.access(ctx), sobject.name, _EVENTS[event], new_records, old)


    def waiting_paths(self) -> list[dict]:
        """Scheduled paths not yet run (and failed ones, with their error), due first."""
        with self.org.lock:
            return [p.to_json() for p in pending.waiting(self.org.conn)]

    def clear_paths(self) -> None:
        with self.org.lock, store.transaction(self.org.conn):
            pending.clear(self.org.conn)

    def note_schedules(self, conn) -> None:
        """A schedule-triggered flow counts its runs from when it is first active (no runs for the past)."""
        for d in self.registry:
            f = d.active
            if f is not None and f.is_schedule_triggered and store.get_meta(conn, SCHEDULE_META + f.name) is None:
                store.set_meta(conn, SCHEDULE_META + f.name, format_datetime_seconds(self.org.clock()))

    def _run_schedules(self) -> int:
        """Run every occurrence of active schedule-triggered flows the clock has passed, 200 records a batch,
        each batch its own transaction as the org's admin."""
        ran = 0
        now = self.org.clock()
        for d in self.registry:
            f = d.active
            if f is None or not f.is_schedule_triggered:
                continue
            key = SCHEDULE_META + f.name
            raw = store.get_meta(self.org.conn, key)
            if raw is None:
                continue
            last = parse_datetime(raw)
            for _ in range(400):  # a clock moved far ahead runs every occurrence in between, up to a bound
                nxt = scheduled.next_run(f.start.schedule, last)
                if nxt is None or nxt > now:
                    break
                try:
                    with self.org.transaction() as ctx:
                        access = self.access(ctx)
                        rows = self.runtime.schedule_entrants(access, f) if f.start.object else None
                    for start in range(0, len(rows), 200) if rows is not None else [0]:
                        with self.org.transaction() as ctx:
                            part = rows[start:start + 200] if rows is not None else None
                            self.runtime.run_schedule(self.access(ctx), f, part)
                except (FlowTriggerError, SalesforceError) as exc:
                    log.warning("scheduled flow %s failed at %s: %s", f.name, nxt, getattr(exc, "message", exc))
                last = nxt
                ran += 1
                with store.transaction(self.org.conn):
                    store.set_meta(self.org.conn, key, format_datetime_seconds(last))
        return ran

    def run_due(self) -> int:
        """Run the scheduled paths whose time the org's clock has passed, each batch (a path's maxBatchSize
        of records, in due order) its own transaction as the org's admin; a failed batch stays, marked
        failed with its error. Returns how many paths ran or failed."""
        with self.org.lock:
            schedules = self._run_schedules()
            due = pending.due(self.org.conn, format_datetime_seconds(self.org.clock()))
            batches: dict[tuple, list] = {}
            for job in due:
                batches.setdefault((job.flow.lower(), job.version, job.path), []).append(job)
            for (_, version, path_name), jobs in batches.items():
                definition = self.registry.definition(jobs[0].flow)
                flow = definition.versions[version - 1] if definition and 0 < version <= len(definition.versions) \
                    else None
                path = next((p for p in flow.start.scheduled_paths if p.name == path_name), None) if flow else None
                if path is None:
                    with store.transaction(self.org.conn):
                        pending.fail(self.org.conn, [j.n for j in jobs], "the flow version is no longer deployed")
                    continue
                for start in range(0, len(jobs), path.max_batch_size):
                    part = jobs[start:start + path.max_batch_size]
                    try:
                        with self.org.transaction() as ctx:
                            self.runtime.run_scheduled(self.access(ctx), flow, path_name,
                                                       [(j.record_id, j.event, j.prior) for j in part])
                            pending.remove(ctx.conn, [j.n for j in part])
                    except (FlowTriggerError, SalesforceError) as exc:
                        with store.transaction(self.org.conn):
                            pending.fail(self.org.conn, [j.n for j in part], str(getattr(exc, "message", exc)))
            return len(due) + schedules


def install(org: Org, registry: FlowRegistry) -> OrgFlows:
    """Register the flow runtime's hooks on `org` as `org.flows` (once; a second call returns the first install)."""
    if org.flows is not None:
        org.flows.registry = registry
        org.flows.runtime.registry = registry
        return org.flows
    hooks = OrgFlows(org, registry)
    org.before_save_triggers.append(hooks.before_save)
    org.triggers.append(hooks.after_save)
    org.flows = hooks
    return hooks


def fill_auto_numbers(conn, sobject: SObject, new_records: list[dict]) -> None:
    """Give auto-number fields (deployed with a displayFormat like `BA-{00000000}`) their next value."""
    for f in sobject.fields.values():
        if not f.auto_number:
            continue
        key = f"{AUTONUMBER_META}{sobject.name}.{f.name}"
        raw = store.get_meta(conn, key)
        if not raw:
            continue
        state = json.loads(raw)
        for rec in new_records:
            if rec.get(f.name):
                continue
            rec[f.name] = format_auto_number(state["format"], state["next"])
            state["next"] += 1
        store.set_meta(conn, key, json.dumps(state))


def format_auto_number(display_format: str, number: int) -> str:
    """`BA-{00000000}` + 42 -> `BA-00000042` (the zeros give the minimum width)."""
    def repl(m):
        return str(number).zfill(len(m.group(1)))

    return re.sub(r"\{(0+)\}", repl, display_format, count=1)


def _literal(v: Any):
    if v is None:
        return nodes.Literal("null", None)
    if isinstance(v, bool):
        return nodes.Literal("boolean", v)
    if isinstance(v, int):
        return nodes.Literal("int", v)
    if isinstance(v, float):
        return nodes.Literal("decimal", v)
    if isinstance(v, dt.datetime):
        return nodes.DateValue("datetime", v.astimezone(dt.timezone.utc))
    if isinstance(v, dt.date):
        return nodes.DateValue("date", v)
    if isinstance(v, LikePattern):
        escaped = v.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        wild = ("%" if v.before else "", "%" if v.after else "")
        return nodes.Literal("string", wild[0] + v.text + wild[1], like_pattern=wild[0] + escaped + wild[1])
    return nodes.Literal("string", str(v))


def _condition(node: tuple):
    kind = node[0]
    if kind == "cond":
        _, fld, op, value = node
        ref = nodes.FieldRef((fld,))
        if op in ("IN", "NOT IN"):
            return nodes.InList(ref, tuple(_literal(x) for x in value), negated=op == "NOT IN")
        return nodes.Comparison(ref, op, _literal(value))
    if kind == "not":
        return nodes.Not(_condition(node[1]))
    items = tuple(_condition(n) for n in node[1])
    return nodes.And(items) if kind == "and" else nodes.Or(items)


def soql_tree(q: Query) -> nodes.Query:
    """`q` as the SOQL engine's syntax tree (the same query `q.to_soql()` spells out)."""
    return nodes.Query(
        select=tuple(nodes.SelectField(nodes.FieldRef((f,))) for f in q.fields), sobject=q.sobject,
        where=_condition(q.where) if q.where is not None else None,
        order_by=(nodes.OrderItem(nodes.FieldRef((q.order_by[0],)), descending=q.order_by[1] == "DESC"),)
        if q.order_by else (),
        limit=q.limit)
