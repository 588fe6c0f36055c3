"""`quant train`'s inputs and pipeline: a features/labels table in, a validated model out."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_domain import ConfigError
from quant_models.dataset import TrainingSet
from quant_models.errors import ModelError
from quant_models.synthetic import synthetic_panel
from quant_models.training import load_inputs, train
from quant_models.training_config import parse_training_config

CONFIG = """\
name: table_direction
inputs: {table: train.parquet, feature_set_version: fs-abc}
label: {kind: fixed_horizon, horizon: 5, threshold: 0.0}
model:
  params: {n_estimators: 15, max_depth: 2}
validation:
  walk_forward: {n_splits: 3, embargo_days: 1}
"""


def _table(path: Path) -> TrainingSet:
    data = synthetic_panel(n_symbols=3, n_dates=150, n_features=4, signal=0.6)
    frame = data.X.join(
        data.y.rename("label").to_frame().assign(ret=data.ret, t1=data.t1, weight=data.weight)
    )
    frame.reset_index().to_parquet(path)
    return data


def test_a_features_and_labels_table_trains_as_the_same_rows_do(tmp_path: Path) -> None:
    data = _table(tmp_path / "train.parquet")
    config = parse_training_config(CONFIG, str(tmp_path / "train.yaml"))
    loaded = load_inputs(config)
    assert loaded.fingerprint() == data.fingerprint()
    outcome = train(config, loaded)
    assert outcome.validation["n_trials"] == 1
    assert outcome.validation["pbo"] is None
    assert len(outcome.validation["walk_forward"]["folds"]) == 3
    assert set(outcome.validation["importances"]) == {"f00", "f01", "f02", "f03"}
    again = train(config, load_inputs(config))
    assert again.model.model_hash() == outcome.model.model_hash()


def test_a_missing_table_or_a_label_among_the_features_is_refused(tmp_path: Path) -> None:
    config = parse_training_config(CONFIG, str(tmp_path / "train.yaml"))
    with pytest.raises(ModelError, match="cannot read the table"):
        load_inputs(config)
    data = synthetic_panel(n_symbols=2, n_dates=60, n_features=3)
    labels = data.y.rename("label").to_frame().assign(ret=data.ret, t1=data.t1, weight=data.weight)
    with pytest.raises(ModelError, match="ret are label columns"):
        TrainingSet.from_frames(data.X.assign(ret=data.ret), labels)
    with pytest.raises(ModelError, match="lacks column"):
        TrainingSet.from_frames(data.X, labels.drop(columns="t1"))


def test_candidates_with_unknown_parameters_name_the_candidate() -> None:
    text = CONFIG.replace("max_depth: 2}", "max_depth: 2}\n  candidates: [{depth: 3}]")
    with pytest.raises(ConfigError, match=r"model: candidates.0.depth: unknown parameter"):
        parse_training_config(text, "t.yaml")
    with pytest.raises(ConfigError, match="give exactly one of table, synthetic or features"):
        parse_training_config(CONFIG.replace("{table: train.parquet,", "{"), "t.yaml")
