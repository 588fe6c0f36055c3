"""Native timeframe inference from the spacing of timestamps."""

from __future__ import annotations

import pandas as pd
import pytest

from quant_domain import Timeframe
from quant_marketdata import infer_timeframe


@pytest.mark.parametrize(
    ("freq", "expected"),
    [("1min", "1m"), ("5min", "5m"), ("90min", "90m"), ("1h", "1h"), ("4h", "4h"),
     ("B", "1d"), ("D", "1d"), ("W-MON", "1w"), ("14D", "2w")],
)  # fmt: skip
def test_infer_timeframe_regular_spacing_gives_that_timeframe(freq: str, expected: str) -> None:
    stamps = pd.date_range("2024-01-01", periods=60, freq=freq, tz="UTC")
    assert infer_timeframe(stamps) == Timeframe.parse(expected)


def test_infer_timeframe_single_timestamp_defaults_to_daily() -> None:
    assert infer_timeframe(pd.DatetimeIndex(["2024-01-02"], tz="UTC")) == Timeframe.parse("1d")


def test_infer_timeframe_ignores_missing_timestamps_and_weekend_gaps() -> None:
    stamps = pd.DatetimeIndex(
        ["2024-01-04", None, "2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"], tz="UTC"
    )
    assert infer_timeframe(stamps) == Timeframe.parse("1d")
