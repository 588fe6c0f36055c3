"""Strategies that record what data each run saw, for window-boundary tests."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field

from quant_domain import Bar, MarketState, Signal
from quant_strategy import Strategy, StrategyParams
from quant_strategy.position_signals import desired_signal


class LookbackParams(StrategyParams):
    lookback: int = Field(default=5, ge=1)


class RecordingMomentum(Strategy[LookbackParams]):
    """Long while the close is above the close `lookback` bars ago; records each run's last bar."""

    params_model = LookbackParams
    last_seen: ClassVar[list[pd.Timestamp]] = []

    def on_start(self) -> None:
        self.closes: list[float] = []
        self.last_seen.append(pd.Timestamp.min.tz_localize("UTC"))
        self.slot = len(self.last_seen) - 1

    @property
    def warmup_bars(self) -> int:
        return self.params.lookback

    def on_market_data(self, bar: Bar) -> None:
        self.closes.append(bar.close)
        self.last_seen[self.slot] = pd.Timestamp(bar.timestamp)

    def generate_signals(self, state: MarketState) -> list[Signal]:
        n = self.params.lookback
        if len(self.closes) <= n:
            return []
        want = 1.0 if self.closes[-1] > self.closes[-1 - n] else 0.0
        symbol = self.symbols[0]
        signal = desired_signal(
            symbol, want, state.portfolio.position(symbol), state.timestamp, "rec"
        )
        return [] if signal is None else [signal]


class RecordingFastMomentum(RecordingMomentum):
    """The same rule with a vector form, recording the last row of every frame it is handed."""

    def vector_targets(self, symbol: str, frame: pd.DataFrame) -> npt.NDArray[np.float64] | None:
        self.last_seen[self.slot] = max(self.last_seen[self.slot], frame.index[-1])
        close = frame["close"].to_numpy()
        n = self.params.lookback
        want = np.full(close.size, np.nan)
        want[n:] = np.where(close[n:] > close[:-n], 1.0, 0.0)
        return want
