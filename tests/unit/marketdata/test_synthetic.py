"""Synthetic bars: deterministic, regime-switching, OHLC-consistent, on weekdays, and labelled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from quant_domain import AssetClass, ConfigError, DataNotFoundError, Timeframe
from quant_marketdata import Regime, SyntheticSource, regime_labels, structural_problems
from quant_marketdata.synthetic import pulled_walk, synthetic_bars


def test_synthetic_same_seed_yields_identical_bars() -> None:
    first = SyntheticSource(seed=7, n_symbols=2, n_bars=500).get_bars("SYN001")
    second = SyntheticSource(seed=7, n_symbols=2, n_bars=500).get_bars("SYN001")
    pd.testing.assert_frame_equal(first, second)


def test_synthetic_different_seed_yields_different_closes() -> None:
    first = SyntheticSource(seed=7, n_bars=500).get_bars("SYN000")
    second = SyntheticSource(seed=8, n_bars=500).get_bars("SYN000")
    assert not np.allclose(first["close"], second["close"])


def test_synthetic_symbol_k_does_not_depend_on_symbol_count() -> None:
    alone = SyntheticSource(seed=3, n_symbols=4, n_bars=300).get_bars("SYN003")
    among_many = SyntheticSource(seed=3, n_symbols=50, n_bars=300).get_bars("SYN003")
    pd.testing.assert_frame_equal(alone, among_many)


def test_synthetic_symbols_of_one_source_differ() -> None:
    source = SyntheticSource(seed=3, n_symbols=2, n_bars=300)
    assert source.symbols() == ["SYN000", "SYN001"]
    assert not np.allclose(source.get_bars("SYN000")["close"], source.get_bars("SYN001")["close"])


def test_synthetic_longer_series_begins_with_shorter_one() -> None:
    short = synthetic_bars(seed=11, index=0, n_bars=100)
    long = synthetic_bars(seed=11, index=0, n_bars=3000)
    pd.testing.assert_frame_equal(short, long.iloc[:100])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_bars_any_seed_have_consistent_ohlcv(seed: int) -> None:
    bars = SyntheticSource(seed=seed, n_symbols=1, n_bars=5000).get_bars("SYN000")
    assert (bars[["open", "high", "low", "close"]] > 0).all().all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["volume"] >= 0).all()
    assert np.isfinite(bars.to_numpy()).all()


def test_synthetic_regimes_switch_within_five_thousand_bars() -> None:
    labels = regime_labels(seed=5, index=0, n_bars=5000)
    assert len(set(labels.tolist())) >= 2
    assert int(np.count_nonzero(np.diff(labels))) >= 2


def test_synthetic_high_volatility_regime_moves_more_than_sideways() -> None:
    source = SyntheticSource(seed=5, n_symbols=1, n_bars=50_000)
    returns = np.log(source.get_bars("SYN000")["close"]).diff()
    regimes = source.regimes("SYN000")
    wild = returns[regimes == "high_volatility"].std()
    calm = returns[regimes == "sideways"].std()
    assert wild > 3 * calm


def test_synthetic_regimes_method_matches_regime_labels_function() -> None:
    source = SyntheticSource(seed=9, n_symbols=3, n_bars=2000)
    names = source.regimes("SYN002")
    expected = [Regime(code).name.lower() for code in regime_labels(9, 2, 2000)]
    assert names.tolist() == expected
    assert names.index.equals(source.get_bars("SYN002").index)


def test_synthetic_daily_bars_fall_on_weekdays_from_start() -> None:
    index = SyntheticSource(n_bars=7, start="2000-01-03").get_bars("SYN000").index
    expected = ["2000-01-03", "2000-01-04", "2000-01-05", "2000-01-06", "2000-01-07",
                "2000-01-10", "2000-01-11"]  # fmt: skip
    assert index.equals(pd.DatetimeIndex(expected, tz="UTC").as_unit("us").rename("timestamp"))


def test_synthetic_one_million_bars_reach_year_5833_on_weekdays() -> None:
    source = SyntheticSource(seed=1, n_symbols=1, n_bars=1_000_000)
    bars = source.get_bars("SYN000")
    assert bars.shape == (1_000_000, 5)
    assert bars.index[-1] == pd.Timestamp("5833-01-25", tz="UTC")
    days = bars.index.asi8 // 86_400_000_000
    assert ((days + 3) % 7 < 5).all()  # 1970-01-01 was a Thursday: Monday is (days + 3) % 7 == 0
    closes = bars["close"]
    assert closes.min() > 1.0
    assert closes.max() < 1e5


def test_synthetic_hourly_timeframe_gives_24_bars_per_weekday() -> None:
    source = SyntheticSource(n_bars=48, timeframe="1h", start="2024-01-05")
    index = source.get_bars("SYN000").index
    assert source.native_timeframe("SYN000") == Timeframe.parse("1h")
    assert index[0] == pd.Timestamp("2024-01-05 00:00", tz="UTC")
    assert index[23] == pd.Timestamp("2024-01-05 23:00", tz="UTC")
    assert index[24] == pd.Timestamp("2024-01-08 00:00", tz="UTC")  # Friday, then Monday


def test_synthetic_instrument_says_synthetic_without_calendar() -> None:
    instrument = SyntheticSource(seed=4).instrument("SYN000")
    assert instrument.asset_class is AssetClass.SYNTHETIC
    assert instrument.calendar is None
    assert "synthetic" in instrument.description.lower()
    assert "not real market data" in instrument.description
    assert instrument.tick_size is None  # any price the generator draws is a valid one
    assert instrument.lot_size == Decimal(1)


def test_synthetic_bars_pass_structural_checks() -> None:
    raw = SyntheticSource(seed=2, n_bars=3000).raw_bars("SYN000")
    assert structural_problems(raw.frame, "SYN000") == []


def test_synthetic_unknown_symbol_raises_not_found_with_range() -> None:
    with pytest.raises(DataNotFoundError, match=r"SYN000\.\.SYN002"):
        SyntheticSource(n_symbols=3).get_bars("SYN003")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"n_bars": 0}, "bars"),
        ({"n_symbols": 0}, "symbols"),
        ({"seed": -1}, "seed"),
        ({"start": "not a date"}, "start"),
        ({"timeframe": "7m"}, "timeframe"),
        ({"n_bars": 3_000_000}, "bars"),
    ],
)
def test_synthetic_bad_arguments_raise_config_error_naming_field(
    arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        SyntheticSource(**arguments)
    assert caught.value.field == field


def test_pulled_walk_matches_step_by_step_recursion() -> None:
    steps = np.random.default_rng(0).standard_normal(10_000) * 0.01
    expected = np.empty_like(steps)
    level = 0.0
    for k, step in enumerate(steps):
        level = (1 - 1 / 300) * level + step
        expected[k] = level
    assert np.allclose(pulled_walk(steps, 1 / 300), expected)
    assert np.allclose(pulled_walk(steps, 0.0), np.cumsum(steps))


def test_synthetic_decimals_quote_prices_and_keep_them_consistent() -> None:
    source = SyntheticSource(seed=5, n_bars=2000, decimals=2)
    raw = source.raw_bars("SYN000")
    prices = raw.frame[["open", "high", "low", "close"]].to_numpy()
    assert np.array_equal(prices, np.round(prices, 2))
    assert structural_problems(raw.frame, "SYN000") == []
    full = SyntheticSource(seed=5, n_bars=2000).raw_bars("SYN000").frame
    assert np.allclose(prices, full[["open", "high", "low", "close"]].to_numpy(), atol=0.005)


def test_synthetic_decimals_out_of_range_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"decimals must be 0\.\.8"):
        SyntheticSource(decimals=9)
