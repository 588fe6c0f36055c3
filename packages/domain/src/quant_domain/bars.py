"""Price bars of any timeframe."""

from __future__ import annotations

import math
from datetime import datetime
from typing import NamedTuple

from quant_domain.errors import DataQualityError


class Bar(NamedTuple):
    """One OHLCV bar, labelled by `timestamp` (UTC) as the vendor labels it.

    Daily bars carry their session date at 00:00 UTC, intraday bars their open time. The engine
    hands a bar to a strategy only once it is complete, so at step t a strategy has seen bars up to
    and including t and nothing later.

    A tuple on purpose: the engine builds one per symbol per step, and a tuple is the cheapest
    immutable record CPython offers. Prices are float64 as every data vendor delivers them; the
    ledger converts to Decimal when an order fills (see docs/adr/0004-numbers-float-and-decimal.md).
    """

    symbol: str
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    @classmethod
    def checked(
        cls,
        symbol: str,
        timestamp: datetime,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float = 0.0,
    ) -> Bar:
        """Build a bar, refusing values no real market produces."""
        if timestamp.tzinfo is None:
            raise DataQualityError(f"{symbol} bar at {timestamp}: timestamp has no timezone")
        values = (open, high, low, close)
        if any(not math.isfinite(v) or v <= 0 for v in values):
            raise DataQualityError(f"{symbol} bar at {timestamp}: prices must be finite and > 0")
        if high < max(open, close, low) or low > min(open, close):
            raise DataQualityError(
                f"{symbol} bar at {timestamp}: high/low do not contain open and close"
            )
        if not math.isfinite(volume) or volume < 0:
            raise DataQualityError(f"{symbol} bar at {timestamp}: volume must be >= 0")
        return cls(symbol, timestamp, open, high, low, close, volume)
