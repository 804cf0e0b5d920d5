"""The governor-limit budget of one write call: what the package's Flows spend per Booking Action.

The Booking_Action_Created / _Changed Flows (and the Event_Participants subflow) run inside the
transaction of the engine's write Composite, and Salesforce counts governor limits across all of a
Composite's subrequests: 100 SOQL queries, 150 DML statements, 10,000 DML rows per call. One
Composite of 200 Created actions with 49 guests each needs 10,400 rows, so the whole save fails
(CANNOT_EXECUTE_FLOW_TRIGGER) although every booking alone would fit. So the engine sizes each
write call by this estimate (`write_chunks`), and halves a call that breaches anyway
(`is_governor_limit`, used by the engine).

Where the numbers come from (src/slotforce/package/flows.py; measured against the local org's
`/__localorg__/stats` `last_transaction`, see tests/sync/test_e2e_limits.py):

DML rows per Booking Action (the bulkified Flows write one row per record per element):
  Created: 3 + invitees. Create_Event or Update_Event (1), Update_Lead or Update_Contact on the
    Who (1), Mark_Processed / Mark_Failed on the Booking Action itself (1), and one EventRelation
    per invitee (a line of Guest_Emails__c or Co_Host_Emails__c matching one Contact, Lead or
    active User). Measured: 3 for none, 6 for 3 guests, 52 for 49 guests; 2 + invitees when the
    action has no Who. An email shared by several people costs more: the headroom is for that.
  Rescheduled, Canceled, No_Show, No_Show_Cleared, Completed: 3 (the Event updated or deleted,
    the Who's status mirrored, the Booking Action marked). Measured: 600 for 200 Rescheduled.

SOQL queries and DML statements do not grow with the number of records (the Flows are bulkified:
one query or DML per element for up to 200 interviews), so they are per save of Booking Actions:
one Collections subrequest, or one single upsert by Action_Key__c, is one save. Upper bounds, each
element that can run counted once (an Update Records element with filters is a query and a DML):
  Created:  12 SOQL (Get_Event, Update_Event, Get_Related, Get_Contacts, Get_Leads, Get_Users,
            Update_Lead, Update_Contact and the four Mark_* updates), 9 DML (Create_Event,
            Update_Event, Create_Relations, Update_Lead, Update_Contact, four Mark_*).
            Measured in the usual path: 5 SOQL, 4 DML.
  Changed:  8 SOQL (Get_Event, Get_Event_By_Previous_Uid, Update_Lead, Update_Contact, four Mark_*),
            8 DML (Update_Event, Delete_Event, Update_Lead, Update_Contact, four Mark_*).
            Measured: 3 SOQL, 3 DML for 200 Rescheduled; 8 and 7 for Created and No_Show mixed.
The budget keeps a fifth of each limit for the org's own automation (triggers and Flows on Event,
EventRelation, Lead and Contact that the package does not know about).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slotforce.sync.booking import Action

T = TypeVar("T")


@dataclass(frozen=True)
class FlowCost:
    """Governor counters one transaction spends (or may spend)."""

    soql: int = 0
    dml: int = 0
    dml_rows: int = 0

    def __add__(self, other: "FlowCost") -> "FlowCost":
        return FlowCost(self.soql + other.soql, self.dml + other.dml, self.dml_rows + other.dml_rows)

    def within(self, budget: "FlowCost") -> bool:
        return self.soql <= budget.soql and self.dml <= budget.dml and self.dml_rows <= budget.dml_rows


# Salesforce's per-transaction limits, and what one write call may plan to spend of them.
GOVERNOR_LIMITS = FlowCost(soql=100, dml=150, dml_rows=10_000)
WRITE_CALL_BUDGET = FlowCost(soql=80, dml=120, dml_rows=8_000)

CREATED_ROWS = 3  # + 1 per invitee: Event, Who stamp, Booking Action marked
CHANGED_ROWS = 3  # Event updated or deleted, Who mirrored, Booking Action marked
CREATED_FLOW_PER_SAVE = FlowCost(soql=12, dml=9)   # Booking_Action_Created + Event_Participants
CHANGED_FLOW_PER_SAVE = FlowCost(soql=8, dml=8)    # Booking_Action_Changed

# How a breached governor limit reads inside CANNOT_EXECUTE_FLOW_TRIGGER / LIMIT_EXCEEDED messages
# ("... Flow Event_Participants, element Create_Relations (...): Too many DML rows: 10001").
GOVERNOR_LIMIT_CODES = frozenset({"CANNOT_EXECUTE_FLOW_TRIGGER", "LIMIT_EXCEEDED"})
_GOVERNOR_LIMIT = re.compile(r"Too many (DML rows|DML statements|SOQL queries|query rows)|"
                             r"Apex CPU time limit exceeded", re.IGNORECASE)


def invitees(action_fields: dict[str, Any]) -> int:
    """Guests and co-hosts as the Flow reads them: one email per non-blank line."""
    return sum(1 for name in ("Guest_Emails__c", "Co_Host_Emails__c")
               for line in str(action_fields.get(name) or "").splitlines() if line.strip())


def action_rows(action_fields: dict[str, Any]) -> int:
    """DML rows the Flows spend on one Booking Action (see the module docstring)."""
    kind = action_fields.get("Action__c")
    if kind == Action.CREATED.value:
        return CREATED_ROWS + invitees(action_fields)
    if kind:
        return CHANGED_ROWS
    return 0


def save_cost(actions: Iterable[dict[str, Any]]) -> FlowCost:
    """What one save of these Booking Actions (one subrequest) may cost: each Flow that fires
    spends its statements once, and every action its rows."""
    rows, kinds = 0, set()
    for fields in actions:
        rows += action_rows(fields)
        kind = fields.get("Action__c")
        if kind:
            kinds.add("created" if kind == Action.CREATED.value else "changed")
    cost = FlowCost(dml_rows=rows)
    if "created" in kinds:
        cost += CREATED_FLOW_PER_SAVE
    if "changed" in kinds:
        cost += CHANGED_FLOW_PER_SAVE
    return cost


def call_cost(saves: Iterable[Iterable[dict[str, Any]]]) -> FlowCost:
    """What a write Composite may cost: the sum over its saves of Booking Actions."""
    total = FlowCost()
    for actions in saves:
        total += save_cost(actions)
    return total


def write_chunks(items: Sequence[T], fields_of: Callable[[T], dict[str, Any]],
                 budget: FlowCost = WRITE_CALL_BUDGET) -> list[list[T]]:
    """Split `items` (in order) into runs whose Booking Actions fit one save within `budget`.

    An item that alone is over budget gets a run of its own: it may still fit the real limit
    (the estimate is an upper bound), and if not, only it fails.
    """
    chunks: list[list[T]] = []
    current: list[T] = []
    current_fields: list[dict[str, Any]] = []
    for item in items:
        f = fields_of(item)
        if current and not save_cost([*current_fields, f]).within(budget):
            chunks.append(current)
            current, current_fields = [], []
        current.append(item)
        current_fields.append(f)
    if current:
        chunks.append(current)
    return chunks


def is_governor_limit(code: str | None, message: str | None) -> bool:
    """A save failed because the transaction ran out of a governor limit (not because of a record):
    a smaller call can succeed."""
    return code in GOVERNOR_LIMIT_CODES and bool(_GOVERNOR_LIMIT.search(message or ""))
