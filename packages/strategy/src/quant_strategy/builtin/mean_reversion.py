"""mean_reversion_v1: buy oversold dips below the lower Bollinger band, sell the rebound."""

from __future__ import annotations

import pandas as pd
from pydantic import Field, model_validator

from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_features import BollingerBands, RelativeStrengthIndex
from quant_strategy.base import Strategy, StrategyParams


class MeanReversionParams(StrategyParams):
    rsi_period: int = Field(default=14, ge=2, le=500)
    oversold: float = Field(default=30.0, gt=0, lt=100, description="RSI below this is oversold")
    overbought: float = Field(
        default=70.0, gt=0, lt=100, description="RSI above this is overbought"
    )
    bb_period: int = Field(default=20, ge=2, le=1000)
    bb_width: float = Field(
        default=2.0, gt=0, le=10, description="band width in standard deviations"
    )

    @model_validator(mode="after")
    def _ordered(self) -> MeanReversionParams:
        if self.oversold >= self.overbought:
            raise ValueError(
                f"oversold ({self.oversold}) must be below overbought ({self.overbought})"
            )
        return self


class _Lane:
    __slots__ = ("bands", "close", "rsi")

    def __init__(self, p: MeanReversionParams) -> None:
        self.rsi = RelativeStrengthIndex(p.rsi_period)
        self.bands = BollingerBands(p.bb_period, p.bb_width)
        self.close = 0.0


class MeanReversion(Strategy[MeanReversionParams]):
    """Long when RSI < oversold and the close is below the lower band (minus `signals.entry` as a
    fraction of the band width); flat again when the close regains the middle band or RSI passes
    overbought. With allow_short the mirror image trades the upper band. Decisions read the
    position the account holds, so warm-ups and restarts need no memory of past signals."""

    params_model = MeanReversionParams

    def on_start(self) -> None:
        self._lanes = {symbol: _Lane(self.params) for symbol in self.symbols}
        self._updated: list[str] = []

    @property
    def warmup_bars(self) -> int:
        return max(self.params.rsi_period + 1, self.params.bb_period)

    def on_market_data(self, bar: Bar) -> None:
        lane = self._lanes.get(bar.symbol)
        if lane is None:
            return
        lane.close = bar.close
        lane.rsi.update(bar.close)
        if lane.bands.update(bar.close) and lane.rsi.value is not None:
            self._updated.append(bar.symbol)

    def _decide(self, lane: _Lane, held: float) -> SignalDirection | None:
        """What to do given what the account holds: enter from flat, exit from a position."""
        p = self.params
        rsi = lane.rsi.value
        lower, middle, upper = lane.bands.lower, lane.bands.middle, lane.bands.upper
        if rsi is None or lower is None or middle is None or upper is None:
            return None
        margin = self.config.signals.entry * (upper - lower)
        if held == 0:
            if rsi < p.oversold and lane.close < lower - margin:
                return SignalDirection.LONG
            if self.config.risk.allow_short and rsi > p.overbought and lane.close > upper + margin:
                return SignalDirection.SHORT
            return None
        long_exit = held > 0 and (lane.close >= middle or rsi > p.overbought)
        short_exit = held < 0 and (lane.close <= middle or rsi < p.oversold)
        return SignalDirection.FLAT if long_exit or short_exit else None

    def generate_signals(self, state: MarketState) -> list[Signal]:
        signals: list[Signal] = []
        held = state.portfolio.position
        for symbol in self._updated:
            direction = self._decide(self._lanes[symbol], held(symbol))
            if direction is not None:
                signals.append(Signal(symbol, direction, state.timestamp, reason="rsi/bollinger"))
        self._updated.clear()
        return signals

    def indicator_series(self, symbol: str, frame: pd.DataFrame) -> dict[str, pd.Series]:
        """The Bollinger bands the entries and exits compare the close with (RSI, on another
        scale, is left out of the price chart): pandas' rolling mean and population deviation,
        as BollingerBands computes them bar by bar."""
        del symbol
        p = self.params
        close = frame["close"].astype("float64")
        middle = close.rolling(p.bb_period).mean()
        spread = p.bb_width * close.rolling(p.bb_period).std(ddof=0)
        lower, upper = middle - spread, middle + spread
        label = f"{p.bb_period}, {p.bb_width:g}"
        return {
            f"Bollinger upper ({label})": upper,
            f"Bollinger middle ({label})": middle,
            f"Bollinger lower ({label})": lower,
        }
