"""Injected faults: make the local org answer like a busy or failing Salesforce, on purpose.

A rule matches requests by path regex (and optionally method) and fires either for the next
`count` matching calls or with probability `rate` (seeded, so a test run is reproducible).
What it does: answer `UNABLE_TO_LOCK_ROW` (400), `REQUEST_LIMIT_EXCEEDED` (403), a bare 500 or
503, drop the connection without answering (`drop`), and/or wait `latency_ms` first.

    POST /__localorg__/faults {"error": "UNABLE_TO_LOCK_ROW", "count": 2, "path": "composite"}
    POST /__localorg__/faults {"latency_ms": 200, "rate": 0.5, "seed": 7}
    DELETE /__localorg__/faults
"""

from __future__ import annotations

import dataclasses
import random
import re
import threading

from slotforce.localorg import errors

ERRORS = ("UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "500", "503", "drop")


@dataclasses.dataclass
class FaultRule:
    error: str | None = None
    latency_ms: int = 0
    rate: float | None = None
    count: int | None = None
    path: str = ".*"
    method: str | None = None
    seed: int | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        if self.error is not None:
            self.error = str(self.error)
        if self.error is not None and self.error not in ERRORS:
            raise errors.InvalidFault(f"unknown fault error {self.error!r}: use one of {', '.join(ERRORS)}")
        if self.rate is not None and not 0 <= float(self.rate) <= 1:
            raise errors.InvalidFault("rate must be between 0 and 1")
        if self.error is None and not self.latency_ms:
            raise errors.InvalidFault("a fault needs an error or latency_ms")
        if self.count is None and self.rate is None:
            self.rate = 1.0
        try:
            self._regex = re.compile(self.path)
        except re.error as exc:
            raise errors.InvalidFault(f"path is not a regular expression: {exc}") from None
        self._random = random.Random(self.seed)

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("error", "latency_ms", "rate", "count", "path", "method", "seed",
                                              "fired")}


@dataclasses.dataclass
class Fault:
    """What to do with one request: wait, then answer an error (or drop), or carry on."""

    latency_ms: int = 0
    error: str | None = None

    def response(self) -> tuple[int, list[dict]] | None:
        if self.error == "UNABLE_TO_LOCK_ROW":
            return 400, [errors.UnableToLockRow(
                "unable to obtain exclusive access to this record or 1 records: (injected fault)").to_json()]
        if self.error == "REQUEST_LIMIT_EXCEEDED":
            return 403, [errors.RequestLimitExceeded("TotalRequests Limit exceeded.").to_json()]
        if self.error == "500":
            return 500, [errors.UnknownException(
                "An unexpected error occurred. Please include this ErrorId if you contact "
                "support: 0000000000-00000 (-1) (injected fault)").to_json(code_first=True)]
        if self.error == "503":
            return 503, [errors.ServerUnavailable("Service Unavailable (injected fault)").to_json(code_first=True)]
        return None


class Faults:
    """The active fault rules of one org (thread-safe; the first matching rule that fires wins)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, **rule) -> FaultRule:
        known = {f.name for f in dataclasses.fields(FaultRule)} - {"fired"}
        unknown = set(rule) - known
        if unknown:
            raise errors.InvalidFault(f"unknown fault keys: {', '.join(sorted(unknown))}")
        r = FaultRule(**rule)
        with self._lock:
            self._rules.append(r)
        return r

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict]:
        with self._lock:
            return [r.to_json() for r in self._rules]

    def match(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for r in list(self._rules):
                if r.method and r.method.upper() != method.upper():
                    continue
                if not r._regex.search(path):
                    continue
                if r.count is not None:
                    if r.fired >= r.count:
                        continue
                elif r._random.random() >= float(r.rate):
                    continue
                r.fired += 1
                return Fault(latency_ms=int(r.latency_ms or 0), error=r.error)
        return None
