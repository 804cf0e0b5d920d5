"""How long things take in the outbox: slotforce.yml's `outbox:` block (all keys optional).

    outbox:
      lease_seconds: 120           # a worker holds a batch this long (renewed before each call)
      call_timeout_seconds: 90     # one Salesforce call may take this long (default: 3/4 of the lease)
      backoff_base_seconds: 2      # first retry after a transient failure ...
      backoff_cap_seconds: 900     # ... doubling up to this (with [d/2, d] jitter)
      max_attempts: 12             # then the change fails for good (replayable)
      create_wait_seconds: 900     # a change waits this long for its booking's create, then is parked
      budget_probe_seconds: 300    # after REQUEST_LIMIT_EXCEEDED, try again this often (not an attempt)

The call timeout must be shorter than the lease: a call still running when the lease runs out
would let a second worker send the same batch. Tests shrink the whole clock with these keys.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from slotforce.store.backoff import Backoff
from slotforce.store.outbox import DEFAULT_BUDGET_PROBE, DEFAULT_CREATE_WAIT, DEFAULT_LEASE

_DEFAULT_BACKOFF = Backoff()


class OutboxTiming(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lease_seconds: float = Field(default=DEFAULT_LEASE.total_seconds(), gt=0)
    call_timeout_seconds: float | None = Field(default=None, gt=0)
    backoff_base_seconds: float = Field(default=_DEFAULT_BACKOFF.base_seconds, gt=0)
    backoff_cap_seconds: float = Field(default=_DEFAULT_BACKOFF.cap_seconds, gt=0)
    max_attempts: int = Field(default=_DEFAULT_BACKOFF.max_attempts, ge=1)
    create_wait_seconds: float = Field(default=DEFAULT_CREATE_WAIT.total_seconds(), ge=0)
    # at most a day: the budget is a rolling 24-hour window, so it frees up within one
    budget_probe_seconds: float = Field(default=DEFAULT_BUDGET_PROBE.total_seconds(), gt=0, le=86_400)

    @model_validator(mode="after")
    def _consistent(self) -> "OutboxTiming":
        if self.call_timeout_seconds is not None and self.call_timeout_seconds >= self.lease_seconds:
            raise ValueError(f"call_timeout_seconds ({self.call_timeout_seconds:g}) must be shorter than lease_seconds "
                             f"({self.lease_seconds:g}): a call outliving the lease lets another worker send the batch too")
        if self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_cap_seconds must be at least backoff_base_seconds")
        return self

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def call_timeout(self) -> timedelta:
        """The configured timeout, else three quarters of the lease (90 s of 2 minutes)."""
        seconds = self.call_timeout_seconds if self.call_timeout_seconds is not None else self.lease_seconds * 0.75
        return timedelta(seconds=seconds)

    @property
    def budget_probe(self) -> timedelta:
        return timedelta(seconds=self.budget_probe_seconds)

    @property
    def backoff(self) -> Backoff:
        return Backoff(self.backoff_base_seconds, self.backoff_cap_seconds, self.max_attempts)

    def store_options(self) -> dict[str, Any]:
        """Keyword arguments for `open_store` (the outbox's own part of the timing)."""
        return {"create_wait": timedelta(seconds=self.create_wait_seconds), "backoff": self.backoff}
