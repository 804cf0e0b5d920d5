"""Flow XML (MDAPI `.flow` / SFDX `.flow-meta.xml`) -> model.Flow, refusing what the runtime lacks.

Every tag the runtime does not understand is refused with its line, never skipped: a flow that runs
here runs the way it would in Salesforce, or it does not deploy. Purely visual or descriptive tags
(locationX, description, processMetadataValues, ...) are the only ones ignored.
"""

from __future__ import annotations

from lxml import etree

from ..mdxml import elements, first, local_name, named, text
from . import formula
from .model import (ActionCall, Assignment, CustomError, AssignmentItem, CollectionProcessor, Condition, Constant, Decision, Element,
                    FieldAssignment, Flow, Formula, Loop, RecordCreate, RecordDelete, RecordFilter, RecordLookup,
                    RecordUpdate, Rule, ScheduledPath, SortOption, Start, Subflow, TextTemplate, Value, Variable)


# Tags that never change what a flow does at runtime.
_COSMETIC = {"locationX", "locationY", "description", "label", "processMetadataValues",
             "elementSubtype", "isAdHocRetrievable"}
_FLOW_IGNORED = {"apiVersion", "description", "environments", "interviewLabel", "label",
                 "processMetadataValues", "runInMode", "areMetricsLoggedToDataCloud", "isTemplate",
                 "isAdditionalPermissionRequiredToRun", "migratedFromWorkflowRuleName", "sourceTemplate",
                 "isOverridable", "overriddenFlow", "fullName", "timeZoneSidKey"}
# Record-triggered flow in/out values Salesforce supports but this runtime does not.
_UNSUPPORTED_FLOW_PARTS = {
    "apexPluginCalls": "Apex plug-in calls",
    "screens": "screens", "waits": "wait elements", "steps": "steps", "stages": "stages",
    "orchestratedStages": "orchestrated stages", "transforms": "transform elements",
    "recordRollbacks": "Roll Back Records", "choices": "choices", "dynamicChoiceSets": "choice sets",
    "customProperties": "custom properties", "experiments": "experiments", "capabilityTypes": "capabilities",
}
RUNNABLE_PROCESS_TYPES = {"AutoLaunchedFlow"}


class FlowDefinitionError(Exception):
    """The flow file cannot be deployed: `message` says what, `line`/`column` where (1-based)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _bool(el, tag: str, default: bool = False) -> bool:
    t = text(el, tag)
    if t is None or t == "":
        return default
    return t.lower() == "true"


def _allow(el, allowed: set[str], what: str) -> None:
    for c in elements(el):
        tag = local_name(c)
        if tag not in allowed and tag not in _COSMETIC:
            raise FlowDefinitionError(
                f"{what}: <{tag}> is not supported by the local org's flow runtime", c.sourceline)


def _connector(el, tag: str) -> str | None:
    c = first(el, tag)
    if c is None:
        return None
    _allow(c, {"targetReference", "isGoTo"}, f"<{tag}>")
    return text(c, "targetReference")


def _value(el) -> Value | None:
    """FlowElementReferenceOrValue; None when the tag is absent."""
    if el is None:
        return None
    kids = elements(el)
    if not kids:
        return Value("null", None, el.sourceline)
    if len(kids) > 1:
        raise FlowDefinitionError("a value must hold exactly one of stringValue, numberValue, booleanValue, "
                                  "dateValue, dateTimeValue, elementReference", el.sourceline)
    c = kids[0]
    tag, raw = local_name(c), (c.text or "")
    line = c.sourceline
    if tag == "stringValue":
        return Value("string", raw if raw != "" else None, line)
    if tag == "numberValue":
        try:
            f = float(raw)
        except ValueError:
            raise FlowDefinitionError(f"numberValue {raw!r} is not a number", line) from None
        return Value("number", int(f) if f.is_integer() else f, line)
    if tag == "booleanValue":
        return Value("boolean", raw.strip().lower() == "true", line)
    if tag == "dateValue":
        return Value("date", raw.strip(), line)
    if tag == "dateTimeValue":
        return Value("dateTime", raw.strip(), line)
    if tag == "elementReference":
        return Value("reference", raw.strip(), line)
    raise FlowDefinitionError(f"value <{tag}> is not supported by the local org's flow runtime", line)


def _comparisons(el, tag: str, left: str, right: str, cls, what: str) -> list:
    """<filters> or <conditions>: `left operator right` each, as RecordFilter or Condition."""
    out = []
    for c in named(el, tag):
        _allow(c, {left, "operator", right}, what)
        out.append(cls(text(c, left) or "", text(c, "operator") or "", _value(first(c, right)), c.sourceline))
    return out


def _filters(el, what: str) -> list[RecordFilter]:
    return _comparisons(el, "filters", "field", "value", RecordFilter, f"{what} filter")


def _input_assignments(el, what: str) -> list[FieldAssignment]:
    out = []
    for a in named(el, "inputAssignments"):
        _allow(a, {"field", "value", "name"}, f"{what} input assignment")
        out.append(FieldAssignment(text(a, "field") or text(a, "name") or "", _value(first(a, "value")),
                                   line=a.sourceline))
    return out


def _output_assignments(el, what: str) -> list[FieldAssignment]:
    out = []
    for a in named(el, "outputAssignments"):
        _allow(a, {"field", "name", "assignToReference"}, f"{what} output assignment")
        out.append(FieldAssignment(text(a, "field") or text(a, "name") or "",
                                   assign_to=text(a, "assignToReference"), line=a.sourceline))
    return out


SERVED_ACTIONS = {"emailSimple", "emailAlert", "quickAction"}


def _refuse_action(el) -> None:
    """An action call is refused naming the action, so an admin knows which one to take out."""
    name = text(el, "name") or "(unnamed)"
    action = text(el, "actionType") or "unknown type"
    if text(el, "actionName") and text(el, "actionName") != action:
        action += f" {text(el, 'actionName')}"
    raise FlowDefinitionError(f"actionCalls {name} ({action}) is not supported by the local org's flow runtime "
                              f"(served: {', '.join(sorted(SERVED_ACTIONS))})", el.sourceline)


def _action_call(el, name: str, what: str, line: int) -> ActionCall:
    if text(el, "actionType") not in SERVED_ACTIONS:
        _refuse_action(el)
    _allow(el, {"name", "label", "connector", "faultConnector", "actionName", "actionType", "inputParameters",
                "outputParameters", "storeOutputAutomatically", "flowTransactionModel", "nameSegment",
                "versionSegment"}, what)
    model = text(el, "flowTransactionModel")
    if model not in (None, "", "CurrentTransaction", "Automatic"):
        raise FlowDefinitionError(f"{what}: flowTransactionModel {model} is not supported by the local org's flow "
                                  "runtime (actions run in the current transaction)", line)
    inputs, outputs = [], []
    for p in named(el, "inputParameters"):
        _allow(p, {"name", "value"}, f"{what} input parameter")
        inputs.append(FieldAssignment(text(p, "name") or "", _value(first(p, "value")), line=p.sourceline))
    for p in named(el, "outputParameters"):
        _allow(p, {"name", "assignToReference"}, f"{what} output parameter")
        outputs.append(FieldAssignment(text(p, "name") or "", assign_to=text(p, "assignToReference"),
                                       line=p.sourceline))
    return ActionCall(name, line, _connector(el, "connector"), _connector(el, "faultConnector"),
                      action_type=text(el, "actionType") or "", action_name=text(el, "actionName") or "",
                      inputs=inputs, outputs=outputs, store_automatically=_bool(el, "storeOutputAutomatically"))


def _name(el, what: str) -> str:
    name = text(el, "name")
    if not name:
        raise FlowDefinitionError(f"{what} has no <name>", el.sourceline)
    return name


def _conditions(el, what: str) -> list[Condition]:
    return _comparisons(el, "conditions", "leftValueReference", "rightValue", Condition, f"{what} condition")


def _collection_processor(el, name: str, what: str, line: int) -> CollectionProcessor:
    """Collection Filter and Sort; filtering by formula and other processor types are refused."""
    _allow(el, {"name", "label", "collectionProcessorType", "collectionReference", "assignNextValueToReference",
                "conditionLogic", "conditions", "connector", "limit", "sortOptions", "outputSObjectType"}, what)
    sort_options = []
    for o in named(el, "sortOptions"):
        _allow(o, {"sortField", "sortOrder", "doesPutEmptyStringAndNullFirst"}, f"{what} sortOptions")
        sort_options.append(SortOption(text(o, "sortField"), (text(o, "sortOrder") or "Asc") == "Desc",
                                       _bool(o, "doesPutEmptyStringAndNullFirst")))
    limit = text(el, "limit")
    if limit and not limit.isdigit():
        raise FlowDefinitionError(f"{what}: <limit> must be a whole number, got {limit}", line)
    return CollectionProcessor(name, line, _connector(el, "connector"),
                               processor_type=text(el, "collectionProcessorType") or "",
                               collection=text(el, "collectionReference") or "",
                               item_reference=text(el, "assignNextValueToReference"),
                               conditions=_conditions(el, what), logic=text(el, "conditionLogic") or "and",
                               sort_options=sort_options, limit=int(limit) if limit else None)


def _parse_element(kind: str, el) -> Element:
    name = _name(el, f"<{kind}>")
    what = f"{kind} {name}"
    line = el.sourceline
    base = {"name", "label", "connector", "faultConnector"}
    if kind == "assignments":
        _allow(el, base | {"assignmentItems"}, what)
        items = []
        for it in named(el, "assignmentItems"):
            _allow(it, {"assignToReference", "operator", "value"}, f"{what} item")
            items.append(AssignmentItem(text(it, "assignToReference") or "", text(it, "operator") or "",
                                        _value(first(it, "value")), it.sourceline))
        return Assignment(name, line, _connector(el, "connector"), items=items)
    if kind == "decisions":
        _allow(el, base | {"rules", "defaultConnector", "defaultConnectorLabel"}, what)
        rules = []
        for r in named(el, "rules"):
            _allow(r, {"name", "label", "conditionLogic", "conditions", "connector",
                       "doesRequireRecordChangedToMeetCriteria"}, f"{what} rule")
            conds = _conditions(r, what)
            rules.append(Rule(_name(r, f"{what} rule"), text(r, "label") or "", text(r, "conditionLogic") or "and",
                              conds, _connector(r, "connector"),
                              _bool(r, "doesRequireRecordChangedToMeetCriteria"), r.sourceline))
        return Decision(name, line, _connector(el, "defaultConnector"), rules=rules)
    if kind == "collectionProcessors":
        return _collection_processor(el, name, what, line)
    if kind == "actionCalls":
        return _action_call(el, name, what, line)
    if kind == "customErrors":
        _allow(el, {"name", "label", "connector", "customErrorMessages"}, what)
        messages = []
        for m in named(el, "customErrorMessages"):
            _allow(m, {"errorMessage", "fieldSelection", "isFieldError"}, f"{what} message")
            messages.append((text(m, "errorMessage") or "", text(m, "fieldSelection") if _bool(m, "isFieldError") else None))
        if not messages:
            raise FlowDefinitionError(f"{what} has no <customErrorMessages>", line)
        return CustomError(name, line, _connector(el, "connector"), messages=messages)
    if kind == "loops":
        _allow(el, {"name", "label", "collectionReference", "iterationOrder", "assignNextValueToReference",
                    "nextValueConnector", "noMoreValuesConnector"}, what)
        return Loop(name, line, _connector(el, "noMoreValuesConnector"),
                    collection=text(el, "collectionReference") or "",
                    descending=(text(el, "iterationOrder") or "Asc") == "Desc",
                    item_reference=text(el, "assignNextValueToReference"),
                    next_target=_connector(el, "nextValueConnector"))
    if kind == "recordLookups":
        _allow(el, base | {"object", "filters", "filterLogic", "getFirstRecordOnly", "sortField", "sortOrder",
                           "limit", "storeOutputAutomatically", "outputReference", "queriedFields",
                           "outputAssignments", "assignNullValuesIfNoRecordsFound"}, what)
        return RecordLookup(name, line, _connector(el, "connector"), _connector(el, "faultConnector"),
                            object=text(el, "object") or "", filters=_filters(el, what),
                            filter_logic=text(el, "filterLogic") or "and",
                            first_only=_bool(el, "getFirstRecordOnly"),
                            sort_field=text(el, "sortField") or None, sort_order=text(el, "sortOrder") or None,
                            limit=_value(first(el, "limit")),
                            store_automatically=_bool(el, "storeOutputAutomatically"),
                            output_reference=text(el, "outputReference") or None,
                            queried_fields=[(q.text or "").strip() for q in named(el, "queriedFields")],
                            output_assignments=_output_assignments(el, what),
                            null_if_none=_bool(el, "assignNullValuesIfNoRecordsFound", True))
    if kind == "recordCreates":
        _allow(el, base | {"object", "inputReference", "inputAssignments", "assignRecordIdToReference",
                           "storeOutputAutomatically", "doesUpsert"}, what)
        if _bool(el, "doesUpsert"):
            raise FlowDefinitionError(f"{what}: upsert in Create Records (doesUpsert) is not supported by "
                                      "the local org's flow runtime; use Get Records + a decision", line)
        return RecordCreate(name, line, _connector(el, "connector"), _connector(el, "faultConnector"),
                            object=text(el, "object") or "", input_reference=text(el, "inputReference") or None,
                            assignments=_input_assignments(el, what),
                            id_reference=text(el, "assignRecordIdToReference") or None,
                            store_automatically=_bool(el, "storeOutputAutomatically"))
    if kind == "recordUpdates":
        _allow(el, base | {"object", "inputReference", "inputAssignments", "filters", "filterLogic"}, what)
        return RecordUpdate(name, line, _connector(el, "connector"), _connector(el, "faultConnector"),
                            object=text(el, "object") or "", input_reference=text(el, "inputReference") or None,
                            filters=_filters(el, what), filter_logic=text(el, "filterLogic") or "and",
                            assignments=_input_assignments(el, what))
    if kind == "recordDeletes":
        _allow(el, base | {"object", "inputReference", "filters", "filterLogic"}, what)
        return RecordDelete(name, line, _connector(el, "connector"), _connector(el, "faultConnector"),
                            object=text(el, "object") or "", input_reference=text(el, "inputReference") or None,
                            filters=_filters(el, what), filter_logic=text(el, "filterLogic") or "and")
    if kind == "subflows":
        _allow(el, {"name", "label", "connector", "flowName", "inputAssignments", "outputAssignments",
                    "storeOutputAutomatically"}, what)
        return Subflow(name, line, _connector(el, "connector"), None, flow_name=text(el, "flowName") or "",
                       inputs=_input_assignments(el, what), outputs=_output_assignments(el, what),
                       store_automatically=_bool(el, "storeOutputAutomatically"))
    raise AssertionError(kind)  # pragma: no cover


_ELEMENT_KINDS = ("assignments", "decisions", "loops", "recordLookups", "recordCreates", "recordUpdates",
                  "recordDeletes", "subflows", "collectionProcessors", "actionCalls", "customErrors")


def _parse_formula(name: str, data_type: str, expression: str, line: int, scale: int = 0) -> Formula:
    f = Formula(name, data_type, expression, scale, line)
    try:
        f.ast = formula.parse(expression)
    except formula.FormulaError as exc:
        raise FlowDefinitionError(f"formula {name}: {exc.message}", line) from None
    return f


def _scheduled_path(el) -> ScheduledPath:
    what = f"<scheduledPaths> {text(el, 'name') or ''}".rstrip()
    _allow(el, {"name", "label", "connector", "offsetNumber", "offsetUnit", "timeSource", "recordField",
                "pathType", "maxBatchSize"}, what)
    number, batch = text(el, "offsetNumber") or "0", text(el, "maxBatchSize") or "200"
    if not number.lstrip("-").isdigit():
        raise FlowDefinitionError(f"{what}: offsetNumber {number} is not a whole number", el.sourceline)
    if not batch.isdigit() or not 1 <= int(batch) <= 200:
        raise FlowDefinitionError(f"{what}: maxBatchSize must be 1-200, got {batch}", el.sourceline)
    # The asynchronous path may be nameless (Flow Builder saves it so); it is the flow's one such path.
    path_type = text(el, "pathType") or None
    name = text(el, "name") or ("AsyncAfterCommit" if path_type == "AsyncAfterCommit" else "")
    return ScheduledPath(name, _connector(el, "connector"), path_type,
                         int(number), text(el, "offsetUnit") or "Hours",
                         text(el, "timeSource") or "RecordTriggerEvent", text(el, "recordField") or None,
                         int(batch), el.sourceline)


def _parse_start(el) -> Start:
    _allow(el, {"connector", "object", "triggerType", "recordTriggerType", "filters", "filterLogic",
                "filterFormula", "doesRequireRecordChangedToMeetCriteria", "scheduledPaths", "flowRunAsUser",
                "schedule"}, "<start>")
    schedule = None
    sched_el = first(el, "schedule")
    if sched_el is not None:
        _allow(sched_el, {"frequency", "startDate", "startTime"}, "<start> <schedule>")
        schedule = (text(sched_el, "frequency") or "", text(sched_el, "startDate") or "",
                    text(sched_el, "startTime") or "00:00:00.000Z")
    paths = [_scheduled_path(p) for p in named(el, "scheduledPaths")]
    ff = text(el, "filterFormula")
    start = Start(_connector(el, "connector"), object=text(el, "object") or None,
                  trigger_type=text(el, "triggerType") or None,
                  record_trigger_type=text(el, "recordTriggerType") or None,
                  filters=_filters(el, "<start>"), filter_logic=text(el, "filterLogic") or "and",
                  requires_change=_bool(el, "doesRequireRecordChangedToMeetCriteria"), line=el.sourceline,
                  scheduled_paths=paths, schedule=schedule)
    if ff:
        start.filter_formula = _parse_formula("<start> filterFormula", "Boolean", ff, first(el, "filterFormula").sourceline)
    return start


def parse_flow(source: bytes, name: str, file_name: str = "") -> Flow:
    """Parse one flow file. `name` is its API name (the file name without extension)."""
    try:
        root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        line, col = (exc.position if exc.position else (0, 0))
        raise FlowDefinitionError(f"malformed XML: {exc.msg}", line, col) from None
    if local_name(root) != "Flow":
        raise FlowDefinitionError(f"the root element is <{local_name(root)}>, expected <Flow>", root.sourceline)

    process_type = text(root, "processType") or "Flow"
    if process_type not in RUNNABLE_PROCESS_TYPES:
        raise FlowDefinitionError(
            f"processType {process_type} is not supported by the local org's flow runtime "
            "(only AutoLaunchedFlow: record-triggered and autolaunched flows)",
            (first(root, "processType") if first(root, "processType") is not None else root).sourceline)

    start_el = first(root, "start")
    if start_el is None:
        if text(root, "startElementReference"):
            start = Start(text(root, "startElementReference"), line=first(root, "startElementReference").sourceline)
        else:
            raise FlowDefinitionError("the flow has no <start> element", root.sourceline)
    else:
        start = _parse_start(start_el)

    mode = text(root, "runInMode")
    if mode is not None and mode not in ("DefaultMode", "SystemModeWithSharing", "SystemModeWithoutSharing"):
        # Salesforce's Metadata API refuses a value outside the FlowRunInMode enumeration.
        raise FlowDefinitionError(f"runInMode {mode} is not one of DefaultMode, SystemModeWithSharing, "
                                  "SystemModeWithoutSharing", first(root, "runInMode").sourceline)
    order = text(root, "triggerOrder")
    flow = Flow(name=name, label=text(root, "label") or name, api_version=text(root, "apiVersion") or "",
                process_type=process_type, status=text(root, "status") or "Draft", start=start,
                trigger_order=int(order) if order else None, file_name=file_name, source=source)

    def claim(key: str, line: int) -> None:
        if flow.resource(key) is not None or flow.outcome(key) is not None:
            raise FlowDefinitionError(f"the name {key} is used by more than one element or resource", line)

    for c in elements(root):
        tag = local_name(c)
        if tag in ("processType", "start", "status", "triggerOrder", "startElementReference") or tag in _FLOW_IGNORED:
            continue
        if tag in _UNSUPPORTED_FLOW_PARTS:
            raise FlowDefinitionError(f"{_UNSUPPORTED_FLOW_PARTS[tag]} (<{tag}>) are not supported by the local "
                                      "org's flow runtime", c.sourceline)
        if tag in _ELEMENT_KINDS:
            el = _parse_element(tag, c)
            claim(el.name, c.sourceline)
            # Outcome names share the flow's one namespace: {!Outcome} reads as a Boolean.
            for rule in getattr(el, "rules", ()):
                claim(rule.name, rule.line)
            flow.elements[el.name.lower()] = el
        elif tag == "variables":
            _allow(c, {"name", "dataType", "isCollection", "isInput", "isOutput", "objectType", "scale",
                       "value", "apexClass"}, "variable")
            if text(c, "apexClass"):
                raise FlowDefinitionError("Apex-defined variables are not supported by the local org's flow runtime",
                                          c.sourceline)
            v = Variable(_name(c, "<variables>"), text(c, "dataType") or "String", _bool(c, "isCollection"),
                         _bool(c, "isInput"), _bool(c, "isOutput"), text(c, "objectType") or None,
                         int(text(c, "scale") or 0), _value(first(c, "value")), c.sourceline)
            claim(v.name, c.sourceline)
            flow.variables[v.name.lower()] = v
        elif tag == "constants":
            _allow(c, {"name", "dataType", "value"}, "constant")
            k = Constant(_name(c, "<constants>"), text(c, "dataType") or "String", _value(first(c, "value")), c.sourceline)
            claim(k.name, c.sourceline)
            flow.constants[k.name.lower()] = k
        elif tag == "formulas":
            _allow(c, {"name", "dataType", "expression", "scale"}, "formula")
            f = _parse_formula(_name(c, "<formulas>"), text(c, "dataType") or "Number", text(c, "expression") or "",
                               c.sourceline, int(text(c, "scale") or 0))
            claim(f.name, c.sourceline)
            flow.formulas[f.name.lower()] = f
        elif tag == "textTemplates":
            _allow(c, {"name", "text", "isViewedAsPlainText"}, "text template")
            text_el = first(c, "text")
            # Whitespace is the content here (a template may be just a line break).
            t = TextTemplate(_name(c, "<textTemplates>"), (text_el.text or "") if text_el is not None else "",
                             c.sourceline)
            claim(t.name, c.sourceline)
            flow.text_templates[t.name.lower()] = t
        else:
            raise FlowDefinitionError(f"<{tag}> is not supported by the local org's flow runtime", c.sourceline)
    return flow
