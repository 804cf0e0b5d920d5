"""When to try a transiently failed item again: exponential backoff with jitter.

The jitter spreads out retries of items that failed together (e.g. a whole batch hit
UNABLE_TO_LOCK_ROW) so they do not all come back in the same second and collide again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1 after n failed attempts: base * 2**(n-1), capped, then jittered.

    "Equal jitter": the delay is uniformly drawn from [d/2, d] where d is the exponential step, so it
    still grows with every attempt (unlike full jitter, which may retry at once).
    """

    base_seconds: float = 2.0
    cap_seconds: float = 15 * 60.0
    max_attempts: int = 12  # then the item fails permanently with its last error, replayable

    def step(self, attempts: int) -> float:
        """The un-jittered delay after `attempts` failed attempts (attempts >= 1)."""
        exponent = max(0, attempts - 1)
        # Bound the exponent so 2**n never overflows a float for absurd attempt counts.
        return min(self.cap_seconds, self.base_seconds * (2.0 ** min(exponent, 60)))

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        d = self.step(attempts)
        return d / 2 + (rng or random).uniform(0.0, d / 2)
