"""Batch features: each kind over one symbol's whole history, indicators through pandas-ta."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_features import specs

with warnings.catch_warnings():
    # pandas-ta-classic 0.8.32 stamps its built-in strategies with Timestamp.dayofyear at
    # import, which pandas 3 deprecates; nothing of ours depends on it
    warnings.filterwarnings("ignore", message="Timestamp.dayofyear is deprecated")
    import pandas_ta_classic as ta  # type: ignore[import-untyped]  # ships no type hints

FloatArray = npt.NDArray[np.float64]
Columns = list[FloatArray]


def _values(series: pd.Series | None, size: int) -> FloatArray:
    if series is None:  # pandas-ta returns None when the series is shorter than the window
        return np.full(size, np.nan)
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _returns(spec: specs.Returns, bars: pd.DataFrame) -> Columns:
    close = bars["close"].to_numpy(dtype=np.float64)
    out = []
    for h in spec.horizons:
        column = np.full(close.size, np.nan)
        if close.size > h:
            ratio = close[h:] / close[:-h]
            column[h:] = np.log(ratio) if spec.log else ratio - 1.0
        out.append(column)
    return out


def _rsi(spec: specs.Rsi, bars: pd.DataFrame) -> Columns:
    return [_values(ta.rsi(bars["close"], length=spec.length), len(bars))]


def _macd(spec: specs.Macd, bars: pd.DataFrame) -> Columns:
    close = bars["close"]
    frame = ta.macd(close, fast=spec.fast, slow=spec.slow, signal=spec.signal)
    n = len(bars)
    if frame is None:
        return [np.full(n, np.nan)] * 3
    tag = f"{spec.fast}_{spec.slow}_{spec.signal}"
    price = close.to_numpy(dtype=np.float64)
    return [
        _values(frame[f"MACD_{tag}"], n) / price,
        _values(frame[f"MACDs_{tag}"], n) / price,
        _values(frame[f"MACDh_{tag}"], n) / price,
    ]


def _bbands(spec: specs.Bbands, bars: pd.DataFrame) -> Columns:
    frame = ta.bbands(bars["close"], length=spec.length, std=spec.std, ddof=0)
    n = len(bars)
    if frame is None:
        return [np.full(n, np.nan)] * 2
    return [_values(frame.iloc[:, 4], n), _values(frame.iloc[:, 3], n)]  # BBP, BBB


def _atr(spec: specs.Atr, bars: pd.DataFrame) -> Columns:
    atr = ta.atr(bars["high"], bars["low"], bars["close"], length=spec.length)
    return [_values(atr, len(bars)) / bars["close"].to_numpy(dtype=np.float64)]


def _ma_ratio(spec: specs.MaRatio, bars: pd.DataFrame) -> Columns:
    close = bars["close"]
    average = ta.sma(close, spec.length) if spec.average == "sma" else ta.ema(close, spec.length)
    return [close.to_numpy(dtype=np.float64) / _values(average, len(bars)) - 1.0]


def _rolling(spec: specs.Rolling, bars: pd.DataFrame) -> Columns:
    if spec.input == "return":
        series = bars["close"].pct_change(fill_method=None)
    else:
        series = bars[spec.input].astype(np.float64)
    window = series.rolling(spec.window, min_periods=spec.window)
    mean = window.mean()
    out = []
    for stat in spec.stats:
        if stat == "mean":
            column = mean
        elif stat == "std":
            column = window.std(ddof=1)
        elif stat == "min":
            column = window.min()
        elif stat == "max":
            column = window.max()
        else:
            column = (series - mean) / window.std(ddof=1)
        out.append(_values(column, len(bars)))
    return out


def _volatility(spec: specs.Volatility, bars: pd.DataFrame) -> Columns:
    log_close = pd.Series(np.log(bars["close"].to_numpy(dtype=np.float64)), index=bars.index)
    std = log_close.diff().rolling(spec.window, min_periods=spec.window).std(ddof=1)
    return [_values(std, len(bars)) * math.sqrt(spec.periods_per_year)]


def _volume(spec: specs.Volume, bars: pd.DataFrame) -> Columns:
    volume = bars["volume"].astype(np.float64)
    mean = volume.rolling(spec.window, min_periods=spec.window).mean()
    dollars = (bars["close"] * volume).rolling(spec.window, min_periods=spec.window).mean()
    n = len(bars)
    return [volume.to_numpy() / _values(mean, n), np.log(_values(dollars, n))]


def calendar_parts(index: pd.DatetimeIndex, name: str) -> FloatArray:
    """One calendar part of UTC timestamps, as floats."""
    utc = index.tz_convert("UTC") if index.tz is not None else index
    parts = {
        "day_of_week": utc.day_of_week,
        "day_of_month": utc.day,
        "month": utc.month,
        "quarter": utc.quarter,
        "day_of_year": utc.day_of_year,
    }
    return np.asarray(parts[name], dtype=np.float64)


def _calendar(spec: specs.Calendar, bars: pd.DataFrame) -> Columns:
    index = pd.DatetimeIndex(bars.index)
    return [calendar_parts(index, name) for name in spec.fields]


def log_true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """log(max(high, previous close) / min(low, previous close)); NaN at the first bar and
    wherever one of the three is missing."""
    previous = np.concatenate(([np.nan], close[:-1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        ranges = np.log(np.maximum(high, previous) / np.minimum(low, previous))
    return np.asarray(ranges, dtype=np.float64)


def regime_codes(
    spec: specs.Regime, range_ratio: FloatArray, calm_ratio: FloatArray, trend: FloatArray
) -> FloatArray:
    """The regime code per bar (see specs.Regime.code, its scalar twin); NaN while an input is."""
    codes = np.where(calm_ratio < spec.calm, 2.0, 0.0)
    codes = np.where(trend > spec.band, 0.0, codes)
    codes = np.where(range_ratio >= spec.bear, 1.0, codes)
    codes = np.where(range_ratio >= spec.high_vol, 3.0, codes)
    undefined = np.isnan(range_ratio) | np.isnan(calm_ratio) | np.isnan(trend)
    return np.where(undefined, np.nan, codes)


def _regime(spec: specs.Regime, bars: pd.DataFrame) -> Columns:
    n = len(bars)
    ranges = pd.Series(
        log_true_range(
            bars["high"].to_numpy(dtype=np.float64),
            bars["low"].to_numpy(dtype=np.float64),
            bars["close"].to_numpy(dtype=np.float64),
        )
    )
    fast = ranges.rolling(spec.range_window, min_periods=spec.range_window).mean()
    slow = ranges.rolling(spec.calm_window, min_periods=spec.calm_window).mean()
    reference = fast.rolling(spec.reference_window, min_periods=spec.reference_min).quantile(
        spec.reference_quantile, interpolation="lower"
    )
    range_ratio = _values(fast / reference, n)
    calm_ratio = _values(slow / reference, n)
    trend = _ma_ratio(specs.MaRatio(kind="ma_ratio", length=spec.trend_window), bars)[0]
    return [range_ratio, calm_ratio, trend, regime_codes(spec, range_ratio, calm_ratio, trend)]


BATCH: dict[str, Callable[[Any, pd.DataFrame], Columns]] = {
    "returns": _returns,
    "rsi": _rsi,
    "macd": _macd,
    "bbands": _bbands,
    "atr": _atr,
    "ma_ratio": _ma_ratio,
    "rolling": _rolling,
    "volatility": _volatility,
    "volume": _volume,
    "calendar": _calendar,
    "regime": _regime,
}
"""Per-symbol kinds; cross_rank is computed across symbols by quant_features.panel."""
