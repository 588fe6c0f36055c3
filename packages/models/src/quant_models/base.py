"""The TradingModel port: fit on features and labels, predict probabilities, explain predictions."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd

BIAS = "bias"
"""The column of `Explanation.contributions` holding the model's base value."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why the model said what it said.

    contributions has one row per input row and one column per feature plus `BIAS`; each row
    sums to the prediction's log-odds (SHAP values for trees). importances is the share of the
    model's total gain each feature brought, summing to 1 (0 for unused features).
    """

    contributions: pd.DataFrame
    importances: pd.Series


class TradingModel(ABC):
    """A classifier of "the label is positive", trained on a feature matrix.

    features is a DataFrame whose columns are the features (indexed by timestamp or by (symbol,
    timestamp)); labels hold 1 for a positive label and 0 otherwise. Implementations are
    deterministic: the same data and parameters give the same `to_bytes()`, hence `model_hash()`.
    """

    kind: str
    """The implementation's name in configs and in the registry (`xgboost`)."""

    @abstractmethod
    def fit(
        self, features: pd.DataFrame, labels: pd.Series, sample_weight: pd.Series | None = None
    ) -> Self:
        """Train on features and labels (weights optional); returns self."""

    @abstractmethod
    def predict(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """P(label positive) per row of features, as float64, columns in `feature_names` order."""

    @abstractmethod
    def explain(self, features: pd.DataFrame) -> Explanation:
        """Per-row contributions of each feature, and the model's global importances."""

    @property
    @abstractmethod
    def feature_names(self) -> list[str]:
        """The columns the model was trained on, in order."""

    @abstractmethod
    def to_bytes(self) -> bytes:
        """The trained model as bytes (the artifact); raises ModelError before fit."""

    @classmethod
    @abstractmethod
    def from_bytes(cls, raw: bytes) -> Self:
        """A trained model back from `to_bytes()`."""

    def model_hash(self) -> str:
        """sha256 of the artifact: equal for equal training data, parameters and code."""
        return hashlib.sha256(self.to_bytes()).hexdigest()
