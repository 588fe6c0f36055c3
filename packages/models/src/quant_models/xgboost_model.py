"""The XGBoost implementation of TradingModel: seeded, fixed threads, byte-identical retrains."""

from __future__ import annotations

import os
from typing import Any, Self

# OpenMP's threads spin while they wait by default; on a shared machine whose cores are all busy
# two spinning threads trained 28x slower than passive ones (0.74 s against 20.6 s, load 14 on
# 2 cores, bench figures in docs/benchmarks.md). libgomp reads this once, when xgboost loads it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
import xgboost as xgb
from pydantic import BaseModel, ConfigDict, Field

from quant_models.base import BIAS, Explanation, TradingModel
from quant_models.errors import ModelError


class XGBoostParams(BaseModel):
    """The knobs a training config may set; everything else is fixed for determinism.

    The histogram tree method builds the same trees whatever the thread count (measured bitwise
    in issue 16), so `nthread` changes speed, not the model; `seed` fixes row and column sampling.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_estimators: int = Field(default=200, ge=1, le=10_000)
    max_depth: int = Field(default=4, ge=1, le=16)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    min_child_weight: float = Field(default=1.0, ge=0)
    reg_lambda: float = Field(default=1.0, ge=0)
    reg_alpha: float = Field(default=0.0, ge=0)
    max_bin: int = Field(default=256, ge=2, le=4096)
    seed: int = Field(default=0, ge=0)
    nthread: int = Field(default=1, ge=1, le=256)
    """Training threads: the model is the same for any count (hist); more only change speed."""
    predict_nthread: int = Field(default=1, ge=1, le=256)
    """Threads for predict/explain: one row per bar is fastest on one thread (no pool wake-up)."""

    def booster_params(self, threads: int | None = None) -> dict[str, Any]:
        return {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "lambda": self.reg_lambda,
            "alpha": self.reg_alpha,
            "max_bin": self.max_bin,
            "seed": self.seed,
            "nthread": self.nthread if threads is None else threads,
            "verbosity": 0,
        }


class XGBoostModel(TradingModel):
    """Gradient-boosted trees on the features; predictions are P(label positive)."""

    kind = "xgboost"

    def __init__(self, params: XGBoostParams | None = None) -> None:
        self.params = params or XGBoostParams()
        self._booster: xgb.Booster | None = None

    @property
    def booster(self) -> xgb.Booster:
        if self._booster is None:
            raise ModelError("the model is not trained yet: call fit() or load an artifact")
        return self._booster

    @property
    def feature_names(self) -> list[str]:
        return list(self.booster.feature_names or [])

    def fit(
        self, features: pd.DataFrame, labels: pd.Series, sample_weight: pd.Series | None = None
    ) -> Self:
        if len(features) != len(labels) or (
            sample_weight is not None and len(sample_weight) != len(features)
        ):
            raise ModelError(
                f"features has {len(features)} rows, labels {len(labels)}"
                + ("" if sample_weight is None else f", sample_weight {len(sample_weight)}")
                + "; they must be aligned row for row"
            )
        if len(features) == 0:
            raise ModelError("no rows to train on")
        targets = np.asarray(labels, dtype=np.float64)
        if not np.isin(targets, (0.0, 1.0)).all():
            raise ModelError("labels must hold 0 and 1 only (1 = the label is positive)")
        data = xgb.DMatrix(
            _matrix(features),
            label=targets,
            weight=None if sample_weight is None else np.asarray(sample_weight, np.float64),
            feature_names=[str(c) for c in features.columns],
            nthread=self.params.nthread,
        )
        self._booster = xgb.train(
            self.params.booster_params(), data, num_boost_round=self.params.n_estimators
        )
        self._booster.set_param({"nthread": self.params.predict_nthread})
        return self

    def predict(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        booster = self.booster
        if isinstance(features, pd.DataFrame):
            features = self._aligned(features)
        values = np.asarray(features, dtype=np.float32)
        if values.ndim == 1:
            values = values.reshape(1, -1)
        out = booster.inplace_predict(values, validate_features=False)
        return np.asarray(out, dtype=np.float64)

    def explain(self, features: pd.DataFrame) -> Explanation:
        aligned = self._aligned(features)
        names = self.feature_names
        data = xgb.DMatrix(aligned, feature_names=names, nthread=self.params.predict_nthread)
        contributions = self.booster.predict(data, pred_contribs=True)
        return Explanation(
            contributions=pd.DataFrame(contributions, index=features.index, columns=[*names, BIAS]),
            importances=self.importances(),
        )

    def importances(self) -> pd.Series:
        """Each feature's share of the total gain over all splits (0 for unused features)."""
        gain = self.booster.get_score(importance_type="total_gain")
        names = self.feature_names
        values = np.array([_number(gain.get(name, 0.0)) for name in names], dtype=np.float64)
        total = float(values.sum())
        return pd.Series(values / total if total > 0 else values, index=names, dtype=np.float64)

    def to_bytes(self) -> bytes:
        return bytes(self.booster.save_raw(raw_format="ubj"))

    @classmethod
    def from_bytes(cls, raw: bytes, params: XGBoostParams | None = None) -> Self:
        model = cls(params)
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(raw))
        except xgb.core.XGBoostError as exc:
            raise ModelError(f"not an XGBoost model artifact: {str(exc).splitlines()[0]}") from None
        booster.set_param({"nthread": model.params.predict_nthread})
        model._booster = booster
        return model

    def _aligned(self, features: pd.DataFrame) -> np.ndarray:
        names = self.feature_names
        missing = [n for n in names if n not in features.columns]
        if missing:
            raise ModelError(f"features lack the model's feature(s) {', '.join(missing[:5])}")
        return _matrix(features[names])


def _matrix(features: pd.DataFrame) -> np.ndarray:
    try:
        return features.to_numpy(dtype=np.float32, na_value=np.nan)
    except (TypeError, ValueError):
        bad = [str(c) for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
        raise ModelError(f"feature column(s) {', '.join(bad[:5])} are not numeric") from None


def _number(value: float | list[float]) -> float:
    """A score from get_score: a float per feature (a list only for multi-output models)."""
    return float(sum(value)) if isinstance(value, list) else float(value)
