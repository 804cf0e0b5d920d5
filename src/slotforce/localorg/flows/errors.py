"""Errors of the flow runtime: a fault inside one interview, and the save failure it may become."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SalesforceError


class FlowFault(Exception):
    """An element failed in one interview. Caught by the element's fault connector if it has one."""

    def __init__(self, message: str, element=None) -> None:
        super().__init__(message)
        self.message = message
        self.element = element


class RecordCustomError(Exception):
    """A Custom Error element ran: the saved record fails with its message (not a fault: no fault path)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class FlowCustomValidationError(SalesforceError):
    """The save of a record a flow's Custom Error element stopped (FIELD_CUSTOM_VALIDATION_EXCEPTION)."""

    error_code = "FIELD_CUSTOM_VALIDATION_EXCEPTION"


@dataclass
class Fault:
    """The result a batched operation hands back to an interview whose part of it failed."""

    message: str


class FlowTriggerError(SalesforceError):
    """The save failed because a flow failed (Salesforce's CANNOT_EXECUTE_FLOW_TRIGGER)."""

    error_code = "CANNOT_EXECUTE_FLOW_TRIGGER"

    def __init__(self, message: str, *, limit: bool = False) -> None:
        super().__init__(message)
        self.limit = limit  # a governor limit: no fault path may catch it
