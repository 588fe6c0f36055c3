"""Vectorised indicators over whole arrays; NaN where the incremental twin returns None."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quant_features.compiled import sma_running
from quant_features.rolling import rsi_from_averages

FloatArray = npt.NDArray[np.float64]


def sma(values: FloatArray, period: int) -> FloatArray:
    """Simple moving average; the first period-1 entries are NaN.

    The compiled running sum, so it equals SimpleMovingAverage fed the same values exactly.
    """
    return sma_running(values, period)


def rolling_std(values: FloatArray, period: int) -> FloatArray:
    """Population standard deviation over a trailing window."""
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size >= period:
        window = np.lib.stride_tricks.sliding_window_view(x, period)
        out[period - 1 :] = window.std(axis=1)
    return out


def bollinger(
    values: FloatArray, period: int = 20, width: float = 2.0
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(lower, middle, upper) bands."""
    middle = sma(values, period)
    std = rolling_std(values, period)
    return middle - width * std, middle, middle + width * std


def rsi(values: FloatArray, period: int = 14) -> FloatArray:
    """Wilder's RSI, seeded with the simple mean of the first `period` changes."""
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size <= period:
        return out
    change = np.diff(x)
    gains = np.where(change > 0, change, 0.0)
    losses = np.where(change < 0, -change, 0.0)
    avg_gain = gains[:period].mean()
    avg_loss = losses[:period].mean()
    out[period] = rsi_from_averages(float(avg_gain), float(avg_loss))
    # Wilder smoothing is a recursion; a Python loop here is clear and fast enough for research
    for i in range(period, change.size):
        avg_gain = (avg_gain * (period - 1) + gains[i]) / period
        avg_loss = (avg_loss * (period - 1) + losses[i]) / period
        out[i + 1] = rsi_from_averages(float(avg_gain), float(avg_loss))
    return out


def momentum(values: FloatArray, lookback: int) -> FloatArray:
    """Simple return over `lookback` steps: x[t] / x[t - lookback] - 1."""
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size > lookback:
        out[lookback:] = x[lookback:] / x[:-lookback] - 1.0
    return out
