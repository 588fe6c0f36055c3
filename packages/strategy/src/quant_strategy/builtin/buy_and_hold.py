"""buy_and_hold: the benchmark; buys an equal share of every symbol once and holds."""

from __future__ import annotations

from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_strategy.base import Strategy, StrategyParams


class BuyAndHoldParams(StrategyParams):
    pass


class BuyAndHold(Strategy[BuyAndHoldParams]):
    """Enters each symbol the first time it has a bar, with strength 1/len(universe)."""

    params_model = BuyAndHoldParams

    def on_start(self) -> None:
        self._pending: list[str] = []
        self._entered: set[str] = set()

    def on_market_data(self, bar: Bar) -> None:
        if bar.symbol not in self._entered and bar.symbol in self.symbols:
            self._entered.add(bar.symbol)
            self._pending.append(bar.symbol)

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if not self._pending:
            return []
        weight = 1.0 / len(self.symbols)
        signals = [
            Signal(
                symbol,
                SignalDirection.LONG,
                state.timestamp,
                strength=weight,
                reason="buy and hold",
            )
            for symbol in self._pending
        ]
        self._pending.clear()
        return signals
