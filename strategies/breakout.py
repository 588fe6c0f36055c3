"""Breakout: long while the close is above its moving average, flat below it."""

from pydantic import Field

from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_features import SimpleMovingAverage
from quant_strategy import Strategy, StrategyParams


class BreakoutParams(StrategyParams):
    window: int = Field(default=20, ge=2, description="bars in the moving average")


class Breakout(Strategy[BreakoutParams]):
    params_model = BreakoutParams

    def on_start(self) -> None:  # called by initialize(config)
        self.sma = SimpleMovingAverage(self.params.window)
        self.last = 0.0
        self.side = SignalDirection.FLAT

    def on_market_data(self, bar: Bar) -> None:  # each completed bar, never a later one
        self.last = bar.close
        self.sma.update(bar.close)

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if self.sma.value is None:
            return []
        side = SignalDirection.LONG if self.last > self.sma.value else SignalDirection.FLAT
        if side is self.side:  # signal changes only: a repeated LONG
            return []  # would re-size the position every bar
        self.side = side
        return [Signal(self.symbols[0], side, state.timestamp)]
