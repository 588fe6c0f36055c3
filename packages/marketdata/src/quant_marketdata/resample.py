"""Resampling bars to a coarser timeframe: first open, highest high, lowest low, last close."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from quant_domain import DataError, Timeframe, TimeUnit, ensure_utc
from quant_marketdata.raw_bars import TIMESTAMP
from quant_marketdata.timestamps import MICROS_PER_DAY, MICROS_PER_SECOND

_FIRST_MONDAY_US = 4 * MICROS_PER_DAY
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
    period = target.seconds * MICROS_PER_SECOND
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


def bars_in_range(
    frame: pd.DataFrame,
    native: Timeframe,
    start: datetime | None,
    end: datetime | None,
    timeframe: Timeframe | None = None,
) -> pd.DataFrame:
    """The bars of contract-shaped `frame` in [start, end], resampled when `timeframe` is given.

    When resampling, bars after `end` are left out before aggregating (so no period borrows from
    the future) and periods labelled before `start` are dropped after. Without bounds or
    resampling this is `frame` itself; otherwise slices share its data.

    Raises:
        ValueError: `start` or `end` has no timezone.
        DataError: `timeframe` is finer than `native`, or not a whole multiple of it.
    """
    lower = None if start is None else pd.Timestamp(ensure_utc(start))
    upper = None if end is None else pd.Timestamp(ensure_utc(end))
    if timeframe is not None:
        frame = resample_bars(_between(frame, lower, upper), native, timeframe)
    return _between(frame, lower, upper)


def _between(
    frame: pd.DataFrame, lower: pd.Timestamp | None, upper: pd.Timestamp | None
) -> pd.DataFrame:
    """Rows of time-sorted `frame` with lower <= timestamp <= upper (None: unbounded)."""
    if lower is None and upper is None:
        return frame
    index = pd.DatetimeIndex(frame.index)
    first = 0 if lower is None else int(index.searchsorted(lower, side="left"))
    last = len(index) if upper is None else int(index.searchsorted(upper, side="right"))
    return frame.iloc[first:last]
