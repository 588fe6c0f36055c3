"""The live path equals the batch path to 1e-9 for every feature of every built-in set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quant_features import (
    FeatureUpdater,
    bars_panel,
    compute_features,
    load_feature_set,
    parse_feature_set,
)
from tests.unit.features.panels import synthetic_panel

BUILT_IN = sorted(Path("configs/features").glob("*.yaml"))
TOLERANCE = 1e-9


def assert_same(batch: pd.DataFrame, live: pd.DataFrame) -> None:
    assert list(live.columns) == list(batch.columns)
    assert live.index.equals(batch.index)
    for column in batch.columns:
        x, y = batch[column].to_numpy(), live[column].to_numpy()
        assert (np.isnan(x) == np.isnan(y)).all(), f"{column}: NaN where the other is defined"
        defined = ~np.isnan(x)
        assert defined.any(), f"{column} is never defined on the test bars"
        gap = np.abs(x[defined] - y[defined]) / np.maximum(1.0, np.abs(x[defined]))
        assert gap.max() <= TOLERANCE, f"{column}: {gap.max():.3g}"


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_bar_by_bar_updates_equal_the_batch_features(path: Path) -> None:
    feature_set = load_feature_set(path)
    bars = synthetic_panel()
    assert_same(compute_features(feature_set, bars), FeatureUpdater(feature_set).replay(bars))


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_a_restart_warmed_up_on_stored_bars_goes_on_equal_to_batch(path: Path) -> None:
    feature_set = load_feature_set(path)
    bars = synthetic_panel()
    stamps = bars.index.get_level_values("timestamp")
    cut = np.unique(stamps)[500]
    before, after = bars[stamps <= cut], bars[stamps > cut]
    # the first process ran live up to the cut, then stopped; a new one warms up and goes on
    FeatureUpdater(feature_set).replay(before)
    restarted = FeatureUpdater(feature_set)
    restarted.warm_up(before)
    live_after = restarted.replay(after)
    batch = compute_features(feature_set, bars)
    assert_same(batch[batch.index.get_level_values("timestamp") > cut], live_after)


def test_update_returns_one_row_per_symbol_given() -> None:
    feature_set = load_feature_set("configs/features/daily_ranks_v1.yaml")
    updater = FeatureUpdater(feature_set)
    rows = updater.update(
        pd.Timestamp("2024-01-02", tz="UTC").to_pydatetime(),
        {"A": (1.0, 1.1, 0.9, 1.0, 100.0), "B": (2.0, 2.1, 1.9, 2.0, 50.0)},
    )
    assert set(rows) == {"A", "B"}
    assert rows["A"].shape == (len(feature_set.columns),)


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_flat_prices_and_zero_volume_give_the_same_inf_and_nan_on_both_paths(path: Path) -> None:
    feature_set = load_feature_set(path)
    index = pd.date_range("2020-01-01", periods=400, freq="D", tz="UTC", name="timestamp")
    flat = pd.DataFrame(
        {"open": 100.0, "high": 100.0, "low": 100.0, "close": 100.0, "volume": 0.0}, index=index
    )
    step = flat.assign(volume=1000.0)
    step.loc[index[200:], ["open", "high", "low", "close"]] = 110.0
    bars = bars_panel({"FLAT": flat, "STEP": step})
    batch, live = compute_features(feature_set, bars), FeatureUpdater(feature_set).replay(bars)
    for column in batch.columns:
        np.testing.assert_allclose(
            live[column], batch[column], rtol=TOLERANCE, atol=TOLERANCE, err_msg=column
        )


def test_symbols_with_different_histories_rank_among_those_present_on_both_paths() -> None:
    feature_set = load_feature_set("configs/features/daily_ranks_v1.yaml")
    bars = synthetic_panel()
    symbols = bars.index.get_level_values("symbol")
    stamps = bars.index.get_level_values("timestamp")
    late_start = np.unique(stamps)[150]
    early_end = np.unique(stamps)[600]
    ragged = bars[
        ~((symbols == "SYN002") & (stamps < late_start))
        & ~((symbols == "SYN000") & (stamps > early_end))
    ]
    assert_same(compute_features(feature_set, ragged), FeatureUpdater(feature_set).replay(ragged))


def test_the_regime_reference_window_slides_past_missing_bars_equal_on_both_paths() -> None:
    # a short reference window, so the 700 bars slide it many times, and a missing high whose
    # undefined gauges enter and later leave the window
    feature_set = parse_feature_set(
        "name: r\nfeatures:\n  - kind: regime\n    reference_window: 120\n"
        "    reference_min: 60\n    reference_quantile: 0.25\n",
        "r",
    )
    bars = synthetic_panel().copy()
    bars.iloc[300, bars.columns.get_loc("high")] = np.nan
    batch = compute_features(feature_set, bars)
    assert batch["regime"].isna().sum() > feature_set.warmup_bars * 3  # the gap is undefined
    assert_same(batch, FeatureUpdater(feature_set).replay(bars))
