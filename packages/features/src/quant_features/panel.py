"""Bars and features of many symbols in one frame indexed by (symbol, timestamp)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from quant_domain import DataError
from quant_features.batch import BATCH
from quant_features.feature_sets import FeatureSet
from quant_features.specs import CrossRank

BAR_FIELDS = ("open", "high", "low", "close", "volume")
INDEX_NAMES = ("symbol", "timestamp")


def bars_panel(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One frame indexed by (symbol, timestamp) from per-symbol frames indexed by timestamp."""
    if not frames:
        raise DataError("no bars: the panel needs at least one symbol")
    parts = []
    for symbol, frame in frames.items():
        missing = [name for name in BAR_FIELDS if name not in frame.columns]
        if missing:
            raise DataError(f"{symbol}: bars lack columns {', '.join(missing)}")
        part = frame.loc[:, list(BAR_FIELDS)].astype(np.float64)
        part.index = pd.MultiIndex.from_arrays(
            [np.full(len(frame), symbol, dtype=object), pd.DatetimeIndex(frame.index)],
            names=INDEX_NAMES,
        )
        parts.append(part)
    return pd.concat(parts).sort_index()


def _symbol_features(feature_set: FeatureSet, bars: pd.DataFrame) -> np.ndarray:
    columns: list[np.ndarray] = []
    for spec in feature_set.features:
        if isinstance(spec, CrossRank):
            columns.append(np.full(len(bars), np.nan))  # filled across symbols afterwards
        else:
            columns.extend(BATCH[spec.kind](spec, bars))
    return np.column_stack(columns) if columns else np.empty((len(bars), 0))


def cross_rank(values: pd.Series, timestamps: pd.Index) -> pd.Series:
    """Percentile rank of `values` among the symbols sharing each timestamp (ties averaged,
    NaN left out and kept NaN)."""
    keys = pd.DatetimeIndex(timestamps).asi8  # integer keys: tz-aware values would box one by one
    return values.groupby(keys).rank(method="average", pct=True)


def compute_features(feature_set: FeatureSet, bars: pd.DataFrame) -> pd.DataFrame:
    """The set's features for every bar of `bars` (indexed by (symbol, timestamp), sorted).

    Each symbol's values are computed from its first bar given, so a value at t depends on
    that symbol's bars from its first bar up to t (and, for cross_rank, on the other symbols'
    values at t) and on nothing later.
    """
    if list(bars.index.names) != list(INDEX_NAMES):
        raise DataError("bars must be indexed by (symbol, timestamp): build them with bars_panel")
    blocks = []
    # a flat window or a zero volume divides by zero: inf or NaN is the value, as live gives it
    with np.errstate(divide="ignore", invalid="ignore"):
        for _, group in bars.groupby(level="symbol", sort=False):
            blocks.append(_symbol_features(feature_set, group.droplevel("symbol")))
    values = np.vstack(blocks) if blocks else np.empty((0, len(feature_set.columns)))
    out = pd.DataFrame(values, index=bars.index, columns=feature_set.columns, dtype=np.float64)
    timestamps = bars.index.get_level_values("timestamp")
    for spec in feature_set.features:
        if isinstance(spec, CrossRank):
            out[spec.columns()[0]] = cross_rank(out[spec.of], timestamps).to_numpy()
    return out
