"""Train a model as a config says: validate every candidate, pick one, refit it on all data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quant_models.dataset import TrainingSet
from quant_models.errors import ModelError
from quant_models.splits import CombinatorialPurgedCV, PurgedWalkForward
from quant_models.synthetic import synthetic_panel
from quant_models.training_config import TrainingConfig
from quant_models.validation import cpcv, overfitting, walk_forward
from quant_models.xgboost_model import XGBoostModel, XGBoostParams

Report = Callable[[str], None]


@dataclass(frozen=True)
class TrainingOutcome:
    model: XGBoostModel
    params: XGBoostParams
    validation: dict[str, Any]
    data: TrainingSet


def load_inputs(config: TrainingConfig) -> TrainingSet:
    """The training set the config names (a Parquet table, or a synthetic panel)."""
    if config.inputs.synthetic is not None:
        spec = config.inputs.synthetic
        return synthetic_panel(**spec.model_dump())
    path = config.table_path()
    try:
        table = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the table: {str(exc).splitlines()[0]}") from None
    if {"symbol", "timestamp"} <= set(table.columns):
        table = table.set_index(["symbol", "timestamp"])
    labels = [c for c in ("label", "ret", "t1", "weight") if c in table.columns]
    return TrainingSet.from_frames(table.drop(columns=labels), table[labels])


def _folds(result: Any) -> list[dict[str, Any]]:
    return [
        {
            "test_groups": list(f.test_groups),
            "n_train": f.n_train,
            "n_test": f.n_test,
            "purged": f.purged,
            "embargoed": f.embargoed,
            "start": f.start,
            "end": f.end,
            "sharpe": _finite(f.sharpe),
            "hit_rate": f.hit_rate,
        }
        for f in result.folds
    ]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _factory(params: XGBoostParams) -> Callable[[], XGBoostModel]:
    return lambda: XGBoostModel(params)


def train(
    config: TrainingConfig, data: TrainingSet, report: Report = lambda _: None
) -> TrainingOutcome:
    """Walk-forward every candidate, choose the best OOS Sharpe, score it by CPCV, DSR and PBO,
    then fit it on all the data."""
    spec = config.validation
    splitter = PurgedWalkForward(
        n_splits=spec.walk_forward.n_splits,
        embargo=config.embargo(spec.walk_forward.embargo_days),
        max_train_groups=spec.walk_forward.max_train_groups,
    )
    candidates = config.model.all_params()
    results = {}
    for number, params in enumerate(candidates):
        result = walk_forward(_factory(params), data, splitter, spec.thresholds)
        results[f"c{number}"] = result
        report(f"candidate {number}: walk-forward OOS Sharpe {result.sharpe:.2f}")
    chosen = max(results, key=lambda key: results[key].sharpe)
    params = candidates[int(chosen[1:])]
    best = results[chosen]
    checks = overfitting({key: r.returns for key, r in results.items()}, chosen)
    validation: dict[str, Any] = {
        "method": "purged_walk_forward",
        "oos_sharpe": _finite(best.sharpe),
        "dsr": checks.dsr,
        "pbo": checks.pbo,
        "n_trials": checks.n_trials,
        "chosen_candidate": int(chosen[1:]),
        "candidate_sharpes": [_finite(r.sharpe) for r in results.values()],
        "walk_forward": {**spec.walk_forward.model_dump(), "folds": _folds(best)},
        "thresholds": spec.thresholds.model_dump(),
        "rows": len(data),
    }
    if spec.cpcv is not None:
        cv = CombinatorialPurgedCV(
            n_groups=spec.cpcv.n_groups,
            n_test_groups=spec.cpcv.n_test_groups,
            embargo=config.embargo(spec.cpcv.embargo_days),
        )
        paths = cpcv(_factory(params), data, cv, spec.thresholds)
        validation["cpcv"] = {
            **spec.cpcv.model_dump(),
            "summary": paths.summary(),
            "path_sharpes": [_finite(s) for s in paths.path_sharpes],
            "folds": _folds(paths),
        }
        report(
            f"CPCV: {len(paths.path_sharpes)} paths, median OOS Sharpe "
            f"{paths.summary()['median']:.2f}"
        )
    model = XGBoostModel(params).fit(data.X, data.y, data.weight)
    validation["importances"] = {k: float(v) for k, v in model.importances().items()}
    return TrainingOutcome(model=model, params=params, validation=validation, data=data)
