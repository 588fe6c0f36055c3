"""Labels: fixed horizon and triple barrier by hand, their end times, and overlap weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from quant_features import LabelSpec, make_labels, overlap_weights
from tests.unit.features.panels import panel_of, synthetic_panel


def day(n: int) -> pd.Timestamp:
    return pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=n)


def test_fixed_horizon_is_up_two_percent_in_two_bars_and_ends_at_t_plus_h() -> None:
    bars = panel_of({"A": [100.0, 101.0, 102.5, 101.0, 104.0]})
    spec = LabelSpec(kind="fixed_horizon", horizon=2, threshold=0.02, binary=True)
    labels = make_labels(spec, bars).xs("A", level="symbol")
    assert labels["label"].tolist() == [1, 0, 0]  # 2.5 %, 0 %, 1.46 %; the last two have no t+2
    np.testing.assert_allclose(labels["ret"], [0.025, 0.0, 104 / 102.5 - 1])
    assert labels["t1"].tolist() == [day(2), day(3), day(4)]


def test_fixed_horizon_without_binary_marks_falls_minus_one() -> None:
    bars = panel_of({"A": [100.0, 97.0, 100.0]})
    spec = LabelSpec(kind="fixed_horizon", horizon=1, threshold=0.02)
    assert make_labels(spec, bars)["label"].tolist() == [-1, 1]


def test_triple_barrier_takes_the_first_barrier_touched_and_its_time() -> None:
    closes = [100.0, 101.0, 103.5, 96.0, 99.0, 100.5, 100.2, 100.1]
    bars = panel_of({"A": closes})
    spec = LabelSpec(kind="triple_barrier", profit_take=0.03, stop_loss=0.02, max_holding=3)
    labels = make_labels(spec, bars).xs("A", level="symbol")
    # t0=0: +3.5 % at bar 2 -> 1; t0=1: 103.5/101 = +2.5 %, then 96/101 = -5 % at bar 3 -> -1
    # t0=2: 96/103.5 = -7.2 % at bar 3 -> -1; t0=3: 99/96 = +3.1 % at bar 4 -> 1
    # t0=4: 100.5, 100.2, 100.1 against 99: never 3 % -> time limit at bar 7, sign of +1.1 %
    assert labels["label"].tolist() == [1, -1, -1, 1, 1]
    assert labels["t1"].tolist() == [day(2), day(3), day(3), day(4), day(7)]
    assert labels["ret"].iloc[4] == pytest.approx(100.1 / 99 - 1)


def test_triple_barrier_time_limit_can_be_labelled_zero() -> None:
    bars = panel_of({"A": [100.0, 100.5, 100.2]})
    spec = LabelSpec(
        kind="triple_barrier", profit_take=0.05, stop_loss=0.05, max_holding=2, time_label="zero"
    )
    assert make_labels(spec, bars)["label"].tolist() == [0]


def test_overlap_weights_share_each_bar_between_the_labels_spanning_it() -> None:
    # label 0 spans bars 1-2, label 1 spans 2-3: bar 2 is shared, so each gets (1 + 1/2) / 2
    weights = overlap_weights(np.array([0, 1]), np.array([2, 3]), 4)
    np.testing.assert_allclose(weights, [0.75, 0.75])
    np.testing.assert_allclose(overlap_weights(np.array([0]), np.array([3]), 4), [1.0])


def test_labels_of_a_panel_are_per_symbol_with_weights_in_zero_one() -> None:
    bars = synthetic_panel()
    spec = LabelSpec(kind="triple_barrier", profit_take=0.03, stop_loss=0.02, max_holding=10)
    labels = make_labels(spec, bars)
    assert set(labels.index.get_level_values("symbol")) == {"SYN000", "SYN001", "SYN002"}
    assert (labels["t1"] > labels.index.get_level_values("timestamp")).all()
    assert labels["weight"].between(0, 1, inclusive="right").all()
    assert len(labels) == len(bars) - 3 * 10


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "fixed_horizon"},
        {"kind": "fixed_horizon", "horizon": 5, "max_holding": 5},
        {"kind": "triple_barrier", "profit_take": 0.02, "stop_loss": 0.02},
        {"kind": "triple_barrier", "profit_take": 0.02, "stop_loss": 1.5, "max_holding": 3},
    ],
)
def test_a_label_spec_missing_or_mixing_fields_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LabelSpec.model_validate(fields)


def test_label_versions_differ_with_the_definition() -> None:
    a = LabelSpec(kind="fixed_horizon", horizon=5, threshold=0.02)
    assert a.version == LabelSpec(kind="fixed_horizon", horizon=5, threshold=0.02).version
    assert a.version != LabelSpec(kind="fixed_horizon", horizon=5, threshold=0.03).version
