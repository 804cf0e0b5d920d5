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

from .. import records, store
from ..errors import SalesforceError
from ..flows import FlowDefinitionError, FlowRegistry, parse_flow, validate_flow
from ..flows.registry import FlowDefinition
from ..flows.adapter import AUTONUMBER_META, OrgFlows, install
from ..schema import SObject
from .components import (ComponentError, ComponentResult, FieldChange, ObjectChange, check_field_targets,
                         check_layout, check_permission_set, flow_definition, object_from_xml, plan_field,
                         plan_object)
from .package import Package, PackageError, parse_xml, read_package

FLOWS_META = "metadata:flows"
log = logging.getLogger("slotforce.localorg")

# folder -> (metadata type, file suffix)
FOLDERS = {
    "objects": ("CustomObject", ".object"),
    "flows": ("Flow", ".flow"),
    "flowDefinitions": ("FlowDefinition", ".flowDefinition"),
    "permissionsets": ("PermissionSet", ".permissionset"),
    "layouts": ("Layout", ".layout"),
    "profiles": ("Profile", ".profile"),
}
SUPPORTED_TYPES = {"CustomObject", "CustomField", "Flow", "FlowDefinition", "PermissionSet", "Layout", "Profile"}


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

    # ----- planning ---------------------------------------------------------------------------
    def _deploy(self, zip_bytes: bytes, options: dict, result: DeployResult) -> None:
        pkg = read_package(zip_bytes)
        schema = copy.deepcopy(self.org.schema)
        before = copy.deepcopy(self.org.schema)
        out = result.components
        objects: list[ObjectChange] = []
        fields: list[tuple[FieldChange, ComponentResult, int]] = []
        flows = []
        flow_defs: list[tuple[str, int, ComponentResult]] = []
        permsets: list[dict] = []
        found: set[tuple[str, str]] = set()

        def fail(res: ComponentResult, exc) -> None:
            res.success = False
            res.problem = exc.problem if isinstance(exc, ComponentError) else exc.message
            res.line = getattr(exc, "line", 0) or 0
            res.column = getattr(exc, "column", 0) or 0

        files = sorted(pkg.files.items())
        by_type: dict[str, list[tuple[str, str, bytes]]] = {}
        for path, content in files:
            folder, _, fname = path.partition("/")
            if not fname:
                problem = ("destructive changes are not supported by the local org" if folder.startswith(
                    "destructiveChanges") else f"unexpected file {path} at the root of the zip")
                out.append(ComponentResult("", path, path, success=False, problem=problem))
                continue
            if folder not in FOLDERS or "/" in fname:
                out.append(ComponentResult("", path, path, success=False,
                                           problem=f"the local org does not support metadata in {folder}/ "
                                                   f"(supported: {', '.join(sorted(FOLDERS))})"))
                continue
            mtype, suffix = FOLDERS[folder]
            if not fname.endswith(suffix):
                out.append(ComponentResult(mtype, fname, path, success=False,
                                           problem=f"expected a {suffix} file in {folder}/"))
                continue
            name = fname[: -len(suffix)]
            by_type.setdefault(mtype, []).append((name, path, content))

        # objects and their fields
        for name, path, content in by_type.get("CustomObject", []):
            object_named = pkg.named("CustomObject", name)
            res = ComponentResult("CustomObject", name, path)
            try:
                root = parse_xml(content, path)
                obj_change, field_items = object_from_xml(name, root, schema)
            except (PackageError, ComponentError) as exc:
                fail(res, exc)
                out.append(res)
                continue
            if obj_change is not None and object_named:
                found.add(("CustomObject", name))
                res.created = before.get(name) is None
                res.changed = True
                plan_object(schema, obj_change)
                objects.append(obj_change)
                out.append(res)
            elif object_named:
                found.add(("CustomObject", name))
            for change, full, error, line in field_items:
                if not (object_named or pkg.named("CustomField", full)):
                    continue
                found.add(("CustomField", full))
                fres = ComponentResult("CustomField", full, path, line=0)
                if error is not None:
                    fail(fres, error)
                    out.append(fres)
                    continue
                existing = before.get("Event" if name == "Activity" else name)
                fres.created = existing is None or existing.field(change.field.name) is None
                fres.changed = True
                if schema.get("Event" if name == "Activity" else name) is None:
                    fail(fres, ComponentError(f"{name} is not an object in this org or this deployment", line))
                    out.append(fres)
                    continue
                plan_field(schema, change)
                fields.append((change, fres, line))
                out.append(fres)
        for change, fres, line in fields:
            try:
                check_field_targets(change, schema, line)
            except ComponentError as exc:
                fail(fres, exc)

        # flows: parse all first so subflows can refer to each other
        parsed = []
        for name, path, content in by_type.get("Flow", []):
            if not pkg.named("Flow", name):
                continue
            found.add(("Flow", name))
            res = ComponentResult("Flow", name, path)
            try:
                parsed.append((parse_flow(content, name, path), res))
            except FlowDefinitionError as exc:
                fail(res, exc)
            out.append(res)
        known = {d.name.lower(): d.latest for d in self.registry if d.latest is not None}
        known.update({f.name.lower(): f for f, _ in parsed})
        for f, res in parsed:
            try:
                validate_flow(f, schema, known)
            except FlowDefinitionError as exc:
                fail(res, exc)
                continue
            d = self.registry.definition(f.name)
            res.created = d is None
            res.changed = d is None or d.latest is None or d.latest.source != f.source or d.latest.status != f.status
            flows.append(f)

        for name, path, content in by_type.get("FlowDefinition", []):
            if not pkg.named("FlowDefinition", name):
                continue
            found.add(("FlowDefinition", name))
            res = ComponentResult("FlowDefinition", name, path, changed=True)
            out.append(res)
            try:
                number = flow_definition(parse_xml(content, path))
                d = self.registry.definition(name)
                versions = (len(d.versions) if d else 0) + (1 if name.lower() in {f.name.lower() for f in flows} else 0)
                if d is None and not any(f.name.lower() == name.lower() for f, _ in parsed):
                    raise ComponentError(f"there is no flow {name} in this org or this deployment")
                if number > versions:
                    raise ComponentError(f"flow {name} has {versions} version(s); activeVersionNumber {number} "
                                         "does not exist")
                flow_defs.append((name, number, res))
            except (PackageError, ComponentError) as exc:
                fail(res, exc)

        for name, path, content in by_type.get("PermissionSet", []):
            if not pkg.named("PermissionSet", name):
                continue
            found.add(("PermissionSet", name))
            res = ComponentResult("PermissionSet", name, path, changed=True)
            out.append(res)
            try:
                permsets.append(check_permission_set(name, parse_xml(content, path), schema))
            except (PackageError, ComponentError) as exc:
                fail(res, exc)

        for name, path, content in by_type.get("Layout", []):
            if not pkg.named("Layout", name):
                continue
            found.add(("Layout", name))
            res = ComponentResult("Layout", name, path, changed=True)
            out.append(res)
            try:
                check_layout(name, parse_xml(content, path), schema)
            except (PackageError, ComponentError) as exc:
                fail(res, exc)

        for name, path, _ in by_type.get("Profile", []):
            if pkg.named("Profile", name):
                found.add(("Profile", name))
                out.append(ComponentResult("Profile", name, path, changed=False))

        self._check_manifest(pkg, found, out, bool(options.get("allowMissingFiles")))
        for c in out:  # results name files as they are in the zip, package folder included
            c.file_name = pkg.root + c.file_name
        if any(not c.success for c in out) or result.check_only:
            return
        self._apply(objects, [c for c, _, _ in fields], flows, flow_defs, permsets)

    @staticmethod
    def _check_manifest(pkg: Package, found: set, out: list, allow_missing: bool) -> None:
        for mtype, members in pkg.members.items():
            if mtype not in SUPPORTED_TYPES:
                if members:
                    out.append(ComponentResult(mtype, members[0], "package.xml", success=False,
                                               problem=f"the local org does not support metadata type {mtype}"))
                continue
            for m in members:
                if m == "*" or (mtype, m) in found or allow_missing:
                    continue
                out.append(ComponentResult(mtype, m, "package.xml", success=False,
                                           problem=f"An object '{m}' of type {mtype} was named in package.xml, "
                                                   "but was not found in zipped directory"))

    # ----- applying ---------------------------------------------------------------------------
    def _apply(self, objects: list[ObjectChange], fields: list[FieldChange], flows, flow_defs, permsets) -> None:
        org = self.org
        snap = self.registry.snapshot()
        schema = copy.deepcopy(org.schema)  # the SQLite side rolls back by itself; the schema object does not
        try:
            with org.transaction() as ctx:
                for oc in objects:
                    s = SObject(oc.name, oc.label, oc.label_plural, "", custom=True)
                    s.add_field(copy.deepcopy(oc.name_field))
                    org.add_custom_object(s)
                    if oc.display_format:
                        _set_auto_number(ctx.conn, oc.name, "Name", oc.display_format)
                for fc in fields:
                    org.add_field(fc.sobject, fc.field, child_relationship_name=fc.child_relationship_name)
                    if fc.display_format:
                        for target in (["Event", "Task"] if fc.sobject == "Activity" else [fc.sobject]):
                            _set_auto_number(ctx.conn, target, fc.field.name, fc.display_format)
                for f in flows:
                    self.registry.deploy(f)
                for name, number, _ in flow_defs:
                    self.registry.set_active_version(name, number)
                save_flows(ctx.conn, self.registry)
                for values in permsets:
                    _upsert_permission_set(ctx, values)
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


def _upsert_permission_set(ctx, values: dict) -> None:
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


def attach(org) -> MetadataService:
    """The org's MetadataService (created on first use): loads deployed flows and registers the
    flow runtime's save hooks. Call once when the org starts so flows run before any new deploy."""
    from . import rest  # noqa: F401  registers /metadata/deployRequest with the REST dispatcher

    service = getattr(org, "_slotforce_metadata", None)
    if service is None:
        service = MetadataService(org)
        org._slotforce_metadata = service
    return service
