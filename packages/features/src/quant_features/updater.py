"""The live path: a feature set updated bar by bar, equal to compute_features to 1e-9."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_features.feature_sets import FeatureSet
from quant_features.incremental import UPDATERS, Bar
from quant_features.panel import cross_rank
from quant_features.specs import CrossRank

FloatArray = npt.NDArray[np.float64]
OHLCV = tuple[float, float, float, float, float]


class FeatureUpdater:
    """Per-symbol incremental state for one feature set.

    `update` takes the bars that closed at one timestamp (any subset of the symbols) and returns
    each symbol's feature row. A restart rebuilds the state with `warm_up` from the stored bars
    (every bar from each symbol's first, as the batch path reads them), then goes on live.
    """

    def __init__(self, feature_set: FeatureSet) -> None:
        self.feature_set = feature_set
        self.columns = feature_set.columns
        self._states: dict[str, list[Any]] = {}
        self._ranks = [
            (self.columns.index(spec.columns()[0]), self.columns.index(spec.of))
            for spec in feature_set.features
            if isinstance(spec, CrossRank)
        ]

    def _state(self, symbol: str) -> list[Any]:
        state = self._states.get(symbol)
        if state is None:
            state = [UPDATERS[spec.kind](spec) for spec in self.feature_set.features]
            self._states[symbol] = state
        return state

    def update(self, timestamp: datetime, bars: Mapping[str, OHLCV]) -> dict[str, FloatArray]:
        """Feed the bars closed at `timestamp`; the feature row of each symbol given."""
        rows: dict[str, FloatArray] = {}
        for symbol, (open_, high, low, close, volume) in bars.items():
            bar: Bar = (timestamp, open_, high, low, close, volume)
            values: list[float] = []
            for updater in self._state(symbol):
                values.extend(updater.update(bar))
            rows[symbol] = np.array(values, dtype=np.float64)
        if self._ranks and rows:
            symbols = list(rows)
            stamps = pd.Index([timestamp] * len(symbols))
            for target, source in self._ranks:
                column = pd.Series([rows[s][source] for s in symbols], dtype=np.float64)
                ranked = cross_rank(column, stamps).to_numpy()
                for symbol, value in zip(symbols, ranked, strict=True):
                    rows[symbol][target] = value
        return rows

    def warm_up(self, bars: pd.DataFrame) -> pd.DataFrame:
        """Replay `bars` (indexed by (symbol, timestamp)) in time order; the rows produced."""
        return self.replay(bars)

    def replay(self, bars: pd.DataFrame) -> pd.DataFrame:
        """Feed every timestamp of `bars` in order and collect the rows, indexed like `bars`."""
        ordered = bars.reorder_levels(["timestamp", "symbol"]).sort_index()
        values = ordered[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64)
        stamps = ordered.index.get_level_values("timestamp")
        symbols = ordered.index.get_level_values("symbol")
        out = np.empty((len(ordered), len(self.columns)))
        start = 0
        for end in _group_ends(stamps):
            batch = {symbols[i]: _ohlcv(values[i]) for i in range(start, end)}
            rows = self.update(stamps[start].to_pydatetime(), batch)
            for i in range(start, end):
                out[i] = rows[symbols[i]]
            start = end
        frame = pd.DataFrame(out, index=ordered.index, columns=self.columns)
        return frame.reorder_levels(["symbol", "timestamp"]).sort_index()


def _ohlcv(row: FloatArray) -> OHLCV:
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]), float(row[4]))


def _group_ends(stamps: pd.Index) -> list[int]:
    ends = [i for i in range(1, len(stamps)) if stamps[i] != stamps[i - 1]]
    return [*ends, len(stamps)]
