"""Compiled (numba) twins of the incremental indicators, equal to them bit for bit.

The vectorised fast path must reach exactly the decisions the event loop reaches, so these
replay the incremental classes' arithmetic in the same order instead of using numpy's
(differently rounded) window means.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import numpy.typing as npt
from numba import njit

from quant_features.rolling import RESUM_EVERY

FloatArray = npt.NDArray[np.float64]


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
        _sma_running(np.ascontiguousarray(values, dtype=np.float64), period, RESUM_EVERY),
        dtype=np.float64,
    )


class _SmaCache:
    """Recently computed running SMAs, so a parameter sweep computes each period once.

    Keyed by the price buffer's address, length and the period. Each entry keeps a reference to
    its price array, so the buffer cannot be freed and its address reused while the entry lives;
    price arrays are treated as read-only, as bar frames are everywhere in the platform.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[tuple[int, int, int], tuple[FloatArray, FloatArray]] = (
            OrderedDict()
        )

    def get(self, values: FloatArray, period: int) -> FloatArray:
        key = (values.ctypes.data, values.size, period)
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit[1]
        result = sma_running(values, period)
        result.setflags(write=False)
        self.entries[key] = (values, result)
        self.bytes += result.nbytes
        while self.bytes > self.max_bytes and len(self.entries) > 1:
            _, (_, dropped) = self.entries.popitem(last=False)
            self.bytes -= dropped.nbytes
        return result


_SMA_CACHE = _SmaCache(max_bytes=64 * 2**20)


def clear_sma_cache() -> None:
    """Forget every cached SMA (benchmarks call this between repeats)."""
    _SMA_CACHE.entries.clear()
    _SMA_CACHE.bytes = 0


def sma_running_cached(values: FloatArray, period: int) -> FloatArray:
    """sma_running, remembered for the last 64 MB of results (read-only arrays)."""
    return _SMA_CACHE.get(np.ascontiguousarray(values, dtype=np.float64), period)


@njit(cache=True)
def _ratio_targets(
    fast: FloatArray, slow: FloatArray, entry: float, exit_: float, below: float
) -> FloatArray:
    out = np.empty(fast.size)
    low = -exit_
    for t in range(fast.size):
        spread = fast[t] / slow[t] - 1.0
        # selects rather than branches, so the loop vectorises; NaN inputs compare false -> NaN
        value = below if spread < low else np.nan
        out[t] = 1.0 if spread > entry else value
    return out


def ratio_targets(
    fast: FloatArray, slow: FloatArray, entry: float, exit_: float, below: float
) -> FloatArray:
    """Per bar: 1.0 when fast/slow - 1 > entry, `below` when < -exit_, NaN (keep) otherwise."""
    return np.asarray(_ratio_targets(fast, slow, entry, exit_, below), dtype=np.float64)
