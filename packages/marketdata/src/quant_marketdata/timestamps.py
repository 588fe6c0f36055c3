"""Timestamps read from files: parsing to UTC, session-date labels and the native spacing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from quant_domain import Timeframe, TimeUnit

MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND
_INFERRED_UNITS = (TimeUnit.WEEK, TimeUnit.DAY, TimeUnit.HOUR)
"""Units `infer_timeframe` tries, longest first, before falling back to minutes."""
_FORMAT_SAMPLE = 50
_OFFSET_SUFFIX = r"\s*(?:Z|[+-]\d{2}:?\d{2})$"


@dataclass(frozen=True, slots=True)
class ParsedTimestamps:
    """The same instants twice: in UTC, and as the wall-clock time written in the source."""

    utc: pd.DatetimeIndex
    wall: pd.DatetimeIndex


def parse_timestamps(values: pd.Series) -> ParsedTimestamps:
    """Parse a timestamp column; naive values are UTC, aware ones are converted; bad ones NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        aware = pd.DatetimeIndex(values).as_unit("us")
        return ParsedTimestamps(aware.tz_convert("UTC"), aware.tz_localize(None))
    if pd.api.types.is_datetime64_dtype(values.dtype):
        naive = pd.DatetimeIndex(values).as_unit("us")
        return ParsedTimestamps(naive.tz_localize("UTC"), naive)
    text = values.astype("str")
    fmt = _best_format(text)
    utc = _to_utc(text, fmt)
    if fmt is not None and "%z" in fmt:
        local_text = text.str.replace(_OFFSET_SUFFIX, "", regex=True)
        local_fmt = fmt.replace("%z", "").strip()
        wall = pd.DatetimeIndex(pd.to_datetime(local_text, format=local_fmt, errors="coerce"))
    else:
        wall = utc.tz_localize(None)
    return ParsedTimestamps(utc, wall.as_unit("us"))


def session_labels(parsed: ParsedTimestamps) -> pd.DatetimeIndex:
    """Daily labels: the date written in the source, at 00:00 UTC."""
    return parsed.wall.normalize().tz_localize("UTC")


def infer_timeframe(stamps: pd.DatetimeIndex) -> Timeframe:
    """The bar length suggested by the median spacing of `stamps`; 1d when there is no spacing.

    The lower median is used so the answer is a spacing that actually occurs (daily data with
    weekends has mostly 1-day gaps and a few 3-day ones: the answer is 1d).
    """
    valid = stamps[np.asarray(stamps.notna())].as_unit("us")
    seconds = np.unique(valid.asi8 // MICROS_PER_SECOND)
    gaps = np.diff(seconds)
    if gaps.size == 0:
        return Timeframe(1, TimeUnit.DAY)
    median = float(np.sort(gaps)[(gaps.size - 1) // 2])
    for unit in _INFERRED_UNITS:
        unit_seconds = Timeframe(1, unit).seconds
        amount = round(median / unit_seconds)
        if amount >= 1 and abs(amount * unit_seconds - median) <= 0.05 * median:
            return Timeframe(amount, unit)
    return Timeframe(max(1, round(median / 60)), TimeUnit.MINUTE)


def _best_format(text: pd.Series) -> str | None:
    """The strftime format that parses most values, guessed from the first few of them."""
    sample = text.dropna().head(_FORMAT_SAMPLE)
    candidates: list[str] = []
    for value in sample:
        fmt = guess_datetime_format(str(value).strip())
        if fmt is not None and fmt not in candidates:
            candidates.append(fmt)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    return max(candidates, key=lambda fmt: int(np.count_nonzero(_to_utc(sample, fmt).notna())))


def _to_utc(text: pd.Series, fmt: str | None) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(text.str.strip(), format=fmt or "ISO8601", errors="coerce", utc=True)
    return pd.DatetimeIndex(parsed).as_unit("us")
