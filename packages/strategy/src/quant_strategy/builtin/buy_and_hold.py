"""buy_and_hold: the benchmark; holds an equal share of every symbol."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_domain import Bar, MarketState, Signal
from quant_strategy.base import Strategy, StrategyParams
from quant_strategy.position_signals import desired_signal


class BuyAndHoldParams(StrategyParams):
    pass


class BuyAndHold(Strategy[BuyAndHoldParams]):
    """Wants every symbol long with strength 1/len(universe); buys any it has a bar for and does
    not hold yet (so a symbol whose data starts later is bought when it starts)."""

    params_model = BuyAndHoldParams
    vector_reason = "buy and hold"

    def on_start(self) -> None:
        self._seen: list[str] = []
        self._weight = 1.0 / len(self.symbols)

    def on_market_data(self, bar: Bar) -> None:
        self._seen.append(bar.symbol)

    def generate_signals(self, state: MarketState) -> list[Signal]:
        held = state.portfolio.position
        signals = []
        for symbol in self._seen:
            signal = desired_signal(
                symbol, self._weight, held(symbol), state.timestamp, self.vector_reason
            )
            if signal is not None:
                signals.append(signal)
        self._seen.clear()
        return signals

    def vector_targets(self, symbol: str, frame: pd.DataFrame) -> npt.NDArray[np.float64] | None:
        del symbol
        return np.full(len(frame), self._weight)
