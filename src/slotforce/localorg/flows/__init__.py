"""The local org's Flow runtime: flow XML -> model (parser), deploy checks (validate), and the
bulkified interpreter with governor limits (runtime) behind a small data-access protocol (access)."""

from .access import LimitExceeded, Limits, OrgAccess, Query
from .model import Flow
from .parser import FlowDefinitionError, parse_flow
from .registry import FlowRegistry
from .runtime import FlowRuntime, FlowTriggerError
from .validate import validate_flow

__all__ = ["Flow", "FlowDefinitionError", "FlowRegistry", "FlowRuntime", "FlowTriggerError", "LimitExceeded",
           "Limits", "OrgAccess", "Query", "parse_flow", "validate_flow"]
