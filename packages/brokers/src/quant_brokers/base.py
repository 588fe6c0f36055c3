"""What every broker adapter shares: the reconnect schedule and the settings' secret handling."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Exponential reconnect delays with full jitter, reset after a healthy connection.

    The vendors' own loops retry at once (alpaca-py's stream sleeps 10 ms between attempts and
    hammers the server into 429s); ours waits `base * 2**attempt` seconds at most, capped at
    `cap`, drawn uniformly so that many runners do not reconnect in step.
    """

    base: float = 0.5
    cap: float = 30.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(self) -> float:
        """The wait before the next attempt (and count the attempt)."""
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return self.rng.uniform(0.0, ceiling)

    def reset(self) -> None:
        """The link is healthy again: the next failure starts from `base`."""
        self.attempt = 0
