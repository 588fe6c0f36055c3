"""The regime read at chosen bars equals the batch regime feature at those bars."""

from __future__ import annotations

import numpy as np
import pytest

from quant_features import bars_panel, compute_features, parse_feature_set
from quant_features.regime_points import REGIME_NAMES, regimes_at
from quant_marketdata import SampleSource, SyntheticSource


@pytest.mark.parametrize("symbol", ["SP500", "GOOG", "synthetic"])
def test_regimes_at_every_bar_equal_the_batch_regime_feature(symbol: str) -> None:
    if symbol == "synthetic":
        source = SyntheticSource(seed=11, n_symbols=1, n_bars=3_000)
        frame = source.get_bars(source.symbols()[0])
    else:
        frame = SampleSource().get_bars(symbol)
    feature_set = parse_feature_set("name: r\nfeatures:\n  - kind: regime\n", "r")
    batch = compute_features(feature_set, bars_panel({symbol: frame}))["regime"].to_numpy()
    high, low, close = (frame[c].to_numpy(dtype=np.float64) for c in ("high", "low", "close"))
    points = regimes_at(high, low, close, np.arange(close.size, dtype=np.int64))
    expected = [None if np.isnan(code) else REGIME_NAMES[int(code)] for code in batch]
    assert points == expected
    assert len({p for p in points if p is not None}) >= 3  # the sample sees several regimes


def test_a_point_inside_the_warm_up_or_past_the_end_has_no_regime() -> None:
    close = np.linspace(100.0, 200.0, 300)
    high, low = close * 1.01, close * 0.99
    # true ranges start at bar 1, the first 10-bar gauge at bar 10, and the reference needs
    # 252 gauges: bar 261 is the first with a regime
    at = np.array([0, 250, 260, 300], dtype=np.int64)
    assert regimes_at(high, low, close, at) == [None] * 4
    assert regimes_at(high, low, close, np.array([261], dtype=np.int64)) != [None]


def test_a_missing_bar_in_the_windows_leaves_the_regime_undefined_as_batch_does() -> None:
    source = SyntheticSource(seed=11, n_symbols=1, n_bars=600)
    frame = source.get_bars(source.symbols()[0]).copy()
    frame.iloc[400, frame.columns.get_loc("high")] = np.nan
    feature_set = parse_feature_set("name: r\nfeatures:\n  - kind: regime\n", "r")
    batch = compute_features(feature_set, bars_panel({"S": frame}))["regime"].to_numpy()
    high, low, close = (frame[c].to_numpy(dtype=np.float64) for c in ("high", "low", "close"))
    points = regimes_at(high, low, close, np.arange(close.size, dtype=np.int64))
    assert points == [None if np.isnan(code) else REGIME_NAMES[int(code)] for code in batch]
    assert points[400] is None
    assert points[599] is not None
