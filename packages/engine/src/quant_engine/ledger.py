"""The account ledger: Decimal cash and positions changed only by fills, float mirrors for speed."""

from __future__ import annotations

from decimal import Decimal

from quant_domain import Fill, Position
from quant_domain.money import to_decimal


class Ledger:
    """Cash and positions in Decimal, owned by the trading loop; strategies read it through the
    read-only PortfolioReader (quant_engine.portfolio), never this object.

    Floats mirror the Decimal state (`cash`, `position()`) so the per-bar loop never does Decimal
    arithmetic; they are refreshed from the Decimal values after every fill, so they cannot drift.
    """

    def __init__(self, symbols: list[str], initial_cash: Decimal) -> None:
        self.symbols = symbols
        self.index = {s: k for k, s in enumerate(symbols)}
        self.cash_dec = initial_cash
        self.fees_dec = Decimal(0)
        self.positions = {s: Position(s) for s in symbols}
        self.cash = float(initial_cash)  # the float mirror of cash_dec, read once per step
        self.qty = [0.0] * len(symbols)
        self.last = [0.0] * len(symbols)
        self.held: list[int] = []
        self.booked = 0  # fills applied so far: the engine's cue that the account changed

    # the floats a PortfolioReader shows --------------------------------------------------------
    @property
    def equity(self) -> float:
        value = self.cash
        for k in self.held:
            value += self.qty[k] * self.last[k]
        return value

    def position(self, symbol: str) -> float:
        k = self.index.get(symbol)
        return 0.0 if k is None else self.qty[k]

    def price(self, symbol: str) -> float:
        k = self.index.get(symbol)
        return 0.0 if k is None else self.last[k]

    def held_symbols(self) -> list[str]:
        return [self.symbols[k] for k in self.held]

    # accounting ----------------------------------------------------------------------------
    def positions_value(self) -> float:
        value = 0.0
        for k in self.held:
            value += self.qty[k] * self.last[k]
        return value

    def gross_value(self) -> float:
        value = 0.0
        for k in self.held:
            value += abs(self.qty[k] * self.last[k])
        return value

    def apply(self, fill: Fill) -> Decimal:
        """Book a fill: cash moves by its cash change, the position by its quantity."""
        position = self.positions[fill.symbol]
        realized = position.apply(fill)
        self.booked += 1
        self.cash_dec += fill.cash_change
        self.fees_dec += fill.commission
        self.cash = float(self.cash_dec)
        k = self.index[fill.symbol]
        self.qty[k] = float(position.quantity)
        if position.quantity == 0:
            if k in self.held:
                self.held.remove(k)
        elif k not in self.held:
            self.held.append(k)
        return realized

    def equity_decimal(self) -> Decimal:
        """Exact equity at the last prices: Decimal cash plus each position at its last close."""
        total = self.cash_dec
        for symbol, position in self.positions.items():
            if position.quantity:
                total += position.quantity * to_decimal(self.last[self.index[symbol]])
        return total
