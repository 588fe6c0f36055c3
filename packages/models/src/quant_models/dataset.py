"""The training set a model sees: features, labels, weights, label end times and returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quant_models.errors import ModelError
from quant_models.splits import EventTimes

LABEL_COLUMNS = ("label", "ret", "t1", "weight")
"""What a labels frame holds per (symbol, timestamp): the label (1/0, or 1/0/-1), the return
over the label's window, when the label is known, and the sample weight (FEATURES_API.md)."""


@dataclass(frozen=True)
class TrainingSet:
    """Rows aligned one for one, sorted by time: X's index is (symbol, timestamp) or timestamp.

    y is 1 where the label is positive, 0 otherwise; ret is the return the strategy earns by
    holding a long position over the label's window; t1 is when that window ends.
    """

    X: pd.DataFrame
    y: pd.Series
    weight: pd.Series
    t1: pd.Series
    ret: pd.Series

    @classmethod
    def from_frames(cls, features: pd.DataFrame, labels: pd.DataFrame) -> TrainingSet:
        """Join features and labels on their index (rows without a label are left out: the
        end of the data, whose label window runs past it); rows are put in time order."""
        missing = [c for c in LABEL_COLUMNS if c not in labels.columns]
        if missing:
            raise ModelError(f"the labels frame lacks column(s) {', '.join(missing)}")
        overlap = [c for c in features.columns if c in LABEL_COLUMNS]
        if overlap:
            raise ModelError(f"feature column(s) {', '.join(overlap)} are label columns: a leak")
        joined = features.join(labels[list(LABEL_COLUMNS)], how="inner")
        if joined.empty:
            raise ModelError("features and labels share no (symbol, timestamp) row")
        if joined[["label", "ret", "t1", "weight"]].isna().any().any():
            raise ModelError("labels have missing values (label, ret, t1 or weight)")
        order = np.argsort(timestamps(joined.index), kind="stable")
        joined = joined.iloc[order]
        return cls(
            X=joined[list(features.columns)],
            y=(joined["label"] > 0).astype(np.int8),
            weight=joined["weight"].astype(np.float64),
            t1=joined["t1"],
            ret=joined["ret"].astype(np.float64),
        )

    def __len__(self) -> int:
        return len(self.X)

    @property
    def t0(self) -> np.ndarray:
        return timestamps(self.X.index)

    def times(self) -> EventTimes:
        return EventTimes.of(self.t0, self.t1.to_numpy())

    def rows(self, positions: np.ndarray) -> TrainingSet:
        return TrainingSet(
            X=self.X.iloc[positions],
            y=self.y.iloc[positions],
            weight=self.weight.iloc[positions],
            t1=self.t1.iloc[positions],
            ret=self.ret.iloc[positions],
        )

    def fingerprint(self) -> str:
        """sha256 over the index, the features and the labels: equal data, equal fingerprint."""
        digest = hashlib.sha256()
        digest.update(",".join(map(str, self.X.columns)).encode())
        digest.update(pd.util.hash_pandas_object(self.X, index=True).to_numpy().tobytes())
        for part in (self.y, self.weight, self.ret, self.t1):
            digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
        return digest.hexdigest()

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First decision time and last label end: the data the model has seen."""
        return (
            pd.Timestamp(self.t0.min(), tz="UTC"),
            pd.Timestamp(pd.to_datetime(self.t1, utc=True).max()),
        )


def timestamps(index: pd.Index) -> np.ndarray:
    """The decision time of each row: the `timestamp` level of a panel, or the index itself."""
    if isinstance(index, pd.MultiIndex):
        if "timestamp" not in index.names:
            raise ModelError(f"a panel index needs a 'timestamp' level, has {list(index.names)}")
        index = index.get_level_values("timestamp")
    times = pd.to_datetime(index, utc=True)
    return np.asarray(times.tz_localize(None), dtype="datetime64[ns]")
