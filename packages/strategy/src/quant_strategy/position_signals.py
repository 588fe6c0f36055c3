"""Position-based signalling: say what you want only when the account holds something else."""

from __future__ import annotations

from datetime import datetime

from quant_domain import Signal, SignalDirection


def direction_of(value: float) -> SignalDirection:
    if value > 0:
        return SignalDirection.LONG
    if value < 0:
        return SignalDirection.SHORT
    return SignalDirection.FLAT


def desired_signal(
    symbol: str, want: float, held: float, timestamp: datetime, reason: str
) -> Signal | None:
    """A signal towards `want` (+s long, -s short, 0 flat) unless the position already has its sign.

    Comparing signs, not sizes, keeps a strategy from re-sizing every bar as equity moves; the
    vectorised fast path applies the same rule, which is what makes the two paths agree.
    """
    wanted = direction_of(want)
    if wanted is direction_of(held):
        return None
    strength = abs(want) if want else 1.0
    return Signal(symbol, wanted, timestamp, strength=min(strength, 1.0), reason=reason)
