"""Factories for tests: bar frames, strategy configs and a scripted strategy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_strategy import Strategy, StrategyConfig, StrategyParams


def frame(
    closes: Sequence[float],
    *,
    opens: Sequence[float] | None = None,
    highs: Sequence[float] | None = None,
    lows: Sequence[float] | None = None,
    start: str = "2024-01-01",
    freq: str = "D",
) -> pd.DataFrame:
    """A bar frame in the market-data shape; highs/lows default to the open/close envelope."""
    c = np.asarray(closes, dtype=np.float64)
    o = np.asarray(opens if opens is not None else closes, dtype=np.float64)
    h = np.asarray(highs, dtype=np.float64) if highs is not None else np.maximum(o, c)
    lo = np.asarray(lows, dtype=np.float64) if lows is not None else np.minimum(o, c)
    index = pd.date_range(start, periods=len(c), freq=freq, tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": o, "high": h, "low": lo, "close": c, "volume": 1000.0}, index=index
    )


def random_walk(n: int, seed: int = 0, start_price: float = 100.0, freq: str = "D") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = start_price * np.exp(np.cumsum(rng.normal(0.0003, 0.012, n)))
    open_ = close * np.exp(rng.normal(0, 0.004, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
    return frame(close, opens=open_, highs=high, lows=low, freq=freq)


def strategy_config(**overrides: Any) -> StrategyConfig:
    data: dict[str, Any] = {
        "id": "test",
        "class": "tests.factories:ScriptedStrategy",
        "universe": ["TEST"],
        "params": {},
    }
    data.update(overrides)
    return StrategyConfig.model_validate(data)


class ScriptParams(StrategyParams):
    script: dict[int, str] = Field(default_factory=dict, description="step -> long|short|flat")
    symbol_script: dict[int, dict[str, str]] = Field(default_factory=dict)


class ScriptedStrategy(Strategy[ScriptParams]):
    """Emits the signals its script names at each step, and records every bar it saw."""

    params_model = ScriptParams

    def on_start(self) -> None:
        self.step = -1
        self.seen: list[Bar] = []
        self.fills_seen = 0
        self.days_closed = 0

    def on_market_data(self, bar: Bar) -> None:
        self.seen.append(bar)

    def generate_signals(self, state: MarketState) -> list[Signal]:
        self.step += 1
        out = []
        if self.step in self.params.script:
            direction = SignalDirection(self.params.script[self.step])
            out.append(Signal(self.symbols[0], direction, state.timestamp))
        for symbol, word in self.params.symbol_script.get(self.step, {}).items():
            out.append(Signal(symbol, SignalDirection(word), state.timestamp))
        return out

    def on_fill(self, fill: object) -> None:
        self.fills_seen += 1

    def daily_close(self) -> None:
        self.days_closed += 1
