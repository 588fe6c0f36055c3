"""Aligns per-symbol bar frames onto one clock: the union of their timestamps."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd


@dataclass(slots=True)
class Timeline:
    """Price columns per symbol (NaN where a symbol has no bar) and per-step calendar facts.

    Columns are `array('d')`: indexing one yields a plain Python float as cheaply as a list does
    (numpy scalar access is several times slower in CPython), at 8 bytes a value instead of 32.
    """

    symbols: list[str]
    index: pd.DatetimeIndex
    times: list[datetime]
    opens: list[array[float]]
    highs: list[array[float]]
    lows: list[array[float]]
    closes: list[array[float]]
    volumes: list[array[float]]
    present: list[list[int]] | None  # None: every symbol has a bar at every step
    day_end: list[bool]  # the step is the last of its trading day (UTC calendar date)

    def __len__(self) -> int:
        return len(self.times)

    @property
    def bar_count(self) -> int:
        if self.present is None:
            return len(self.times) * len(self.symbols)
        return sum(len(p) for p in self.present)

    def has_bar(self, k: int, i: int) -> bool:
        return not math.isnan(self.closes[k][i])


def build_timeline(frames: dict[str, pd.DataFrame]) -> Timeline:
    """Union the frames' indexes (each already in the market-data frame shape) into one clock."""
    if not frames:
        raise ValueError("no bar frames to build a timeline from")
    symbols = list(frames)
    index = pd.DatetimeIndex(frames[symbols[0]].index)
    aligned = all(frames[s].index.equals(index) for s in symbols[1:])
    if not aligned:
        for symbol in symbols[1:]:
            index = index.union(pd.DatetimeIndex(frames[symbol].index))
    if len(index) == 0:
        raise ValueError("the bar frames hold no bars in the requested range")
    columns: dict[str, list[array[float]]] = {
        c: [] for c in ("open", "high", "low", "close", "volume")
    }
    present_matrix = []
    for symbol in symbols:
        frame = frames[symbol] if aligned else frames[symbol].reindex(index)
        for column, store in columns.items():
            store.append(array("d", frame[column].to_numpy(dtype=np.float64).tobytes()))
        if not aligned:
            present_matrix.append(np.isfinite(frame["close"].to_numpy(dtype=np.float64)))
    present: list[list[int]] | None = None
    if not aligned:
        matrix = np.vstack(present_matrix)
        if not matrix.all():
            present = [np.flatnonzero(matrix[:, i]).tolist() for i in range(len(index))]
    times: list[datetime] = list(index.to_pydatetime())
    day_codes = index.normalize().asi8
    ends = np.ones(len(index), dtype=bool)
    ends[:-1] = day_codes[1:] != day_codes[:-1]
    return Timeline(
        symbols=symbols,
        index=index,
        times=times,
        opens=columns["open"],
        highs=columns["high"],
        lows=columns["low"],
        closes=columns["close"],
        volumes=columns["volume"],
        present=present,
        day_end=ends.tolist(),
    )
