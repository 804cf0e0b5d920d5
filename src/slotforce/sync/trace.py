"""The routing trace: every decision the engine takes for one booking change, as a step.

A trace travels on its plan and outcome (`Outcome.trace`); the service keeps it in the outbox with
the outcome (`Outbox.finish`), and `slotforce trace UID` prints it from there (store/cli.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TraceStep:
    """One decision: `step` is a stable name (e.g. account_found_by_website), `detail` the facts."""

    step: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        facts = ", ".join(f"{k}={_short(v)}" for k, v in self.detail.items())
        return f"{self.step}" + (f" ({facts})" if facts else "")


def _short(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_short(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + "]"
    return str(v)


class Trace(list[TraceStep]):
    """The steps of one booking change, in order."""

    def add(self, step: str, /, **detail: Any) -> None:
        self.append(TraceStep(step, detail))

    def steps(self, name: str) -> list[TraceStep]:
        return [s for s in self if s.step == name]

    def as_json(self) -> list[dict[str, Any]]:
        """The steps as the outbox keeps them and /owner answers them: [{"step": name, "detail": {...}}]."""
        return [{"step": s.step, "detail": s.detail} for s in self]
