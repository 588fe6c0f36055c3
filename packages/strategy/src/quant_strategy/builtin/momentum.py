"""momentum_v1: long while the fast SMA is above the slow SMA (short instead of flat if allowed)."""

from __future__ import annotations

from pydantic import Field, model_validator

from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_features import SimpleMovingAverage
from quant_strategy.base import Strategy, StrategyParams


class SmaCrossoverParams(StrategyParams):
    fast: int = Field(default=20, ge=1, le=1000, description="fast SMA period (bars)")
    slow: int = Field(default=50, ge=2, le=5000, description="slow SMA period (bars)")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> SmaCrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self


class _Lane:
    __slots__ = ("fast", "slow", "state")

    def __init__(self, fast: int, slow: int) -> None:
        self.fast = SimpleMovingAverage(fast)
        self.slow = SimpleMovingAverage(slow)
        self.state = 0  # -1 short, 0 flat, 1 long


class SmaCrossover(Strategy[SmaCrossoverParams]):
    """Signals on crossovers only. Thresholds: spread = fast/slow - 1; enter when the spread
    exceeds `signals.entry`, leave when it falls below -`signals.exit`."""

    params_model = SmaCrossoverParams

    def on_start(self) -> None:
        p = self.params
        self._lanes = {symbol: _Lane(p.fast, p.slow) for symbol in self.symbols}
        self._updated: list[str] = []
        self._entry = self.config.signals.entry
        self._exit = self.config.signals.exit
        self._short = self.config.risk.allow_short

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
        for symbol in self._updated:
            lane = self._lanes[symbol]
            fast, slow = lane.fast.value, lane.slow.value
            if fast is None or slow is None:
                continue
            spread = fast / slow - 1.0
            if lane.state <= 0 and spread > self._entry:
                lane.state = 1
                signals.append(
                    Signal(symbol, SignalDirection.LONG, state.timestamp, reason="fast above slow")
                )
            elif lane.state >= 0 and spread < -self._exit:
                if self._short:
                    lane.state = -1
                    direction = SignalDirection.SHORT
                elif lane.state == 1:
                    lane.state = 0
                    direction = SignalDirection.FLAT
                else:
                    continue
                signals.append(Signal(symbol, direction, state.timestamp, reason="fast below slow"))
        self._updated.clear()
        return signals
