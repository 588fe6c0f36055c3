"""The bundled real sample data: rows, dates, closes and instruments as published."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from quant_domain import AssetClass, DataNotFoundError, Timeframe
from quant_marketdata import BAR_COLUMNS, SampleSource, validate_source
from quant_marketdata.samples import SAMPLE_FILES, sample_data_folder

SAMPLES = SampleSource()


class Published(NamedTuple):
    """What the original file says: row count, first and last bar, their closes."""

    rows: int
    first: str
    last: str
    first_close: float
    last_close: float


PUBLISHED = {
    "SP500": Published(5031, "1999-01-04", "2018-12-31", 1228.099976, 2506.850098),
    "NASDAQ": Published(5031, "1999-01-04", "2018-12-31", 2208.050049, 6635.279785),
    "GOOG": Published(2148, "2004-08-19", "2013-03-01", 100.34, 806.19),
    "EURUSD": Published(5000, "2017-04-19 09:00", "2018-02-07 15:00", 1.07219, 1.22904),
}


@pytest.mark.parametrize("symbol", list(PUBLISHED))
def test_sample_bars_full_history_matches_published_file(symbol: str) -> None:
    expected = PUBLISHED[symbol]
    bars = SAMPLES.get_bars(symbol)
    assert len(bars) == expected.rows
    assert bars.index[0] == pd.Timestamp(expected.first, tz="UTC")
    assert bars.index[-1] == pd.Timestamp(expected.last, tz="UTC")
    assert bars["close"].iloc[0] == pytest.approx(expected.first_close, abs=1e-9)
    assert bars["close"].iloc[-1] == pytest.approx(expected.last_close, abs=1e-9)


@pytest.mark.parametrize("symbol", list(SAMPLE_FILES))
def test_sample_bars_any_symbol_follow_frame_contract(symbol: str) -> None:
    bars = SAMPLES.get_bars(symbol)
    assert tuple(bars.columns) == BAR_COLUMNS
    assert all(dtype == np.float64 for dtype in bars.dtypes)
    assert str(bars.index.dtype) == "datetime64[us, UTC]"
    assert bars.index.name == "timestamp"
    assert bars.index.is_monotonic_increasing
    assert bars.index.is_unique


def test_sample_sp500_first_bar_has_published_ohlcv() -> None:
    first = SAMPLES.get_bars("SP500").iloc[0]
    assert first.tolist() == pytest.approx(
        [1229.22998, 1248.810059, 1219.099976, 1228.099976, 877000000.0]
    )


def test_sample_daily_bars_sit_at_midnight_utc() -> None:
    index = SAMPLES.get_bars("GOOG").index
    assert (index == index.normalize()).all()


@pytest.mark.parametrize(
    ("symbol", "asset_class", "calendar", "timeframe"),
    [
        ("SP500", AssetClass.INDEX, "XNYS", "1d"),
        ("NASDAQ", AssetClass.INDEX, "XNYS", "1d"),
        ("GOOG", AssetClass.EQUITY, "XNYS", "1d"),
        ("EURUSD", AssetClass.FX, None, "1h"),
    ],
)
def test_sample_instrument_each_symbol_has_class_calendar_and_native_timeframe(
    symbol: str, asset_class: AssetClass, calendar: str | None, timeframe: str
) -> None:
    instrument = SAMPLES.instrument(symbol)
    assert instrument.symbol == symbol
    assert instrument.asset_class is asset_class
    assert instrument.calendar == calendar
    assert SAMPLES.native_timeframe(symbol) == Timeframe.parse(timeframe)


@pytest.mark.parametrize(
    ("symbol", "tick"),
    [("SP500", "0.01"), ("NASDAQ", "0.01"), ("GOOG", "0.01"), ("EURUSD", "0.00001")],
)
def test_sample_instrument_each_symbol_has_its_market_tick_whole_lots_and_is_shortable(
    symbol: str, tick: str
) -> None:
    instrument = SAMPLES.instrument(symbol)
    assert instrument.tick_size == Decimal(tick)
    assert instrument.lot_size == Decimal(1)
    assert instrument.shortable


def test_sample_eurusd_resampled_to_daily_aggregates_each_utc_day() -> None:
    hourly = SAMPLES.get_bars("EURUSD")
    daily = SAMPLES.get_bars("EURUSD", timeframe=Timeframe.parse("1d"))
    days = hourly.groupby(hourly.index.normalize())
    assert len(daily) == days.ngroups == 251
    assert (daily.index == daily.index.normalize()).all()
    assert np.allclose(daily["open"], days["open"].first())
    assert np.allclose(daily["high"], days["high"].max())
    assert np.allclose(daily["low"], days["low"].min())
    assert np.allclose(daily["close"], days["close"].last())
    assert np.allclose(daily["volume"], days["volume"].sum())
    first = daily.iloc[0]
    assert first.tolist() == pytest.approx([1.0716, 1.07299, 1.07002, 1.07149, 16728.0])


def test_sample_get_bars_year_bounds_keep_that_years_sessions() -> None:
    bars = SAMPLES.get_bars(
        "SP500", datetime(2008, 1, 1, tzinfo=UTC), datetime(2008, 12, 31, 23, 59, tzinfo=UTC)
    )
    assert len(bars) == 253
    assert bars.loc["2008-09-15", "close"] == pytest.approx(1192.699951)


def test_sample_get_bars_naive_bound_raises_value_error() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        SAMPLES.get_bars("SP500", start=datetime(2008, 1, 1))


def test_sample_unknown_symbol_raises_not_found_listing_samples() -> None:
    with pytest.raises(DataNotFoundError, match="SP500, NASDAQ, GOOG, EURUSD"):
        SAMPLES.get_bars("AAPL")


def test_sample_files_ship_as_package_data_with_recorded_hashes() -> None:
    folder = sample_data_folder()
    provenance = folder.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    for sample in SAMPLE_FILES.values():
        digest = hashlib.sha256(folder.joinpath(sample.file_name).read_bytes()).hexdigest()
        assert f"| `{sample.file_name}` | `{digest}` |" in provenance


def test_sample_validation_real_files_have_no_problems() -> None:
    report = validate_source(SAMPLES)
    assert report.ok
    assert report.counts == {}
    assert report.bars == {"SP500": 5031, "NASDAQ": 5031, "GOOG": 2148, "EURUSD": 5000}
