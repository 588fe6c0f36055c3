"""Signals: what a strategy thinks, before sizing turns it into orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SignalDirection(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"

    @property
    def sign(self) -> int:
        return {"long": 1, "short": -1, "flat": 0}[self.value]


@dataclass(frozen=True, slots=True)
class Signal:
    """Desired exposure to `symbol`: direction and strength (0..1 of the sizing budget)."""

    symbol: str
    direction: SignalDirection
    timestamp: datetime
    strength: float = 1.0
    reason: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"signal strength must be within 0..1, got {self.strength}")
