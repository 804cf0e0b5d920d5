"""Planning a deploy: every component checked against a copy of the schema, results collected,
nothing changed. Order matters: objects, then fields (which may point at new objects), flows (which
use both), flow definitions, permission sets and layouts."""

from __future__ import annotations

import copy
import re

from .. import access
from ..flows import FlowDefinitionError, FlowRegistry, parse_flow, validate_flow
from ..mdxml import named, text
from ..schema import Schema
from .. import formula_fields
from .components import (ComponentError, ComponentResult, FieldChange, ObjectChange, check_field_targets,
                         check_quick_action, check_workflow, email_template,
                         check_layout, check_permission_set, flow_definition, object_from_xml, plan_field,
                         plan_object)
from .package import Package, PackageError, parse_xml

# folder -> (metadata type, file suffix)
FOLDERS = {
    "objects": ("CustomObject", ".object"),
    "flows": ("Flow", ".flow"),
    "flowDefinitions": ("FlowDefinition", ".flowDefinition"),
    "permissionsets": ("PermissionSet", ".permissionset"),
    "layouts": ("Layout", ".layout"),
    "profiles": ("Profile", ".profile"),
    "quickActions": ("QuickAction", ".quickAction"),
    "workflows": ("Workflow", ".workflow"),
    "email": ("EmailTemplate", ".email"),  # email/<folder>/<Name>.email with its .email-meta.xml
}
SUPPORTED_TYPES = {"CustomObject", "CustomField", "Flow", "FlowDefinition", "PermissionSet", "Layout", "Profile",
                   "QuickAction", "Workflow", "WorkflowAlert", "EmailTemplate", "EmailFolder"}


def _fail(res: ComponentResult, exc) -> None:
    res.success = False
    res.problem = exc.problem if isinstance(exc, ComponentError) else exc.message
    res.line = getattr(exc, "line", 0) or 0
    res.column = getattr(exc, "column", 0) or 0


class DeployPlan:
    """What a deploy would do; `out` collects one ComponentResult per component (and per problem)."""

    def __init__(self, pkg: Package, schema: Schema, registry: FlowRegistry, out: list[ComponentResult], *,
                 allow_missing: bool = False) -> None:
        self.pkg = pkg
        self.before = schema
        self.schema = copy.deepcopy(schema)  # the org as it will be: later components are checked against it
        self.registry = registry
        self.out = out
        self.allow_missing = allow_missing
        self.objects: list[ObjectChange] = []
        self.fields: list[tuple[FieldChange, ComponentResult, int]] = []
        self.parsed: list = []
        self.flows: list = []
        self.flow_defs: list[tuple[str, int, ComponentResult]] = []
        self.permsets: list[tuple[dict, ComponentResult]] = []  # values, and the result to mark Created
        self.profiles: list[tuple[str, dict]] = []  # profile metadata name, its read grants
        # (object, "quick_actions" | "email_alerts", action name, definition) to keep on the object
        self.actions: list[tuple[str, str, str, dict]] = []
        self.templates: dict[str, dict] = {}  # email templates deployed before (set by the caller) and now
        self.new_templates: dict[str, dict] = {}
        self.found: set[tuple[str, str]] = set()
        self.by_type: dict[str, list[tuple[str, str, bytes]]] = {}

    def run(self) -> None:
        self.sort_files()
        self.plan_objects()
        self.plan_checked("QuickAction", self._quick_action)  # before flows: their action calls name them
        self.plan_templates()
        self.plan_workflows()
        self.plan_flows()
        self.plan_flow_definitions()
        self.plan_checked("PermissionSet", lambda name, root, res: self.permsets.append(
            (check_permission_set(name, root, self.schema), res)))
        self.plan_checked("Layout", lambda name, root, res: check_layout(name, root, self.schema))
        for name, path, content in self.by_type.get("Profile", []):
            if self.named("Profile", name):
                self.out.append(ComponentResult("Profile", name, path, changed=False))
                try:  # only the read grants are kept (access.py); the rest of a profile is not modelled
                    self.profiles.append((name, access.grants_from_xml(parse_xml(content, path), text, named)))
                except PackageError:
                    pass
        self.check_manifest()
        for c in self.out:  # results name files as they are in the zip, package folder included
            c.file_name = self.pkg.root + c.file_name

    def _quick_action(self, name: str, root, res: ComponentResult) -> None:
        obj, action, definition = check_quick_action(name, root, self.schema)
        self.schema.get(obj).quick_actions[action] = definition
        self.actions.append((obj, "quick_actions", action, definition))

    def named(self, mtype: str, name: str) -> bool:
        if self.pkg.named(mtype, name):
            self.found.add((mtype, name))
            return True
        return False

    def sort_files(self) -> None:
        for path, content in sorted(self.pkg.files.items()):
            folder, _, fname = path.partition("/")
            if not fname:
                problem = ("destructive changes are not supported by the local org" if folder.startswith(
                    "destructiveChanges") else f"unexpected file {path} at the root of the zip")
                self.out.append(ComponentResult("", path, path, success=False, problem=problem))
                continue
            if folder == "email":
                self._email_file(path, fname, content)
                continue
            if folder not in FOLDERS or "/" in fname:
                self.out.append(ComponentResult("", path, path, success=False,
                                                problem=f"the local org does not support metadata in {folder}/ "
                                                        f"(supported: {', '.join(sorted(FOLDERS))})"))
                continue
            mtype, suffix = FOLDERS[folder]
            if not fname.endswith(suffix):
                self.out.append(ComponentResult(mtype, fname, path, success=False,
                                                problem=f"expected a {suffix} file in {folder}/"))
                continue
            self.by_type.setdefault(mtype, []).append((fname[: -len(suffix)], path, content))

    def _email_file(self, path: str, fname: str, content: bytes) -> None:
        """email/<folder>-meta.xml (an EmailFolder: accepted), email/<folder>/<Name>.email and its -meta.xml."""
        if "/" not in fname and fname.endswith("-meta.xml"):
            if self.named("EmailFolder", fname[: -len("-meta.xml")]):
                self.out.append(ComponentResult("EmailFolder", fname[: -len("-meta.xml")], path, changed=False))
            return
        if fname.endswith(".email-meta.xml"):
            return  # read with its .email file
        if fname.count("/") != 1 or not fname.endswith(".email"):
            self.out.append(ComponentResult("EmailTemplate", fname, path, success=False,
                                            problem="expected email/<folder>/<Name>.email with its .email-meta.xml"))
            return
        self.by_type.setdefault("EmailTemplate", []).append((fname[: -len(".email")], path, content))

    def plan_templates(self) -> None:
        for name, path, content in self.by_type.get("EmailTemplate", []):
            if not self.named("EmailTemplate", name):
                continue
            res = ComponentResult("EmailTemplate", name, path, changed=True)
            self.out.append(res)
            meta_path = path + "-meta.xml"
            meta = self.pkg.files.get(meta_path)
            try:
                if meta is None:
                    raise ComponentError(f"{name}: the template has no {meta_path.rsplit('/', 1)[-1]}")
                template = email_template(name, parse_xml(meta, meta_path), content)
            except (PackageError, ComponentError) as exc:
                _fail(res, exc)
                continue
            res.created = name not in self.templates
            self.templates[name] = template
            self.new_templates[name] = template

    def plan_workflows(self) -> None:
        for name, path, content in self.by_type.get("Workflow", []):
            whole = self.named("Workflow", name)
            res = ComponentResult("Workflow", name, path, changed=True)
            try:
                alerts = check_workflow(name, parse_xml(content, path), self.schema, self.templates)
            except (PackageError, ComponentError) as exc:
                if whole or any(m.startswith(name + ".") for m in self.pkg.members.get("WorkflowAlert", [])):
                    _fail(res, exc)
                    self.out.append(res)
                continue
            if whole:
                self.out.append(res)
            for alert, definition, _line in alerts:
                if whole or self.named("WorkflowAlert", f"{name}.{alert}"):
                    self.found.add(("WorkflowAlert", f"{name}.{alert}"))
                    obj = self.schema.get(name).name
                    self.schema.get(obj).email_alerts[alert] = definition
                    self.actions.append((obj, "email_alerts", alert, definition))
                    self.out.append(ComponentResult("WorkflowAlert", f"{name}.{alert}", path, changed=True))

    def plan_objects(self) -> None:
        for name, path, content in self.by_type.get("CustomObject", []):
            object_named = self.named("CustomObject", name)
            res = ComponentResult("CustomObject", name, path)
            try:
                obj_change, field_items = object_from_xml(name, parse_xml(content, path), self.schema)
            except (PackageError, ComponentError) as exc:
                _fail(res, exc)
                self.out.append(res)
                continue
            if obj_change is not None and object_named:
                res.created = self.before.get(name) is None
                res.changed = True
                plan_object(self.schema, obj_change)
                self.objects.append(obj_change)
                self.out.append(res)
            target = "Event" if name == "Activity" else name
            for change, full, error, line in field_items:
                if not (object_named or self.named("CustomField", full)):
                    continue
                self.found.add(("CustomField", full))
                fres = ComponentResult("CustomField", full, path)
                self.out.append(fres)
                if error is None and self.schema.get(target) is None:
                    error = ComponentError(f"{name} is not an object in this org or this deployment", line)
                if error is not None:
                    _fail(fres, error)
                    continue
                existing = self.before.get(target)
                fres.created = existing is None or existing.field(change.field.name) is None
                fres.changed = True
                plan_field(self.schema, change)
                self.fields.append((change, fres, line))
        for change, fres, line in self.fields:  # lookups may point at objects later in the zip
            try:
                check_field_targets(change, self.schema, line)
                if change.field.formula:  # formulas may read fields later in the zip
                    formula_fields.check(self.schema.get("Event" if change.sobject == "Activity" else change.sobject),
                                         change.field)
            except ComponentError as exc:
                _fail(fres, exc)
            except formula_fields.FormulaFieldError as exc:
                _fail(fres, ComponentError(exc.message, change.formula_line or line))

    def plan_flows(self) -> None:
        for name, path, content in self.by_type.get("Flow", []):
            if not self.named("Flow", name):
                continue
            res = ComponentResult("Flow", name, path)
            self.out.append(res)
            versioned = re.fullmatch(r"(.+)-(\d+)", name)  # API < 44 style: X-2 is version 2 of flow X
            try:
                f = parse_flow(content, versioned.group(1) if versioned else name, path)
                if versioned:
                    f.version = int(versioned.group(2))
                self.parsed.append((f, res))
            except FlowDefinitionError as exc:
                _fail(res, exc)
        self._check_version_numbers()
        # subflows may call flows deployed before or in this same deployment
        known = {d.name.lower(): d.latest for d in self.registry if d.latest is not None}
        known.update({f.name.lower(): f for f, _ in self.parsed})
        for f, res in self.parsed:
            if not res.success:
                continue
            try:
                validate_flow(f, self.schema, known)
            except FlowDefinitionError as exc:
                _fail(res, exc)
                continue
            d = self.registry.definition(f.name)
            latest = d.latest if d else None
            res.created = d is None
            res.changed = latest is None or latest.source != f.source or latest.status != f.status
            self.flows.append(f)
        self.flows.sort(key=lambda f: (f.name.lower(), f.version or 0))  # X-2 after X-1, not after X-10

    def _version_count(self, name: str) -> int:
        """How many versions flow `name` will have after this deploy."""
        d = self.registry.definition(name)
        count = len(d.versions) if d else 0
        for f, _ in self.parsed:
            if f.name.lower() == name.lower():
                count = max(count, f.version) if f.version else count + 1
        return count

    def _check_version_numbers(self) -> None:
        numbered: dict[str, list] = {}
        for f, res in self.parsed:
            if f.version is not None:
                numbered.setdefault(f.name, []).append((f.version, res))
        for name, items in numbered.items():
            d = self.registry.definition(name)
            have = len(d.versions) if d else 0
            for number, res in sorted(items, key=lambda x: x[0]):
                if number > have + 1:
                    _fail(res, ComponentError(f"version {number} of flow {name} cannot be deployed before "
                                              f"version {have + 1}"))
                have = max(have, number)

    def plan_flow_definitions(self) -> None:
        deployed_now = {f.name.lower(): f for f, _ in self.parsed}
        for name, path, content in self.by_type.get("FlowDefinition", []):
            if not self.named("FlowDefinition", name):
                continue
            res = ComponentResult("FlowDefinition", name, path, changed=True)
            self.out.append(res)
            try:
                number = flow_definition(parse_xml(content, path))
                d = self.registry.definition(name)
                if d is None and name.lower() not in deployed_now:
                    raise ComponentError(f"there is no flow {name} in this org or this deployment")
                versions = self._version_count(name)
                if number > versions:
                    raise ComponentError(f"flow {name} has {versions} version(s); activeVersionNumber {number} "
                                         "does not exist")
                self.flow_defs.append((name, number, res))
            except (PackageError, ComponentError) as exc:
                _fail(res, exc)

    def plan_checked(self, mtype: str, check) -> None:
        """Components that only need checking here (applied, if at all, from what `check` collects)."""
        for name, path, content in self.by_type.get(mtype, []):
            if not self.named(mtype, name):
                continue
            res = ComponentResult(mtype, name, path, changed=True)
            self.out.append(res)
            try:
                check(name, parse_xml(content, path), res)
            except (PackageError, ComponentError) as exc:
                _fail(res, exc)

    def check_manifest(self) -> None:
        for mtype, members in self.pkg.members.items():
            if mtype not in SUPPORTED_TYPES:
                if members:
                    self.out.append(ComponentResult(mtype, members[0], "package.xml", success=False,
                                                    problem=f"the local org does not support metadata type {mtype}"))
                continue
            for m in members:
                if m == "*" or (mtype, m) in self.found or self.allow_missing:
                    continue
                self.out.append(ComponentResult(mtype, m, "package.xml", success=False,
                                                problem=f"An object '{m}' of type {mtype} was named in package.xml, "
                                                        "but was not found in zipped directory"))
