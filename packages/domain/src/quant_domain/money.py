"""Decimal helpers: how floats from market data become exact amounts in the ledger."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """Exact Decimal for `value`; floats go through their shortest repr (1234.56 -> '1234.56')."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot convert non-finite value {value!r} to Decimal")
        return Decimal(repr(value))
    return Decimal(value)


def to_cents(value: Decimal) -> Decimal:
    """Round half-up to whole cents, as brokers bill commissions."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
