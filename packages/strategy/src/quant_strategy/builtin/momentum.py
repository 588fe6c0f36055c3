"""momentum_v1: long while the fast SMA is above the slow SMA (short instead of flat if allowed)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, model_validator

from quant_domain import Bar, MarketState, Signal
from quant_features import SimpleMovingAverage, ratio_targets, sma_running_cached
from quant_strategy.base import Strategy, StrategyParams
from quant_strategy.position_signals import desired_signal


class SmaCrossoverParams(StrategyParams):
    fast: int = Field(default=20, ge=1, le=1000, description="fast SMA period (bars)")
    slow: int = Field(default=50, ge=2, le=5000, description="slow SMA period (bars)")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self


class _Lane:
    __slots__ = ("fast", "slow")

    def __init__(self, fast: int, slow: int) -> None:
        self.fast = SimpleMovingAverage(fast)
        self.slow = SimpleMovingAverage(slow)


class SmaCrossover(Strategy[SmaCrossoverParams]):
    """Spread = fast/slow - 1. Wants long above `signals.entry`, flat (or short when allowed)
    below -`signals.exit`, and keeps what it holds in between. It signals only when what it
    wants differs from what the account holds, so a restart or a warm-up needs no memory."""

    params_model = SmaCrossoverParams
    vector_reason = "sma crossover"

    def on_start(self) -> None:
        p = self.params
        self._lanes = {symbol: _Lane(p.fast, p.slow) for symbol in self.symbols}
        self._updated: list[str] = []
        self._entry = self.config.signals.entry
        self._exit = self.config.signals.exit
        self._below = -1.0 if self.config.risk.allow_short else 0.0

    @property
    def warmup_bars(self) -> int:
        return self.params.slow

    def on_market_data(self, bar: Bar) -> None:
        lane = self._lanes.get(bar.symbol)
        if lane is None:
            return
        lane.fast.update(bar.close)
        if lane.slow.update(bar.close) is not None:
            self._updated.append(bar.symbol)

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if not self._updated:
            return []
        signals: list[Signal] = []
        held = state.portfolio.position
        for symbol in self._updated:
            lane = self._lanes[symbol]
            fast, slow = lane.fast.value, lane.slow.value
            if fast is None or slow is None:
                continue
            spread = fast / slow - 1.0
            if spread > self._entry:
                want = 1.0
            elif spread < -self._exit:
                want = self._below
            else:
                continue
            signal = desired_signal(symbol, want, held(symbol), state.timestamp, self.vector_reason)
            if signal is not None:
                signals.append(signal)
        self._updated.clear()
        return signals

    def vector_targets(self, symbol: str, frame: pd.DataFrame) -> npt.NDArray[np.float64] | None:
        del symbol  # every symbol follows the same rule on its own bars
        close = frame["close"].to_numpy(dtype=np.float64)
        # cached per period: a sweep over fast x slow computes each SMA once, not once per pair
        fast = sma_running_cached(close, self.params.fast)
        slow = sma_running_cached(close, self.params.slow)
        return ratio_targets(fast, slow, self._entry, self._exit, self._below)

    def indicator_series(self, symbol: str, frame: pd.DataFrame) -> dict[str, pd.Series]:
        """The fast and slow SMAs of the close, as on_market_data computes them bar by bar.

        pandas' rolling mean, not the compiled twin the fast path uses: the same averages to
        ~1e-12, without a numba start-up (over a second) in the process drawing the chart.
        """
        del symbol
        close = frame["close"].astype("float64")
        p = self.params
        return {
            f"SMA {p.fast}": close.rolling(p.fast).mean(),
            f"SMA {p.slow}": close.rolling(p.slow).mean(),
        }
