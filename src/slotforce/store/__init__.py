"""Durable outbox between webhook intake and the sync worker: `open_store(url)` gives an `Outbox`.

`store: sqlite:///path` in slotforce.yml selects the embedded SQLite backend (WAL mode);
`store: postgresql://...` the PostgreSQL one, for intakes and workers on several hosts. The rules
are `policy.py`'s, applied by `queue.py` over either backend's named SQL (`sql/`).
"""

from __future__ import annotations

from slotforce.store.backends import backend_of, check_store, open_store, sqlite_path
from slotforce.store.backoff import Backoff
from slotforce.store.config import ConfigNotUsable, configured_org, open_configured_store, org_names, read_config
from slotforce.store.group_commit import GroupCommit
from slotforce.store.errors import BadStoreUrl, ItemNotFound, LeaseLost, NotReplayable, OutboxUnwritable, StoreError
from slotforce.store.models import (
    BUDGET_SPENT,
    DEFAULT_ORG,
    REPEATABLE_ACTIONS,
    BudgetWait,
    Delivery,
    FinishReport,
    HeldLease,
    ItemResult,
    Lease,
    NewChange,
    OutboxItem,
    Receipt,
    State,
    LastSyncError,
    TraceEntry,
)
from slotforce.store.outbox import DEFAULT_BATCH, Activity, Outbox
from slotforce.store.timing import OutboxTiming

__all__ = [
    "backend_of",
    "Activity",
    "BUDGET_SPENT",
    "DEFAULT_ORG",
    "REPEATABLE_ACTIONS",
    "Backoff",
    "BadStoreUrl",
    "BudgetWait",
    "ConfigNotUsable",
    "DEFAULT_BATCH",
    "Delivery",
    "FinishReport",
    "GroupCommit",
    "HeldLease",
    "ItemNotFound",
    "ItemResult",
    "Lease",
    "LeaseLost",
    "NewChange",
    "NotReplayable",
    "Outbox",
    "OutboxItem",
    "OutboxUnwritable",
    "OutboxTiming",
    "Receipt",
    "State",
    "StoreError",
    "LastSyncError",
    "TraceEntry",
    "check_store",
    "configured_org",
    "open_configured_store",
    "open_store",
    "org_names",
    "read_config",
    "sqlite_path",
]
