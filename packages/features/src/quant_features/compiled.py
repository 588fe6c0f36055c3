"""Compiled (numba) twins of the incremental indicators, equal to them bit for bit.

The vectorised fast path must reach exactly the decisions the event loop reaches, so these
replay the incremental classes' arithmetic in the same order instead of using numpy's
(differently rounded) window means.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]

_RESUM_EVERY = 100_000  # must equal SimpleMovingAverage._RESUM_EVERY


@njit(cache=True)
def _sma_running(values: FloatArray, period: int, resum_every: int) -> FloatArray:
    n = values.size
    out = np.full(n, np.nan)
    buffer = np.zeros(period)
    total = 0.0
    index = 0
    for t in range(n):
        x = values[t]
        total += x - buffer[index]
        buffer[index] = x
        index += 1
        if index == period:
            index = 0
        count = t + 1
        if count < period:
            continue
        if count % resum_every == 0:
            total = 0.0
            for k in range(period):
                total += buffer[k]
        out[t] = total / period
    return out


def sma_running(values: FloatArray, period: int) -> FloatArray:
    """SimpleMovingAverage(period) fed every value, as an array (NaN until the window is full)."""
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    return np.asarray(
        _sma_running(np.ascontiguousarray(values, dtype=np.float64), period, _RESUM_EVERY),
        dtype=np.float64,
    )
