"""The feature look-ahead check: built-in sets pass, a planted peek at the next bar is caught."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from quant_features import (
    LabelSpec,
    check_feature_leak,
    compute_features,
    load_feature_set,
    make_labels,
)
from tests.unit.features.panels import synthetic_panel

BUILT_IN = sorted(Path("configs/features").glob("*.yaml"))
CORE = "configs/features/daily_core_v1.yaml"


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.stem)
def test_built_in_sets_use_no_later_bar(path: Path) -> None:
    assert check_feature_leak(load_feature_set(path), synthetic_panel()) == []


def test_a_feature_peeking_one_bar_ahead_is_caught_and_named() -> None:
    feature_set = load_feature_set(CORE)

    def with_peek(bars: pd.DataFrame) -> pd.DataFrame:
        out = compute_features(feature_set, bars)
        following = bars.groupby(level="symbol")["close"].shift(-1)
        out["next_return"] = following / bars["close"] - 1
        return out

    findings = check_feature_leak(with_peek, synthetic_panel())
    assert [finding.column for finding in findings] == ["next_return"]
    assert findings[0].first_changed == findings[0].cut  # the bar at the cut read the next one


def test_a_label_joined_into_the_features_is_caught() -> None:
    feature_set = load_feature_set(CORE)
    spec = LabelSpec(kind="fixed_horizon", horizon=5, threshold=0.02)

    def with_label(bars: pd.DataFrame) -> pd.DataFrame:
        out = compute_features(feature_set, bars)
        out["label"] = make_labels(spec, bars)["label"].reindex(out.index).astype(float)
        return out

    assert [f.column for f in check_feature_leak(with_label, synthetic_panel())] == ["label"]


def test_a_centred_window_is_caught() -> None:
    def centred(bars: pd.DataFrame) -> pd.DataFrame:
        close = bars["close"]
        mean = close.groupby(level="symbol").transform(lambda s: s.rolling(5, center=True).mean())
        return pd.DataFrame({"centred_mean": mean}, index=bars.index)

    assert [f.column for f in check_feature_leak(centred, synthetic_panel())] == ["centred_mean"]
