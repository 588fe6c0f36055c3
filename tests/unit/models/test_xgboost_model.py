"""The XGBoost model: deterministic retrains, contributions that add up, honest errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quant_models.base import BIAS
from quant_models.dataset import TrainingSet
from quant_models.errors import ModelError
from quant_models.synthetic import synthetic_panel
from quant_models.xgboost_model import XGBoostModel, XGBoostParams

PARAMS = XGBoostParams(n_estimators=30, max_depth=3)


@pytest.fixture(scope="module")
def data() -> TrainingSet:
    return synthetic_panel(n_symbols=5, n_dates=300, n_features=6)


def test_a_retrain_on_the_same_data_gives_the_same_model_hash(data: TrainingSet) -> None:
    first = XGBoostModel(PARAMS).fit(data.X, data.y, data.weight)
    second = XGBoostModel(PARAMS).fit(data.X, data.y, data.weight)
    assert first.model_hash() == second.model_hash()
    np.testing.assert_array_equal(first.predict(data.X), second.predict(data.X))


def test_the_thread_count_does_not_change_the_model(data: TrainingSet) -> None:
    one = XGBoostModel(PARAMS).fit(data.X, data.y)
    two = XGBoostModel(PARAMS.model_copy(update={"nthread": 2})).fit(data.X, data.y)
    assert one.model_hash() == two.model_hash()


def test_another_seed_or_other_data_gives_another_hash(data: TrainingSet) -> None:
    base = XGBoostModel(PARAMS).fit(data.X, data.y).model_hash()
    reseeded = XGBoostModel(PARAMS.model_copy(update={"seed": 1})).fit(data.X, data.y)
    assert reseeded.model_hash() != base
    fewer = XGBoostModel(PARAMS).fit(data.X.iloc[:-50], data.y.iloc[:-50])
    assert fewer.model_hash() != base


def test_the_model_learns_the_planted_signal(data: TrainingSet) -> None:
    half = len(data) // 2
    model = XGBoostModel(PARAMS).fit(data.X.iloc[:half], data.y.iloc[:half])
    prob = model.predict(data.X.iloc[half:])
    hit = float(np.mean((prob >= 0.5) == (data.y.iloc[half:].to_numpy() == 1)))
    assert hit > 0.58
    assert ((prob > 0) & (prob < 1)).all()


def test_contributions_add_up_to_the_prediction_log_odds(data: TrainingSet) -> None:
    model = XGBoostModel(PARAMS).fit(data.X, data.y)
    rows = data.X.iloc[:25]
    explanation = model.explain(rows)
    assert list(explanation.contributions.columns) == [*data.X.columns, BIAS]
    assert explanation.contributions.index.equals(rows.index)
    prob = model.predict(rows)
    log_odds = explanation.contributions.sum(axis=1).to_numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-log_odds)), prob, rtol=1e-5)


def test_global_importances_rank_the_planted_features_first(data: TrainingSet) -> None:
    model = XGBoostModel(PARAMS).fit(data.X, data.y)
    importances = model.importances()
    assert importances.sum() == pytest.approx(1.0)
    assert set(importances.nlargest(3).index) == {"f00", "f01", "f02"}


def test_a_model_survives_its_artifact_bytes(data: TrainingSet) -> None:
    model = XGBoostModel(PARAMS).fit(data.X, data.y)
    loaded = XGBoostModel.from_bytes(model.to_bytes())
    assert loaded.model_hash() == model.model_hash()
    assert loaded.feature_names == list(data.X.columns)
    np.testing.assert_array_equal(loaded.predict(data.X), model.predict(data.X))


def test_one_row_as_an_array_predicts_as_the_frame_does(data: TrainingSet) -> None:
    model = XGBoostModel(PARAMS).fit(data.X, data.y)
    row = data.X.iloc[[7]]
    assert model.predict(row.to_numpy()[0]) == pytest.approx(model.predict(row))


def test_columns_are_matched_by_name_not_position(data: TrainingSet) -> None:
    model = XGBoostModel(PARAMS).fit(data.X, data.y)
    shuffled = data.X[list(reversed(data.X.columns))]
    np.testing.assert_array_equal(model.predict(shuffled), model.predict(data.X))


def test_an_untrained_model_or_missing_feature_is_a_model_error(data: TrainingSet) -> None:
    with pytest.raises(ModelError, match="not trained"):
        XGBoostModel().predict(data.X)
    model = XGBoostModel(PARAMS).fit(data.X, data.y)
    with pytest.raises(ModelError, match="f03"):
        model.predict(data.X.drop(columns="f03"))


def test_labels_other_than_zero_and_one_are_refused(data: TrainingSet) -> None:
    with pytest.raises(ModelError, match="0 and 1"):
        XGBoostModel(PARAMS).fit(data.X, data.y.replace(0, -1))


def test_non_numeric_features_are_named(data: TrainingSet) -> None:
    frame = data.X.assign(sector="tech")
    with pytest.raises(ModelError, match="sector"):
        XGBoostModel(PARAMS).fit(frame, data.y)


def test_bytes_that_are_not_a_model_are_refused() -> None:
    with pytest.raises(ModelError, match="not an XGBoost model"):
        XGBoostModel.from_bytes(b"not a model")


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="max_leaves"):
        XGBoostParams.model_validate({"max_leaves": 3})
    assert pd.notna(XGBoostParams().learning_rate)
