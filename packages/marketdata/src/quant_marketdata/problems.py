"""Validation problems: one finding about one bar (or one missing bar) of one symbol."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Check(StrEnum):
    """What a problem is about; the structural ones make `get_bars` refuse the data."""

    UNREADABLE = "unreadable"
    MISSING_VALUE = "missing_value"
    NON_POSITIVE_PRICE = "non_positive_price"
    HIGH_BELOW_LOW = "high_below_low"
    OHLC_INCONSISTENT = "ohlc_inconsistent"
    NEGATIVE_VOLUME = "negative_volume"
    DUPLICATE_TIMESTAMP = "duplicate_timestamp"
    UNORDERED_TIMESTAMP = "unordered_timestamp"
    MISSING_SESSION = "missing_session"
    NON_SESSION_BAR = "non_session_bar"

    @property
    def is_structural(self) -> bool:
        """True for checks no usable bar series may fail (calendar gaps are only reported)."""
        return self not in (Check.MISSING_SESSION, Check.NON_SESSION_BAR)


@dataclass(frozen=True, slots=True)
class ValidationProblem:
    """One finding: `location` is "file:line" when the bar came from a file."""

    symbol: str
    check: Check
    timestamp: datetime | None
    location: str | None
    detail: str

    def __str__(self) -> str:
        where = self.location or self.symbol
        return f"{where} {self.check.value}: {self.detail}"
