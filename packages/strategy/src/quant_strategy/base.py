"""The Strategy ABC: one class serves backtest, paper and live; only the engine around it changes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from quant_domain import Bar, Fill, MarketState, Order, PortfolioView, Signal
from quant_domain.errors import first_validation_error
from quant_strategy.config import StrategyConfig
from quant_strategy.sizing import signals_to_orders


class StrategyParams(BaseModel):
    """Base of every strategy's typed parameters: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(frozen=True, extra="forbid")


P = TypeVar("P", bound=StrategyParams)


class Strategy(ABC, Generic[P]):
    """Subclass this, set `params_model`, and implement on_market_data and generate_signals.

    Per step the engine calls, in order: on_market_data(bar) for every symbol with a bar at that
    time, generate_signals(state) once, risk_check(signals, portfolio) when there are signals,
    on_fill(fill) for each execution, and daily_close() after the last bar of each trading
    session (the exchange calendar's, ADR 0025). A strategy never touches a data source,
    database or broker: it sees bars, a read-only portfolio and fills. Whatever risk_check
    returns then passes the engine's risk gate, which a strategy cannot override (ADR 0023).
    """

    params_model: ClassVar[type[StrategyParams]] = StrategyParams
    vector_reason: ClassVar[str] = ""
    """The reason every signal of this strategy carries, when it has vector_targets: the
    compiled run gives its orders this reason, as the strategy's own signals would."""

    def __init__(self) -> None:
        self._config: StrategyConfig | None = None
        self._params: P | None = None

    @property
    def config(self) -> StrategyConfig:
        if self._config is None:
            raise RuntimeError(f"{type(self).__name__} used before initialize(config)")
        return self._config

    @property
    def params(self) -> P:
        if self._params is None:
            raise RuntimeError(f"{type(self).__name__} used before initialize(config)")
        return self._params

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def symbols(self) -> list[str]:
        return self.config.universe

    def initialize(self, config: StrategyConfig) -> None:
        """Validate `config.params` against `params_model`, then set up state in on_start()."""
        self._config = config
        self._params = cast(P, self.parse_params(config))
        self.on_start()

    @classmethod
    def parse_params(cls, config: StrategyConfig) -> StrategyParams:
        try:
            return cls.params_model.model_validate(config.params)
        except ValidationError as exc:
            path, message = first_validation_error(
                exc, prefix=("params",), unknown="unknown parameter", missing=None
            )
            raise config.error(path, message) from None

    def on_start(self) -> None:
        """Create indicators and per-run state; called by initialize()."""

    @property
    def warmup_bars(self) -> int:
        """Bars a symbol needs before the strategy can signal; 0 unless a subclass says more."""
        return 0

    @abstractmethod
    def on_market_data(self, bar: Bar) -> None:
        """Take in one completed bar (update indicators); must not look at anything later."""

    @abstractmethod
    def generate_signals(self, state: MarketState) -> list[Signal]:
        """Return the signals for this step; an empty list means 'no change'."""

    def risk_check(self, signals: list[Signal], portfolio: PortfolioView) -> list[Order]:
        """Turn signals into sized orders within the config's risk caps (override to customise).

        An override decides sizes, not limits: the engine's risk gate still refuses any order
        that breaks the config's caps, recording it REJECTED with the rule's reason.
        """
        return signals_to_orders(
            signals,
            portfolio,
            risk=self.config.risk,
            thresholds=self.config.signals,
            strategy_id=self.config.id,
            budget=self.config.budget,
        )

    def vector_targets(self, symbol: str, frame: pd.DataFrame) -> npt.NDArray[np.float64] | None:
        """Optional fast path: the desired exposure to `symbol` per bar, all at once.

        For strategies whose decision on a symbol depends on that symbol's bars and its held
        position only. Return one value per row of `frame` (the bar frame of `symbol`):
        +s to be long with strength s, -s short, 0.0 flat, NaN "keep what is held". Each value
        may depend only on rows up to and including its own. The engine emits a signal wherever
        the desired sign differs from the held position's sign, which is exactly what a
        position-based `generate_signals` does bar by bar; the parity tests hold the two paths
        to the same fills. The default None means "no fast path: use the event loop".
        """
        del symbol, frame
        return None

    def indicator_series(self, symbol: str, frame: pd.DataFrame) -> dict[str, pd.Series]:
        """Optional: the indicators this strategy decides on, for charts, over a whole bar frame.

        `frame` is `symbol`'s bars (open, high, low, close, volume, by time) as the run read
        them; return one Series per indicator, named as a chart should label it and indexed
        like `frame`, NaN where it is not defined yet. Only indicators on the price's scale
        belong here (they are drawn over the candles). A value may depend only on rows up to
        its own, as in a backtest. The default, no indicators, draws the candles alone.
        """
        del symbol, frame
        return {}

    def on_fill(self, fill: Fill) -> None:
        """React to an execution of one of this strategy's orders."""

    def daily_close(self) -> None:
        """End of a trading day: roll daily state, log, reset counters."""
