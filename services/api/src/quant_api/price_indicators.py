"""The run's strategy's own indicators over a symbol's bars, sampled like the price chart's bars.

The strategy is built from the run's stored config and params (quant_strategy), fed every bar the
run read (its warm-up bars included), and only then sampled: an indicator is never computed on
merged bars. Bars are bucketed as price_bars.bucketed does (bar k of n goes to k * B // n) and
each bucket shows the indicator at its last bar, where its candle closes.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import ValidationError

from quant_api.schemas.v1.prices import IndicatorLine, IndicatorPoint
from quant_domain import ConfigError
from quant_strategy import StrategyConfig, build_strategy


def bucket_bounds(n: int, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each bucket's first and last bar, for n bars in `buckets` buckets."""
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    bucket = np.arange(n, dtype=np.int64) * buckets // n
    last = np.flatnonzero(np.diff(bucket, append=bucket[-1] + 1))
    first = np.concatenate(([0], last[:-1] + 1))
    return first, last


def indicator_lines(
    config: dict[str, object],
    symbol: str,
    frame: pd.DataFrame,
    start: datetime | None,
    buckets: int,
) -> tuple[list[IndicatorLine], str | None]:
    """The strategy's indicators on `frame` (warm-up rows before `start` included), sampled.

    Returns the lines and, when there are none although there might have been, why.
    """
    try:
        strategy = build_strategy(StrategyConfig.model_validate(config))
    except (ConfigError, ValidationError) as exc:
        return [], f"the run's strategy could not be built to draw its indicators: {exc}"
    drawn = strategy.indicator_series(symbol, frame)
    if not drawn:
        return [], None
    shown = frame.index >= start if start is not None else np.ones(len(frame), dtype=bool)
    stamps = pd.DatetimeIndex(frame.index[shown])
    first, last = bucket_bounds(len(stamps), buckets)
    times = stamps[first].to_pydatetime()
    lines = []
    for name, series in drawn.items():
        values = series.reindex(frame.index).to_numpy(dtype=np.float64)[shown][last]
        lines.append(
            IndicatorLine(
                name=str(name),
                points=[
                    IndicatorPoint(ts=ts, value=value)
                    for ts, value in zip(times, values.tolist(), strict=True)
                    if math.isfinite(value)
                ],
            )
        )
    return lines, None
