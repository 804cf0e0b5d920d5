"""Metadata deploys against the org: all or nothing, checkOnly, results per component.

A deploy first plans every component on a copy of the schema (objects, then fields, then flows,
flow definitions, permission sets, layouts), collecting componentFailures; only when nothing failed
(and not checkOnly) does it change the org, in one transaction. Deployed schema lives in the org's
SQLite file (models.Org persists it); deployed flows and auto-number formats live in its meta table.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import access, records, store
from ..errors import SalesforceError
from ..flows import FlowRegistry, parse_flow
from ..flows.registry import FlowDefinition
from ..flows.adapter import AUTONUMBER_META, EMAIL_TEMPLATES_META, OrgFlows, install
from ..schema import SObject
from .. import formula_fields
from .components import ComponentResult, FieldChange, ObjectChange
from .package import PackageError, read_package
from .plan import DeployPlan

if TYPE_CHECKING:
    from ..models import Org

FLOWS_META = "metadata:flows"
TEMPLATES_META = EMAIL_TEMPLATES_META  # {"folder/Name": {"subject", "body", "type"}}
# The Boolean fields of DeployOptions (Metadata API); both faces (SOAP, REST) read them as true/false.
BOOLEAN_DEPLOY_OPTIONS = ("allowMissingFiles", "autoUpdatePackage", "checkOnly", "ignoreWarnings", "performRetrieve",
                          "purgeOnDelete", "rollbackOnError", "runAllTests", "singlePackage")
log = logging.getLogger("slotforce.localorg")

@dataclass
class DeployResult:
    id: str
    check_only: bool
    created_date: str
    status: str = "InProgress"
    done: bool = False
    completed_date: str | None = None
    components: list[ComponentResult] = field(default_factory=list)
    error_message: str | None = None
    ignore_warnings: bool = False
    rollback_on_error: bool = True

    @property
    def failures(self) -> list[ComponentResult]:
        return [c for c in self.components if not c.success]

    @property
    def successes(self) -> list[ComponentResult]:
        return [c for c in self.components if c.success]

    @property
    def success(self) -> bool:
        return self.status == "Succeeded"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class MetadataService:
    """The org's Metadata API: deploy / checkDeployStatus / cancelDeploy, and the deployed flows."""

    def __init__(self, org) -> None:
        self.org = org
        self.registry = load_flows(org)
        self.flows: OrgFlows = install(org, self.registry)
        self._results: dict[str, DeployResult] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # ----- API ------------------------------------------------------------------------------
    def deploy(self, zip_bytes: bytes, options: dict | None = None) -> DeployResult:
        options = options or {}
        with self._lock:
            deploy_id = store.make_id("0Af", next(self._ids))
        result = DeployResult(deploy_id, bool(options.get("checkOnly")), _now(),
                              ignore_warnings=bool(options.get("ignoreWarnings")),
                              rollback_on_error=options.get("rollbackOnError", True) is not False)
        self._results[deploy_id] = result
        try:
            with self.org.lock:
                self._deploy(zip_bytes, options, result)
        except PackageError as exc:
            result.components = [ComponentResult("", "package.xml", exc.file_name or "package.xml", success=False,
                                                 problem=exc.message, line=exc.line, column=exc.column)]
        except SalesforceError as exc:  # applying failed after planning succeeded: nothing was kept
            result.error_message = f"{exc.error_code}: {exc.message}"
        except Exception as exc:  # a bug must still answer a failed deploy, and say where to look
            log.exception("local org: deploy %s failed while applying", deploy_id)
            result.error_message = f"UNKNOWN_EXCEPTION: the local org failed to apply the deploy ({exc}); see its log"
        result.done = True
        result.completed_date = _now()
        if result.status == "InProgress":
            result.status = "Failed" if (result.failures or result.error_message) else "Succeeded"
        return result

    def result(self, deploy_id: str) -> DeployResult | None:
        found = self._results.get(deploy_id)
        if found is None and len(deploy_id) == 15:  # a 15-character id names the same deploy
            found = next((r for k, r in self._results.items() if k[:15] == deploy_id), None)
        return found

    def cancel(self, deploy_id: str) -> DeployResult | None:
        """Deploys finish before `deploy` returns, so there is never anything left to cancel."""
        return self.result(deploy_id)

    # ----- planning, then applying ------------------------------------------------------------
    def _deploy(self, zip_bytes: bytes, options: dict, result: DeployResult) -> None:
        plan = DeployPlan(read_package(zip_bytes), self.org.schema, self.registry, result.components,
                          allow_missing=bool(options.get("allowMissingFiles")))
        plan.templates = load_templates(self.org.conn)
        plan.run()
        if any(not c.success for c in result.components) or result.check_only:
            return
        self._apply(plan.objects, [c for c, _, _ in plan.fields], plan.flows, plan.flow_defs, plan.permsets,
                    plan.profiles, plan.actions, plan.new_templates)

    # ----- applying ---------------------------------------------------------------------------
    def _apply(self, objects: list[ObjectChange], fields: list[FieldChange], flows, flow_defs, permsets,
               profiles=(), actions=(), templates: dict | None = None) -> None:
        org = self.org
        snap = self.registry.snapshot()
        schema = copy.deepcopy(org.schema)  # the SQLite side rolls back by itself; the schema object does not
        try:
            with org.transaction() as ctx:
                for oc in objects:
                    s = SObject(oc.name, oc.label, oc.label_plural, "", custom=True, custom_setting=oc.custom_setting,
                                platform_event=oc.platform_event, queryable=oc.platform_event is None,
                                createable=oc.platform_event is None)
                    s.add_field(copy.deepcopy(oc.name_field))
                    org.add_custom_object(s)
                    if oc.display_format:
                        _set_auto_number(ctx.conn, oc.name, "Name", oc.display_format)
                for fc in fields:
                    for part in fc.parts:  # a Location's components come before it, as describe lists them
                        org.add_field(fc.sobject, part)
                    org.add_field(fc.sobject, fc.field, child_relationship_name=fc.child_relationship_name)
                    if fc.display_format:
                        for target in (["Event", "Task"] if fc.sobject == "Activity" else [fc.sobject]):
                            _set_auto_number(ctx.conn, target, fc.field.name, fc.display_format)
                for name in dict.fromkeys(fc.sobject for fc in fields if fc.field.formula):
                    for target in (["Event", "Task"] if name == "Activity" else [name]):
                        formula_fields.recompute_all(ctx.conn, org.sobject(target), org.clock())
                if templates:
                    store.set_meta(ctx.conn, TEMPLATES_META, json.dumps({**load_templates(ctx.conn), **templates}))
                for obj_name, kind, action, definition in actions:  # quick actions, email alerts
                    obj = org.sobject(obj_name)
                    getattr(obj, kind)[action] = definition
                    store.save_sobject(ctx.conn, obj)
                for f in flows:
                    self.registry.deploy(f)
                for name, number, _ in flow_defs:
                    self.registry.set_active_version(name, number)
                save_flows(ctx.conn, self.registry)
                self.flows.note_schedules(ctx.conn)
                for values, res in permsets:
                    res.created = _upsert_permission_set(ctx, values)
                for name, grants in profiles:
                    access.save_profile_grants(ctx.conn, name, grants)
        except BaseException:
            self.registry.restore(snap)
            org.schema = schema
            raise


def _set_auto_number(conn, sobject: str, field_name: str, display_format: str) -> None:
    key = f"{AUTONUMBER_META}{sobject}.{field_name}"
    raw = store.get_meta(conn, key)
    state = json.loads(raw) if raw else {"next": 1}
    state["format"] = display_format
    store.set_meta(conn, key, json.dumps(state))


def _upsert_permission_set(ctx, values: dict) -> bool:
    """Insert or update the PermissionSet record and keep its read grants; True when it was created (a first deploy)."""
    values = dict(values)
    access.save_grants(ctx.conn, values["Name"], values.pop("_grants", {"objects": [], "fields": []}))
    name = values["Name"].replace("\\", "\\\\").replace("'", "\\'")
    found = ctx.org.execute_query(f"SELECT Id FROM PermissionSet WHERE Name = '{name}'").records
    sobject = ctx.org.sobject("PermissionSet")
    if found:
        results = records.save(ctx, "update", sobject, [{"Id": found[0]["Id"], **values}], all_or_none=True)
    else:
        results = records.save(ctx, "insert", sobject, [values], all_or_none=True)
    for r in results:
        if not r.success:
            raise r.errors[0]
    return not found


def load_templates(conn) -> dict[str, dict]:
    raw = store.get_meta(conn, TEMPLATES_META)
    return json.loads(raw) if raw else {}


def save_flows(conn, registry: FlowRegistry) -> None:
    data = {d.name: {"active": d.active_version,
                     "versions": [{"file_name": f.file_name, "source": f.source.decode("utf-8")} for f in d.versions]}
            for d in registry}
    store.set_meta(conn, FLOWS_META, json.dumps(data))


def load_flows(org) -> FlowRegistry:
    """The flows deployed to this org before (from its SQLite meta table)."""
    registry = FlowRegistry()
    raw = store.get_meta(org.conn, FLOWS_META)
    for name, entry in (json.loads(raw) if raw else {}).items():
        versions = [parse_flow(v["source"].encode("utf-8"), name, v.get("file_name", "")) for v in entry["versions"]]
        registry.add(FlowDefinition(name, versions, entry.get("active")))
    return registry


def attach(org: Org) -> MetadataService:
    """The org's MetadataService, `org.metadata` (created on first use): loads deployed flows and registers the
    flow runtime's save hooks. Call once when the org starts so flows run before any new deploy."""
    if org.metadata is None:
        org.metadata = MetadataService(org)
    return org.metadata
