"""xsec_momentum_v1: every `rebalance_every` steps, hold the top-N symbols by trailing return."""

from __future__ import annotations

from collections import deque

from pydantic import Field, model_validator

from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_strategy.base import Strategy, StrategyParams


class CrossSectionalMomentumParams(StrategyParams):
    lookback: int = Field(
        default=126, ge=2, le=2520, description="bars of trailing return to rank on"
    )
    skip: int = Field(
        default=0, ge=0, le=252, description="most recent bars left out of the ranking"
    )
    top_n: int = Field(default=1, ge=1, le=500, description="how many symbols to hold")
    rebalance_every: int = Field(default=21, ge=1, le=2520, description="steps between rebalances")

    @model_validator(mode="after")
    def _skip_inside_lookback(self) -> CrossSectionalMomentumParams:
        if self.skip >= self.lookback:
            raise ValueError(f"skip ({self.skip}) must be smaller than lookback ({self.lookback})")
        return self


class CrossSectionalMomentum(Strategy[CrossSectionalMomentumParams]):
    """Ranks symbols by close[t - skip] / close[t - lookback] - 1 and holds the best `top_n`
    with equal strength 1/top_n. Absolute filter: a symbol must also have momentum above
    `signals.entry` to be held (cash otherwise). Symbols without enough history are not ranked."""

    params_model = CrossSectionalMomentumParams

    def on_start(self) -> None:
        p = self.params
        if p.top_n > len(self.symbols):
            raise self.config.error(
                "params.top_n", f"top_n ({p.top_n}) exceeds the universe size ({len(self.symbols)})"
            )
        self._history = {s: deque[float](maxlen=p.lookback + 1) for s in self.symbols}
        self._steps = 0

    @property
    def warmup_bars(self) -> int:
        return self.params.lookback + 1

    def on_market_data(self, bar: Bar) -> None:
        history = self._history.get(bar.symbol)
        if history is not None:
            history.append(bar.close)

    def _scores(self, state: MarketState) -> dict[str, float]:
        p = self.params
        scores: dict[str, float] = {}
        for symbol, history in self._history.items():
            if len(history) <= p.lookback or symbol not in state.bars:
                continue
            recent = history[-1 - p.skip]
            scores[symbol] = recent / history[0] - 1.0
        return scores

    def generate_signals(self, state: MarketState) -> list[Signal]:
        self._steps += 1
        p = self.params
        if (self._steps - 1) % p.rebalance_every != 0:
            return []
        scores = self._scores(state)
        if not scores:
            return []
        ranked = sorted(scores, key=lambda s: (-scores[s], s))
        chosen = [s for s in ranked[: p.top_n] if scores[s] > self.config.signals.entry]
        weight = 1.0 / p.top_n
        ts = state.timestamp
        signals = [
            Signal(
                s, SignalDirection.LONG, ts, strength=weight, reason=f"rank {ranked.index(s) + 1}"
            )
            for s in chosen
        ]
        held = {s for s in state.portfolio.held_symbols() if s in self._history}
        signals += [
            Signal(s, SignalDirection.FLAT, ts, reason="dropped from top")
            for s in sorted(held - set(chosen))
        ]
        return signals
