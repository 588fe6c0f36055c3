"""Out-of-sample scores of the model's strategy: walk-forward, CPCV paths, DSR and PBO."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quant_models.dataset import TrainingSet
from quant_models.splits import CombinatorialPurgedCV, PurgedWalkForward
from quant_models.synthetic import synthetic_panel
from quant_models.validation import (
    Thresholds,
    annualisation,
    cpcv,
    overfitting,
    strategy_returns,
    walk_forward,
)
from quant_models.xgboost_model import XGBoostModel, XGBoostParams


def small_model() -> XGBoostModel:
    return XGBoostModel(XGBoostParams(n_estimators=20, max_depth=3))


@pytest.fixture(scope="module")
def signal() -> TrainingSet:
    return synthetic_panel(n_symbols=6, n_dates=240, n_features=5, signal=0.5)


@pytest.fixture(scope="module")
def noise() -> TrainingSet:
    return synthetic_panel(n_symbols=6, n_dates=240, n_features=5, signal=0.0, seed=3)


def test_thresholds_make_long_flat_or_long_short_positions() -> None:
    prob = np.array([0.2, 0.5, 0.7])
    assert Thresholds().positions(prob).tolist() == [0.0, 0.0, 1.0]
    long_short = Thresholds(mode="long_short", upper=0.6, lower=0.4)
    assert long_short.positions(prob).tolist() == [-1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="lower"):
        Thresholds(upper=0.4, lower=0.6)


def test_the_book_averages_the_symbols_of_each_date(signal: TrainingSet) -> None:
    rows = np.flatnonzero(signal.t0 == signal.t0.min())
    book = strategy_returns(signal, rows, np.ones(rows.size), Thresholds())
    assert len(book) == 1
    assert book.iloc[0] == pytest.approx(signal.ret.to_numpy()[rows].mean())


def test_walk_forward_finds_the_planted_edge_out_of_sample(signal: TrainingSet) -> None:
    result = walk_forward(small_model, signal, PurgedWalkForward(n_splits=3), Thresholds())
    assert len(result.folds) == 3
    assert all(f.hit_rate > 0.55 for f in result.folds)
    assert result.sharpe > 1.0
    assert result.returns.index.is_monotonic_increasing
    first_test = result.returns.index.min()
    assert first_test > pd.Timestamp(signal.t0.min(), tz="UTC")


def test_walk_forward_finds_no_edge_in_noise(noise: TrainingSet) -> None:
    result = walk_forward(small_model, noise, PurgedWalkForward(n_splits=3), Thresholds())
    assert abs(float(np.mean([f.hit_rate for f in result.folds])) - 0.5) < 0.05


def test_cpcv_gives_one_sharpe_per_path(signal: TrainingSet, noise: TrainingSet) -> None:
    cv = CombinatorialPurgedCV(n_groups=4, n_test_groups=2)
    edge = cpcv(small_model, signal, cv, Thresholds())
    assert len(edge.folds) == 6
    assert len(edge.path_sharpes) == cv.n_paths == 3
    assert edge.summary()["share_positive"] == 1.0
    flat = cpcv(small_model, noise, cv, Thresholds())
    assert np.median(flat.path_sharpes) < np.median(edge.path_sharpes)


def test_dsr_and_pbo_of_the_chosen_candidate(signal: TrainingSet, noise: TrainingSet) -> None:
    splitter = PurgedWalkForward(n_splits=3)
    good = walk_forward(small_model, signal, splitter, Thresholds()).returns
    single = overfitting({"good": good}, "good")
    assert single.n_trials == 1
    assert single.pbo is None
    assert single.dsr > 0.95
    # candidates that differ only by noise: the in-sample winner is a coin toss out of sample
    rng = np.random.default_rng(0)
    noisy = {f"c{i}": pd.Series(rng.normal(0, 0.01, len(good)), good.index) for i in range(6)}
    mixed = overfitting(noisy, "c0")
    assert mixed.n_trials == 6
    assert mixed.pbo is not None
    assert 0.2 < mixed.pbo < 0.9
    assert mixed.dsr < 0.95


def test_annualisation_counts_label_horizons_not_overlapping_dates(signal: TrainingSet) -> None:
    assert annualisation(signal) == pytest.approx(252 / 5)
