"""Strategies that are wrong on purpose, for testing the look-ahead check."""

from __future__ import annotations

import random
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_strategy import Strategy, StrategyParams
from quant_strategy.base import P


class NoParams(StrategyParams):
    pass


class _NextCloseTrader(Strategy[P]):
    """Long when tomorrow's close is above today's, flat otherwise; where tomorrow comes from is
    up to the subclass (`_history`)."""

    @abstractmethod
    def _history(self, symbol: str) -> pd.DataFrame:
        """The symbol's whole history, tomorrow included: each subclass cheats its own way."""

    def on_start(self) -> None:
        self._next_close: dict[str, dict[pd.Timestamp, float]] = {}
        for symbol in self.symbols:
            frame = self._history(symbol)
            upcoming = np.append(frame["close"].to_numpy()[1:], np.nan)
            self._next_close[symbol] = dict(zip(frame.index, upcoming.tolist(), strict=True))
        self._today: dict[str, float] = {}
        self._long: set[str] = set()

    def on_market_data(self, bar: Bar) -> None:
        self._today[bar.symbol] = bar.close

    def generate_signals(self, state: MarketState) -> list[Signal]:
        signals = []
        for symbol, close in self._today.items():
            tomorrow = self._next_close[symbol].get(pd.Timestamp(state.timestamp), float("nan"))
            if np.isnan(tomorrow):
                continue
            want_long = tomorrow > close
            if want_long != (symbol in self._long):
                self._long.symmetric_difference_update({symbol})
                direction = SignalDirection.LONG if want_long else SignalDirection.FLAT
                signals.append(Signal(symbol, direction, state.timestamp, reason="peeked"))
        self._today.clear()
        return signals


class PeekingCrossover(_NextCloseTrader[NoParams]):
    """INTENTIONALLY WRONG: long when tomorrow's close is above today's, flat otherwise.

    The engine only ever hands a strategy bars up to now, so this one cheats the way real
    look-ahead bugs do: it reads the whole price history outside the engine, from the class
    attribute `source_frames` (installed with `install_frames`), and looks up the next bar's
    close. The look-ahead check catches it when its `prepare` hook installs each run's bars
    (`quant check-lookahead --prepare tests.biased_strategies:install_frames`).
    """

    params_model = NoParams
    source_frames: ClassVar[dict[str, pd.DataFrame]] = {}

    def _history(self, symbol: str) -> pd.DataFrame:
        if symbol not in self.source_frames:
            raise self.config.error(
                "universe", f"no bars installed for {symbol}; call install_frames first"
            )
        return self.source_frames[symbol]


class FileParams(StrategyParams):
    folder: str


class FileOracle(_NextCloseTrader[FileParams]):
    """INTENTIONALLY WRONG: reads tomorrow's close from `<folder>/<symbol>.csv`, a file it loads
    by itself. No `prepare` hook rebuilds that file, so perturbing the engine's bars cannot
    reach it: the look-ahead check must say it did not see this data, and flag the result."""

    params_model = FileParams

    def _history(self, symbol: str) -> pd.DataFrame:
        folder = Path(self.params.folder)
        table = pd.read_csv(folder / f"{symbol}.csv", index_col="timestamp")
        table.index = pd.to_datetime(table.index, utc=True)
        return table


def install_frames(frames: dict[str, pd.DataFrame]) -> None:
    """Give PeekingCrossover the bars of the run about to start (a `prepare` hook)."""
    PeekingCrossover.source_frames = dict(frames)


class UnseededCoinFlip(Strategy[NoParams]):
    """INTENTIONALLY WRONG: flips a coin from OS randomness, so no seed makes two runs agree."""

    params_model = NoParams
    _coin = random.SystemRandom()

    def on_start(self) -> None:
        self._long = False

    def on_market_data(self, bar: Bar) -> None:
        pass

    def generate_signals(self, state: MarketState) -> list[Signal]:
        if self._coin.random() < 0.5:
            return []
        self._long = not self._long
        direction = SignalDirection.LONG if self._long else SignalDirection.FLAT
        return [Signal(self.symbols[0], direction, state.timestamp, reason="coin")]
