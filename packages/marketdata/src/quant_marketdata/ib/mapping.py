"""Translation between ib_async's types and ours: stock contracts out, real-time bars back."""

from __future__ import annotations

from datetime import UTC

from ib_async import RealTimeBar, Stock

from quant_domain import Bar


def stock(symbol: str) -> Stock:
    """A US stock routed SMART in USD, as the real-time bars request names it."""
    return Stock(symbol, "SMART", "USD")


def realtime_bar(symbol: str, bar: RealTimeBar) -> Bar:
    """One 5-second bar, labelled by its start (IB stamps `time` with the bar's first second)."""
    return Bar(
        symbol,
        bar.time.astimezone(UTC),
        float(bar.open_),
        float(bar.high),
        float(bar.low),
        float(bar.close),
        float(bar.volume),
    )
