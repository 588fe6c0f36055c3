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


@njit(cache=True)
def _sma_spread(values: FloatArray, fast: int, slow: int, resum_every: int) -> FloatArray:
    n = values.size
    out = np.full(n, np.nan)
    buf_f = np.zeros(fast)
    buf_s = np.zeros(slow)
    sum_f = 0.0
    sum_s = 0.0
    i_f = 0
    i_s = 0
    countdown = resum_every  # a countdown instead of count % resum_every: no division per bar
    for t in range(n):
        x = values[t]
        count = t + 1
        sum_f += x - buf_f[i_f]
        buf_f[i_f] = x
        i_f = 0 if i_f + 1 == fast else i_f + 1
        sum_s += x - buf_s[i_s]
        buf_s[i_s] = x
        i_s = 0 if i_s + 1 == slow else i_s + 1
        countdown -= 1
        if countdown == 0:
            countdown = resum_every
            if count >= fast:
                sum_f = 0.0
                for k in range(fast):
                    sum_f += buf_f[k]
            if count >= slow:
                sum_s = 0.0
                for k in range(slow):
                    sum_s += buf_s[k]
        if count >= slow and count >= fast:
            out[t] = (sum_f / fast) / (sum_s / slow) - 1.0
    return out


def sma_spread(values: FloatArray, fast: int, slow: int) -> FloatArray:
    """SMA(fast) / SMA(slow) - 1 in one pass, equal bit for bit to two SimpleMovingAverage objects."""
    if fast < 1 or slow < 1:
        raise ValueError(f"periods must be >= 1, got fast={fast} slow={slow}")
    return np.asarray(
        _sma_spread(np.ascontiguousarray(values, dtype=np.float64), fast, slow, _RESUM_EVERY),
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
