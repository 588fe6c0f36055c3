"""Timestamps and timeframes: every timestamp is timezone-aware UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from quant_domain.errors import ConfigError


def ensure_utc(ts: datetime) -> datetime:
    """Return `ts` in UTC; naive datetimes are refused rather than guessed."""
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        raise ValueError(f"timestamp {ts.isoformat()} has no timezone; pass a UTC-aware datetime")
    return ts.astimezone(UTC)


class TimeUnit(StrEnum):
    MINUTE = "m"
    HOUR = "h"
    DAY = "d"
    WEEK = "w"


_UNIT_SECONDS = {
    TimeUnit.MINUTE: 60,
    TimeUnit.HOUR: 3600,
    TimeUnit.DAY: 86400,
    TimeUnit.WEEK: 604800,
}
_TIMEFRAME_RE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")


@dataclass(frozen=True, slots=True)
class Timeframe:
    """A bar length such as 1m, 5m, 1h, 1d or 1w."""

    amount: int
    unit: TimeUnit

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        match = _TIMEFRAME_RE.match(text.lower())
        if match is None or int(match.group(1)) <= 0:
            raise ConfigError(
                f"invalid timeframe {text!r}; use a positive count and a unit m, h, d or w (e.g. 1d, 1h)"
            )
        return cls(int(match.group(1)), TimeUnit(match.group(2)))

    @property
    def seconds(self) -> int:
        return self.amount * _UNIT_SECONDS[self.unit]

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    @property
    def is_intraday(self) -> bool:
        return self.seconds < 86400

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def utc_now() -> datetime:
    return datetime.now(UTC)
