"""The sync engine: booking changes in, Booking Action records (and the people they need) out.

Pipeline (one module per step):
  booking.py   BookingChange, the canonical change every source produces
  settings.py  slotforce.yml models, load_settings, check_config
  fetch.py     the <=5 queries a batch needs (soql.py quotes every value) -> snapshot.py
  resolve.py   who the attendee is     accounts.py  which Account (waterfall, tiebreak)
  owner.py     round-robin owner       writes.py    field mapping values
  plan.py      BookingPlan, a printable value per change (with its trace, trace.py)
  requests.py  plans -> Composite bodies   gateway.py  the only module that calls Salesforce
  write_round.py  one write call's answers -> outcomes (Wave, WriteRound)
  engine.py    SyncEngine.sync / sync_batch(changes, settings, sf) -> [Outcome] (outcome.py); owner_for

The face: callers (sources, service) import from `slotforce.sync` only, never from its modules.
"""

from __future__ import annotations

from slotforce.sync.booking import RECORD_ID, WHAT_PREFIXES, WHO_PREFIXES, Action, BookingChange, Person, Utm
from slotforce.sync.describe import DescribeCache
from slotforce.sync.engine import SyncEngine, owner_for, sync_batch
from slotforce.sync.gateway import Gateway, SalesforceCallError
from slotforce.sync.links import LinkSyncError, LinksFileError, SchedulingLink, load_links, sync_links
from slotforce.sync.outcome import DroppedFieldsReport, ErrorSink, Outcome, OutcomeStatus
from slotforce.sync.soql import SoqlValueError
from slotforce.sync.soql import in_list as soql_in_list
from slotforce.sync.settings import (
    SalesforceSettings, Settings, SettingsError, check_config, load_settings, parse_settings, read_config_yaml,
)
from slotforce.sync.trace import Trace, TraceStep

__all__ = [
    "RECORD_ID",
    "WHAT_PREFIXES",
    "WHO_PREFIXES",
    "Action",
    "BookingChange",
    "DescribeCache",
    "DroppedFieldsReport",
    "ErrorSink",
    "Gateway",
    "LinkSyncError",
    "LinksFileError",
    "Outcome",
    "OutcomeStatus",
    "Person",
    "SalesforceCallError",
    "SalesforceSettings",
    "SchedulingLink",
    "Settings",
    "SoqlValueError",
    "SettingsError",
    "SyncEngine",
    "Trace",
    "TraceStep",
    "Utm",
    "check_config",
    "load_links",
    "load_settings",
    "owner_for",
    "parse_settings",
    "read_config_yaml",
    "sync_batch",
    "soql_in_list",
    "sync_links",
]
