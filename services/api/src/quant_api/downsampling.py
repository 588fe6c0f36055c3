"""Shrink a series for a chart without losing its extremes (a drawdown must stay visible)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt

MIN_POINTS = 2
MAX_POINTS = 10_000


def keep_extremes(values: Sequence[Decimal | float], target: int) -> list[int]:
    """Indices of at most `target` points: per bucket its first, last, min and max, in order.

    The series is cut into `target // 4` equal buckets; keeping each bucket's min and max keeps
    the global min and max. With `target` below 4 only the global min and max (then the first)
    survive. A series no longer than `target` is returned whole.
    """
    n = len(values)
    if n <= target:
        return list(range(n))
    buckets = max(1, target // 4)
    per_bucket = min(4, target)
    kept: set[int] = set()
    for b in range(buckets):
        lo = b * n // buckets
        hi = (b + 1) * n // buckets
        if lo >= hi:
            continue
        span = range(lo, hi)
        low = min(span, key=values.__getitem__)
        high = max(span, key=values.__getitem__)
        chosen: list[int] = []
        for index in (low, high, lo, hi - 1):
            if index not in chosen:
                chosen.append(index)
        kept.update(chosen[:per_bucket])
    return sorted(kept)


def extreme_positions(values: npt.NDArray[np.float64], target: int) -> npt.NDArray[np.intp]:
    """`keep_extremes` over a float array, vectorised: the same positions, ties included.

    For long series (an hourly run's curve, its drawdown, its rolling Sharpe) where the loop
    above would cost tens of milliseconds. `values` must be finite.
    """
    n = int(values.size)
    if n <= target:
        return np.arange(n)
    if target < 4:
        return np.asarray(keep_extremes(values.tolist(), target), dtype=np.intp)
    buckets = target // 4
    edges = np.arange(buckets + 1, dtype=np.int64) * n // buckets
    bucket = np.repeat(np.arange(buckets), np.diff(edges))
    order = np.arange(n)
    # sorted by bucket, then value, then position: each bucket's block starts at its edge and
    # opens with its lowest (highest) value's first occurrence
    lows = np.lexsort((order, values, bucket))[edges[:-1]]
    highs = np.lexsort((order, -values, bucket))[edges[:-1]]
    return np.unique(np.concatenate([lows, highs, edges[:-1], edges[1:] - 1])).astype(np.intp)
