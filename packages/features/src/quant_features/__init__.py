"""Pure indicator, feature-set and label functions: incremental for the live loop, batch for research.

Names load on first use (PEP 562), so a module that needs only the YAML reader or the rolling
indicators does not import numba, pandas-ta or scipy (`quant --help` stays light).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quant_features.compiled import ratio_targets, sma_running, sma_running_cached
    from quant_features.feature_sets import FeatureSet, load_feature_set, parse_feature_set
    from quant_features.labels import LabelSpec, make_labels, overlap_weights
    from quant_features.leakage import LeakFinding, check_feature_leak
    from quant_features.panel import bars_panel, compute_features
    from quant_features.rolling import (
        BollingerBands,
        RelativeStrengthIndex,
        SimpleMovingAverage,
    )
    from quant_features.updater import FeatureUpdater
    from quant_features.vectorised import bollinger, momentum, rsi, sma

_MODULES = {
    "quant_features.compiled": ("ratio_targets", "sma_running", "sma_running_cached"),
    "quant_features.feature_sets": ("FeatureSet", "load_feature_set", "parse_feature_set"),
    "quant_features.labels": ("LabelSpec", "make_labels", "overlap_weights"),
    "quant_features.leakage": ("LeakFinding", "check_feature_leak"),
    "quant_features.panel": ("bars_panel", "compute_features"),
    "quant_features.rolling": ("BollingerBands", "RelativeStrengthIndex", "SimpleMovingAverage"),
    "quant_features.updater": ("FeatureUpdater",),
    "quant_features.vectorised": ("bollinger", "momentum", "rsi", "sma"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "BollingerBands",
    "FeatureSet",
    "FeatureUpdater",
    "LabelSpec",
    "LeakFinding",
    "RelativeStrengthIndex",
    "SimpleMovingAverage",
    "bars_panel",
    "bollinger",
    "check_feature_leak",
    "compute_features",
    "load_feature_set",
    "make_labels",
    "momentum",
    "overlap_weights",
    "parse_feature_set",
    "ratio_targets",
    "rsi",
    "sma",
    "sma_running",
    "sma_running_cached",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'quant_features' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
