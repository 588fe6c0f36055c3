"""Pure indicator, feature-set and label functions: incremental for the live loop, batch for research."""

from quant_features.compiled import ratio_targets, sma_running, sma_running_cached
from quant_features.feature_sets import FeatureSet, load_feature_set, parse_feature_set
from quant_features.labels import LabelSpec, make_labels, overlap_weights
from quant_features.leakage import LeakFinding, check_feature_leak
from quant_features.panel import bars_panel, compute_features
from quant_features.rolling import BollingerBands, RelativeStrengthIndex, SimpleMovingAverage
from quant_features.updater import FeatureUpdater
from quant_features.vectorised import bollinger, momentum, rsi, sma

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
