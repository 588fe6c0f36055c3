"""Resampling bars to a coarser timeframe: first open, highest high, lowest low, last close."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quant_domain import DataError, Timeframe, TimeUnit
from quant_marketdata.raw_bars import TIMESTAMP

_MICROS_PER_SECOND = 1_000_000
_FIRST_MONDAY_US = 4 * 86_400 * _MICROS_PER_SECOND
"""1970-01-05, the first Monday after the epoch: weekly periods start on Mondays."""


def resample_bars(frame: pd.DataFrame, native: Timeframe, target: Timeframe) -> pd.DataFrame:
    """Aggregate contract-shaped `frame` of `native` bars into `target` bars.

    Periods are fixed lengths counted from the Unix epoch (weeks from a Monday) and labelled by
    their start, so daily periods are dates at 00:00 UTC. Periods without bars are left out.

    Raises:
        DataError: `target` is finer than `native`, or not a whole multiple of it.
    """
    if target.seconds == native.seconds:
        return frame
    if target.seconds < native.seconds:
        raise DataError(
            f"cannot resample {native} bars to the finer timeframe {target}; "
            f"ask for {native} or coarser"
        )
    if target.seconds % native.seconds:
        raise DataError(
            f"cannot resample {native} bars to {target}: {target} is not a whole number of "
            f"{native} bars"
        )
    if frame.empty:
        return frame
    period = target.seconds * _MICROS_PER_SECOND
    origin = _FIRST_MONDAY_US if target.unit is TimeUnit.WEEK else 0
    ticks = pd.DatetimeIndex(frame.index).as_unit("us").asi8
    starts = origin + (ticks - origin) // period * period
    grouped = frame.groupby(starts, sort=True)
    result = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
        }
    )
    labels = np.asarray(result.index.to_numpy(dtype=np.int64), dtype="datetime64[us]")
    result.index = pd.DatetimeIndex(labels).tz_localize("UTC").rename(TIMESTAMP)
    return result.astype(np.float64)
