"""Positions: signed holdings per symbol, changed only by fills."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quant_domain.fills import Fill
from quant_domain.money import ZERO


@dataclass(slots=True)
class Position:
    """Signed quantity (negative = short) at an average entry price, plus realised PnL.

    Realised PnL here is gross of commissions; commissions are booked to cash by the ledger.
    """

    symbol: str
    quantity: Decimal = ZERO
    avg_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO

    def apply(self, fill: Fill) -> Decimal:
        """Book `fill` into the position and return the gross PnL it realised."""
        if fill.symbol != self.symbol:
            raise ValueError(f"fill for {fill.symbol} applied to position in {self.symbol}")
        delta = fill.signed_quantity
        old = self.quantity
        new = old + delta
        realized = ZERO
        if old == 0 or (old > 0) == (delta > 0):
            # opening or adding: the average price moves
            self.avg_price = (abs(old) * self.avg_price + abs(delta) * fill.price) / abs(new)
        else:
            closed = min(abs(delta), abs(old))
            direction = 1 if old > 0 else -1
            realized = closed * (fill.price - self.avg_price) * direction
            if new == 0:
                self.avg_price = ZERO
            elif (new > 0) != (old > 0):
                # flipped through zero: the remainder opened at the fill price
                self.avg_price = fill.price
        self.quantity = new
        self.realized_pnl += realized
        return realized

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    def market_value(self, price: Decimal) -> Decimal:
        return self.quantity * price
