"""Where an order fills inside a bar: pure functions of the order and the bar's prices.

Reference prices (before slippage): market orders at the close of the signal bar, or the next
bar's open; limit orders at the limit, or the open when the bar gaps through it; stop orders at
the stop, or the open when the bar gaps through it. Slippage then moves every price against the
trader by `slippage_bps` (limit fills included, capped so a limit is never breached).
"""

from __future__ import annotations

from quant_domain import OrderSide, OrderType

_NO_FILL = -1.0


def limit_reference(buy: bool, limit: float, open_: float, high: float, low: float) -> float:
    """Fill price of a working limit order on this bar, or -1.0 when the range never reaches it."""
    if buy:
        if low > limit:
            return _NO_FILL
        return open_ if open_ <= limit else limit
    if high < limit:
        return _NO_FILL
    return open_ if open_ >= limit else limit


def stop_triggered(buy: bool, stop: float, high: float, low: float) -> bool:
    return high >= stop if buy else low <= stop


def stop_reference(buy: bool, stop: float, open_: float) -> float:
    """Fill price of a triggered stop: the stop, or the open when the bar gapped past it."""
    if buy:
        return open_ if open_ >= stop else stop
    return open_ if open_ <= stop else stop


def slipped(price: float, buy: bool, slippage: float) -> float:
    """Price moved against the trader by the fraction `slippage`."""
    return price * (1.0 + slippage) if buy else price * (1.0 - slippage)


def working_reference(
    order_type: OrderType,
    side: OrderSide,
    limit: float,
    stop: float,
    triggered: bool,
    open_: float,
    high: float,
    low: float,
) -> tuple[float, bool]:
    """(reference price or -1.0, triggered-now) for a limit/stop/stop-limit order on one bar.

    A stop-limit whose stop triggers becomes a limit order at once; it fills on the same bar when
    the limit is reachable after the trigger (the open when it gapped inside the limit, else the
    stop price if that is within the limit), otherwise it keeps working as a limit order.
    """
    buy = side is OrderSide.BUY
    if order_type is OrderType.LIMIT:
        return limit_reference(buy, limit, open_, high, low), False
    if order_type is OrderType.STOP:
        if stop_triggered(buy, stop, high, low):
            return stop_reference(buy, stop, open_), True
        return _NO_FILL, False
    # stop-limit
    if not triggered:
        if not stop_triggered(buy, stop, high, low):
            return _NO_FILL, False
        start = stop_reference(buy, stop, open_)
        within = start <= limit if buy else start >= limit
        return (start if within else _NO_FILL), True
    return limit_reference(buy, limit, open_, high, low), True
