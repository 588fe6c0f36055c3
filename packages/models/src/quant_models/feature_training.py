"""Training sets from a feature set's rows and the bars' labels, and the per-window retrain.

Both `quant train` (features from the feature store) and a walk-forward with `train:
per_window` build their training rows here, with the rule the strategy trades by: a symbol's
first `warmup_bars` rows are left out (the strategy never predicts on them), and only labels
known by the end of the training window are kept (purged by their end time t1).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from quant_features import FeatureSet, FeatureUpdater, LabelSpec, make_labels
from quant_models.dataset import TrainingSet
from quant_models.errors import ModelError
from quant_models.xgboost_model import XGBoostModel, XGBoostParams


def labelled_set(
    feature_set: FeatureSet,
    features: pd.DataFrame,
    bars: pd.DataFrame,
    label: LabelSpec,
    *,
    start: datetime | None = None,
    known_by: datetime | None = None,
) -> TrainingSet:
    """Rows of `features` (indexed by (symbol, timestamp)) past each symbol's warm-up, from
    `start`, labelled from `bars` by `label`; with `known_by`, only labels whose window ends
    at or before it (t1 <= known_by), so nothing after that time reaches the model."""
    labels = make_labels(label, bars)
    if known_by is not None:
        t1 = pd.to_datetime(labels["t1"], utc=True)
        labels = labels[(t1 <= pd.Timestamp(known_by)).to_numpy()]
    position = features.groupby(level="symbol", sort=False).cumcount().to_numpy()
    kept = features[position >= feature_set.warmup_bars]
    if start is not None:
        stamps = pd.DatetimeIndex(kept.index.get_level_values("timestamp"))
        kept = kept[np.asarray(stamps >= pd.Timestamp(start))]
    if kept.empty or labels.empty:
        raise ModelError(
            "no labelled rows to train on: the range is shorter than the feature set's "
            f"warm-up ({feature_set.warmup_bars} bars) plus the label's horizon"
        )
    return TrainingSet.from_frames(kept, labels)


def train_until(
    feature_set: FeatureSet,
    bars: pd.DataFrame,
    label: LabelSpec,
    until: datetime,
    params: XGBoostParams,
    start: datetime | None = None,
) -> tuple[XGBoostModel, TrainingSet]:
    """A model trained on `bars` up to `until` (a walk-forward's in-sample end): features by the
    strategy's own incremental updater from each symbol's first bar, rows from `start`, labels
    purged at `until` by their end time."""
    stamps = pd.DatetimeIndex(bars.index.get_level_values("timestamp"))
    seen = bars[np.asarray(stamps <= pd.Timestamp(until))]
    features = FeatureUpdater(feature_set).replay(seen)
    data = labelled_set(feature_set, features, seen, label, start=start, known_by=until)
    return XGBoostModel(params).fit(data.X, data.y, data.weight), data
