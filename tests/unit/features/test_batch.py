"""Batch features: pandas-ta's numbers, hand-checked ranks and calendar parts, a regime that
agrees with the synthetic source's true regimes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from quant_features import bars_panel, compute_features, parse_feature_set
from quant_marketdata import SyntheticSource
from tests.unit.features.panels import panel_of, synthetic_panel

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Timestamp.dayofyear is deprecated")
    import pandas_ta_classic as ta


def one_set(body: str) -> pd.DataFrame:
    return compute_features(
        parse_feature_set("name: t\nfeatures:\n" + body, "t"), synthetic_panel()
    )


def test_indicators_are_pandas_ta_classic_values() -> None:
    out = one_set(
        "  - kind: rsi\n    length: 14\n  - kind: atr\n    length: 14\n"
        "  - kind: bbands\n    length: 20\n"
    )
    bars = synthetic_panel().xs("SYN001", level="symbol")
    mine = out.xs("SYN001", level="symbol")
    np.testing.assert_array_equal(mine["rsi_14"].to_numpy(), ta.rsi(bars["close"], 14).to_numpy())
    atr = ta.atr(bars["high"], bars["low"], bars["close"], 14) / bars["close"]
    np.testing.assert_array_equal(mine["atr_pct_14"].to_numpy(), atr.to_numpy())
    bands = ta.bbands(bars["close"], 20, 2.0, ddof=0)
    np.testing.assert_array_equal(mine["bb_pctb_20"].to_numpy(), bands["BBP_20_2.0"].to_numpy())


def test_returns_are_close_over_close_h_bars_back_and_nan_before() -> None:
    bars = panel_of({"A": [100.0, 110.0, 121.0, 99.0]})
    out = compute_features(
        parse_feature_set("name: t\nfeatures:\n  - kind: returns\n    horizons: [1, 2]\n", "t"),
        bars,
    )
    np.testing.assert_allclose(out["ret_1"].to_numpy(), [np.nan, 0.1, 0.1, 99 / 121 - 1])
    np.testing.assert_allclose(out["ret_2"].to_numpy(), [np.nan, np.nan, 0.21, 99 / 110 - 1])


def test_cross_rank_ranks_each_timestamp_across_symbols() -> None:
    bars = panel_of({"A": [100.0, 110.0], "B": [100.0, 90.0], "C": [100.0, 105.0]})
    feature_set = parse_feature_set(
        "name: t\nfeatures:\n  - kind: returns\n    horizons: [1]\n"
        "  - kind: cross_rank\n    of: ret_1\n",
        "t",
    )
    out = compute_features(feature_set, bars)["xrank_ret_1"]
    second = out.xs(pd.Timestamp("2024-01-02", tz="UTC"), level="timestamp")
    assert second.to_dict() == {"A": 1.0, "B": 1 / 3, "C": 2 / 3}
    assert out.xs(pd.Timestamp("2024-01-01", tz="UTC"), level="timestamp").isna().all()


def test_calendar_parts_are_those_of_the_utc_timestamp() -> None:
    bars = panel_of({"A": [1.0, 1.0]})  # 2024-01-01 is a Monday
    out = compute_features(
        parse_feature_set(
            "name: t\nfeatures:\n  - kind: calendar\n    fields: [day_of_week, month, quarter]\n",
            "t",
        ),
        bars,
    )
    assert out.to_numpy().tolist() == [[0.0, 1.0, 1.0], [1.0, 1.0, 1.0]]


def test_regime_code_agrees_with_the_synthetic_sources_true_regime_most_of_the_time() -> None:
    """The causal regime code read at bar t (bars <= t only) against the regime that generated
    bar t, on series the default parameters were not tuned on (seeds 3 and 42 were). Measured on
    these 4 x 4,000 bars: 81.4 % overall; recall bull 87.8 %, bear 90.0 %, sideways 65.8 %,
    high volatility 76.5 % (`bench/regime_agreement.py --seeds 5 --symbols 4 --bars 4000`).
    Each regime is found more often than not, and far more often than its base rate."""
    source = SyntheticSource(seed=5, n_symbols=4, n_bars=4000)
    bars = bars_panel({s: source.get_bars(s) for s in source.symbols()})
    out = compute_features(parse_feature_set("name: r\nfeatures:\n  - kind: regime\n", "r"), bars)
    codes = {"bull": 0, "bear": 1, "sideways": 2, "high_volatility": 3}
    truth = pd.concat([source.regimes(s).map(codes) for s in source.symbols()]).to_numpy()
    predicted = out["regime"].to_numpy()
    known = ~np.isnan(predicted)
    assert known.mean() > 0.9  # defined after ~1 year of bars, not 5
    truth, predicted = truth[known], predicted[known]
    assert (predicted == truth).mean() > 0.78
    for code in codes.values():
        recall = (predicted[truth == code] == code).mean()
        precision = (truth[predicted == code] == code).mean()
        assert recall > 0.6, code
        assert precision > 2 * (truth == code).mean() or precision > 0.75, code
