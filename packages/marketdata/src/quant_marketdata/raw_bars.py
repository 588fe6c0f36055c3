"""Raw bars: rows as a source stored them, before the contract of `get_bars` is enforced."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quant_domain import Timeframe

BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
"""Columns of every bar frame, all float64, indexed by a UTC DatetimeIndex named "timestamp"."""
TIMESTAMP = "timestamp"
"""The index name of a bar frame, and a raw frame's first column: UTC timestamps (NaT where
unreadable) before float64 BAR_COLUMNS (NaN ditto)."""


@dataclass(frozen=True, slots=True, eq=False)
class RawBars:
    """Bars in stored order with a positional RangeIndex, plus how to point back into the origin.

    Row `i` of a CSV file sits on line `first_line + i` (the header is line 1); parquet files have
    no lines, so their rows are counted from 1 and written "row N".
    """

    frame: pd.DataFrame
    timeframe: Timeframe
    origin: str | None = None
    first_line: int = 2
    row_prefix: str = ""

    def location(self, position: int) -> str | None:
        """Where row `position` (0-based) lives, e.g. "sp500.csv.gz:123"; None without an origin."""
        if self.origin is None:
            return None
        return f"{self.origin}:{self.row_prefix}{self.first_line + position}"

    @property
    def label(self) -> str:
        """The origin when known, else a neutral word for messages."""
        return self.origin if self.origin is not None else "bars"


def to_bar_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """The contract frame for a raw frame that passed the structural checks."""
    index = pd.DatetimeIndex(raw[TIMESTAMP]).as_unit("us").rename(TIMESTAMP)
    data = {column: raw[column].to_numpy(dtype=np.float64) for column in BAR_COLUMNS}
    return pd.DataFrame(data, index=index)


def from_bar_frame(frame: pd.DataFrame, timeframe: Timeframe) -> RawBars:
    """Raw bars for a frame that already follows the contract (e.g. from another source)."""
    stamps = pd.DatetimeIndex(frame.index).as_unit("us")
    data: dict[str, object] = {TIMESTAMP: stamps}
    for column in BAR_COLUMNS:
        data[column] = frame[column].to_numpy(dtype=np.float64)
    return RawBars(pd.DataFrame(data), timeframe)
