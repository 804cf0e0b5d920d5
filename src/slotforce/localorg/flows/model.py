"""A deployed Flow as plain data: what the parser reads from flow XML and the interpreter walks.

Every element keeps `line` (its line in the deployed file) so deploy errors and runtime faults can
point at the XML an admin would open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Value:
    """A FlowElementReferenceOrValue: exactly one of a literal or an element reference.

    kind: "string" (may hold {!merge} fields), "number", "boolean", "date", "dateTime",
    "reference", or "null" (an empty stringValue / no value at all).
    """

    kind: str
    value: Any = None
    line: int = 0


@dataclass
class RecordFilter:
    """A FlowRecordFilter / start filter: `field operator value`."""

    field: str
    operator: str
    value: Value | None
    line: int = 0


@dataclass
class Condition:
    """A FlowCondition of a decision rule: `leftValueReference operator rightValue`."""

    left: str
    operator: str
    right: Value | None
    line: int = 0


@dataclass
class FieldAssignment:
    """inputAssignments (field <- value) or outputAssignments (assignToReference <- field)."""

    field: str
    value: Value | None = None
    assign_to: str | None = None
    line: int = 0


@dataclass
class AssignmentItem:
    target: str
    operator: str
    value: Value | None
    line: int = 0


@dataclass
class Rule:
    name: str
    label: str
    logic: str
    conditions: list[Condition]
    target: str | None
    requires_change: bool = False
    line: int = 0


@dataclass
class Element:
    """Common part of every node: its name, where it goes next and, if any, its fault path."""

    name: str
    line: int
    target: str | None = None
    fault_target: str | None = None

    kind = "element"
    bulk = False  # True when interviews at this element share one query / DML / subflow batch


@dataclass
class Assignment(Element):
    items: list[AssignmentItem] = field(default_factory=list)
    kind = "assignments"


@dataclass
class Decision(Element):
    rules: list[Rule] = field(default_factory=list)
    kind = "decisions"  # `target` is the default connector


@dataclass
class Loop(Element):
    collection: str = ""
    descending: bool = False
    item_reference: str | None = None  # assignNextValueToReference (older style)
    next_target: str | None = None
    kind = "loops"  # `target` is noMoreValuesConnector


@dataclass
class SortOption:
    """One FlowCollectionSortOption: a field (none for a collection of values), Asc/Desc, nulls first."""

    field: str | None
    descending: bool = False
    nulls_first: bool = False


@dataclass
class CollectionProcessor(Element):
    """Collection Filter (FilterCollectionProcessor: the element's output is the items meeting the
    conditions) or Collection Sort (SortCollectionProcessor: sorts collectionReference in place)."""

    processor_type: str = ""
    collection: str = ""
    item_reference: str | None = None  # currentItem_X: each item while the conditions are tested
    conditions: list[Condition] = field(default_factory=list)
    logic: str = "and"
    sort_options: list[SortOption] = field(default_factory=list)
    limit: int | None = None
    kind = "collectionProcessors"


@dataclass
class RecordLookup(Element):
    object: str = ""
    filters: list[RecordFilter] = field(default_factory=list)
    filter_logic: str = "and"
    first_only: bool = False
    sort_field: str | None = None
    sort_order: str | None = None
    limit: Value | None = None
    store_automatically: bool = False
    output_reference: str | None = None
    queried_fields: list[str] = field(default_factory=list)
    output_assignments: list[FieldAssignment] = field(default_factory=list)
    null_if_none: bool = True
    kind = "recordLookups"
    bulk = True


@dataclass
class RecordCreate(Element):
    object: str = ""
    input_reference: str | None = None
    assignments: list[FieldAssignment] = field(default_factory=list)
    id_reference: str | None = None
    store_automatically: bool = False
    kind = "recordCreates"
    bulk = True


@dataclass
class RecordUpdate(Element):
    object: str = ""
    input_reference: str | None = None
    filters: list[RecordFilter] = field(default_factory=list)
    filter_logic: str = "and"
    assignments: list[FieldAssignment] = field(default_factory=list)
    kind = "recordUpdates"
    bulk = True


@dataclass
class RecordDelete(Element):
    object: str = ""
    input_reference: str | None = None
    filters: list[RecordFilter] = field(default_factory=list)
    filter_logic: str = "and"
    kind = "recordDeletes"
    bulk = True


@dataclass
class Subflow(Element):
    flow_name: str = ""
    inputs: list[FieldAssignment] = field(default_factory=list)   # field = the subflow's variable
    outputs: list[FieldAssignment] = field(default_factory=list)  # field = subflow var, assign_to = ours
    store_automatically: bool = False
    kind = "subflows"
    bulk = True


@dataclass
class CustomError(Element):
    """A Custom Error element: each message (text, field or None for the record) fails the saved record."""

    messages: list[tuple[str, str | None]] = field(default_factory=list)
    kind = "customErrors"


@dataclass
class ActionCall(Element):
    """An action call the runtime serves (actions.py): `inputs` by parameter name, `outputs` to variables."""

    action_type: str = ""  # emailSimple | emailAlert | quickAction
    action_name: str = ""
    inputs: list[FieldAssignment] = field(default_factory=list)   # field = the input parameter's name
    outputs: list[FieldAssignment] = field(default_factory=list)  # field = output name, assign_to = ours
    store_automatically: bool = False
    kind = "actionCalls"
    bulk = True


@dataclass
class Variable:
    name: str
    data_type: str
    is_collection: bool = False
    is_input: bool = False
    is_output: bool = False
    object_type: str | None = None
    scale: int = 0
    value: Value | None = None
    line: int = 0


@dataclass
class Constant:
    name: str
    data_type: str
    value: Value | None
    line: int = 0


@dataclass
class Formula:
    name: str
    data_type: str
    expression: str
    scale: int = 0
    line: int = 0
    ast: Any = None  # filled by the parser (formula.parse)


@dataclass
class TextTemplate:
    name: str
    text: str
    line: int = 0


@dataclass
class ScheduledPath:
    """A FlowScheduledPath of a record-triggered after-save flow: when it runs and where it starts."""

    name: str
    target: str | None
    path_type: str | None = None  # AsyncAfterCommit, or None for a time-based path
    offset_number: int = 0
    offset_unit: str = "Hours"  # Months | Days | Hours | Minutes
    time_source: str = "RecordTriggerEvent"  # or RecordField
    record_field: str | None = None
    max_batch_size: int = 200
    line: int = 0


@dataclass
class Start:
    target: str | None
    object: str | None = None
    trigger_type: str | None = None  # RecordBeforeSave | RecordAfterSave | RecordBeforeDelete | None
    record_trigger_type: str | None = None  # Create | Update | CreateAndUpdate | Delete
    filters: list[RecordFilter] = field(default_factory=list)
    filter_logic: str = "and"
    filter_formula: Formula | None = None
    requires_change: bool = False
    line: int = 0
    scheduled_paths: list[ScheduledPath] = field(default_factory=list)
    schedule: tuple[str, str, str] | None = None  # a schedule-triggered flow's (frequency, startDate, startTime)


@dataclass
class Flow:
    """One flow version. `name` is the API name (file name without .flow)."""

    name: str
    label: str
    api_version: str
    process_type: str
    status: str
    start: Start
    trigger_order: int | None = None
    elements: dict[str, Element] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)
    constants: dict[str, Constant] = field(default_factory=dict)
    formulas: dict[str, Formula] = field(default_factory=dict)
    text_templates: dict[str, TextTemplate] = field(default_factory=dict)
    file_name: str = ""
    source: bytes = b""
    # Per element, the cross-object paths it reads (parents.element_paths fills it on first visit).
    cross_paths: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    version: int | None = None  # from a versioned file name of API < 44 (flows/X-2.flow is version 2 of X)

    @property
    def is_schedule_triggered(self) -> bool:
        return self.start.trigger_type == "Scheduled"

    @property
    def is_record_triggered(self) -> bool:
        return self.start.trigger_type in ("RecordBeforeSave", "RecordAfterSave", "RecordBeforeDelete")

    @property
    def timing(self) -> str | None:
        """"before" or "after" for record-triggered flows (before-delete runs before the delete)."""
        if self.start.trigger_type in ("RecordBeforeSave", "RecordBeforeDelete"):
            return "before"
        if self.start.trigger_type == "RecordAfterSave":
            return "after"
        return None

    def resource(self, name: str):
        """The variable, constant, formula, text template or element named `name` (any case), or None."""
        key = name.lower()
        for table in (self.variables, self.constants, self.formulas, self.text_templates, self.elements):
            hit = table.get(key)
            if hit is not None:
                return hit
        return None

    def outcome(self, name: str) -> tuple[Decision, Rule] | None:
        """The decision outcome named `name` (any case) with its decision, or None."""
        key = name.lower()
        for el in self.elements.values():
            for rule in getattr(el, "rules", ()):
                if rule.name.lower() == key:
                    return el, rule
        return None
