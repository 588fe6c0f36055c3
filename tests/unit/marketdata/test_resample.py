"""Resampling to coarser bars: OHLCV aggregation, period-start labels, no borrowing from later."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from quant_domain import DataError, Timeframe
from quant_marketdata import SampleSource, resample_bars

HOUR = Timeframe.parse("1h")


def hourly(stamps: list[str], closes: list[float]) -> pd.DataFrame:
    index = pd.DatetimeIndex(stamps, tz="UTC").as_unit("us").rename("timestamp")
    return pd.DataFrame(
        {
            "open": [c - 0.5 for c in closes],
            "high": [c + 1.0 for c in closes],
            "low": [c - 1.0 for c in closes],
            "close": closes,
            "volume": [10.0] * len(closes),
        },
        index=index,
    )


def test_resample_hours_to_four_hours_aggregates_each_block() -> None:
    frame = hourly(
        ["2024-01-02 00:00", "2024-01-02 01:00", "2024-01-02 03:00", "2024-01-02 04:00"],
        [10.0, 12.0, 9.0, 11.0],
    )
    result = resample_bars(frame, HOUR, Timeframe.parse("4h"))
    assert list(result.index) == [
        pd.Timestamp("2024-01-02 00:00", tz="UTC"),
        pd.Timestamp("2024-01-02 04:00", tz="UTC"),
    ]
    assert result.iloc[0].tolist() == [9.5, 13.0, 8.0, 9.0, 30.0]
    assert result.iloc[1].tolist() == [10.5, 12.0, 10.0, 11.0, 10.0]
    assert str(result.index.dtype) == "datetime64[us, UTC]"


def test_resample_empty_periods_are_left_out() -> None:
    frame = hourly(["2024-01-02 09:00", "2024-01-05 09:00"], [10.0, 11.0])
    result = resample_bars(frame, HOUR, Timeframe.parse("1d"))
    assert list(result.index.strftime("%Y-%m-%d %H:%M")) == ["2024-01-02 00:00", "2024-01-05 00:00"]


def test_resample_daily_to_weekly_labels_each_monday() -> None:
    weekly = SampleSource().get_bars(
        "SP500", end=datetime(1999, 1, 15, tzinfo=UTC), timeframe=Timeframe.parse("1w")
    )
    assert list(weekly.index.strftime("%Y-%m-%d %a")) == ["1999-01-04 Mon", "1999-01-11 Mon"]
    daily = SampleSource().get_bars("SP500", end=datetime(1999, 1, 8, tzinfo=UTC))
    first_week = weekly.iloc[0]
    assert first_week["open"] == daily["open"].iloc[0]
    assert first_week["high"] == daily["high"].max()
    assert first_week["close"] == daily["close"].iloc[-1]
    assert first_week["volume"] == daily["volume"].sum()


def test_resample_same_timeframe_returns_bars_unchanged() -> None:
    frame = hourly(["2024-01-02 00:00", "2024-01-02 01:00"], [10.0, 12.0])
    pd.testing.assert_frame_equal(resample_bars(frame, HOUR, HOUR), frame)


def test_resample_finer_timeframe_raises_data_error() -> None:
    frame = hourly(["2024-01-02 00:00"], [10.0])
    with pytest.raises(DataError, match="cannot resample 1h bars to the finer timeframe 5m"):
        resample_bars(frame, HOUR, Timeframe.parse("5m"))


def test_resample_non_multiple_timeframe_raises_data_error() -> None:
    frame = hourly(["2024-01-02 00:00"], [10.0])
    with pytest.raises(DataError, match="not a whole number"):
        resample_bars(frame, HOUR, Timeframe.parse("90m"))


def test_resample_end_bound_cuts_bars_before_aggregating() -> None:
    end = datetime(2017, 4, 19, 12, tzinfo=UTC)
    source = SampleSource()
    daily = source.get_bars("EURUSD", end=end, timeframe=Timeframe.parse("1d"))
    hours = source.get_bars("EURUSD", end=end)
    assert len(daily) == 1
    assert daily["close"].iloc[0] == hours["close"].iloc[-1] == 1.07202
    assert daily["high"].iloc[0] == hours["high"].max()


def test_resample_start_bound_drops_periods_labelled_before_it() -> None:
    start = datetime(2017, 4, 19, 12, tzinfo=UTC)
    daily = SampleSource().get_bars("EURUSD", start=start, timeframe=Timeframe.parse("1d"))
    assert daily.index[0] == pd.Timestamp("2017-04-20", tz="UTC")
