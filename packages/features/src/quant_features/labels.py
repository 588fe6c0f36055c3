"""Labels for supervised models: fixed-horizon and triple-barrier, with end times and weights.

A label at bar t0 is decided by closes after t0 only; `t1` is the bar where it is decided, so a
splitter can purge every training row whose [t0, t1] overlaps a validation fold.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from quant_domain import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

LABEL_CODE_VERSION = "1"


class LabelSpec(BaseModel):
    """What a label means.

    fixed_horizon: ret = close[t0 + horizon] / close[t0] - 1; binary: 1 when ret >= threshold
    else 0; otherwise 1 / -1 / 0 for ret >= threshold / ret <= -threshold / between.
    triple_barrier: the first of close >= (1 + profit_take) * entry (1), close <= (1 -
    stop_loss) * entry (-1) within max_holding bars; at the time limit the sign of the return
    (or 0 when time_label is "zero"); binary maps -1 and 0 to 0.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["fixed_horizon", "triple_barrier"]
    horizon: int | None = Field(default=None, ge=1, le=2520)
    threshold: float = Field(default=0.0, ge=0, le=10)
    profit_take: float | None = Field(default=None, gt=0, le=10)
    stop_loss: float | None = Field(default=None, gt=0, lt=1)
    max_holding: int | None = Field(default=None, ge=1, le=2520)
    time_label: Literal["sign", "zero"] = "sign"
    binary: bool = False

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> LabelSpec:
        if self.kind == "fixed_horizon":
            if self.horizon is None:
                raise ValueError("a fixed_horizon label needs horizon (bars ahead)")
            if self.profit_take or self.stop_loss or self.max_holding:
                raise ValueError("profit_take, stop_loss and max_holding belong to triple_barrier")
        else:
            missing = [
                name
                for name in ("profit_take", "stop_loss", "max_holding")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"a triple_barrier label needs {', '.join(missing)}")
            if self.horizon is not None:
                raise ValueError("horizon belongs to fixed_horizon; use max_holding")
        return self

    @property
    def bars_ahead(self) -> int:
        """The most bars after t0 a label may look at."""
        ahead = self.horizon if self.kind == "fixed_horizon" else self.max_holding
        return ahead or 0

    @property
    def version(self) -> str:
        text = json.dumps(
            {**self.model_dump(mode="json"), "code": LABEL_CODE_VERSION}, sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fixed_horizon(spec: LabelSpec, close: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    h = spec.bars_ahead
    rows = close.size - h
    ret = close[h:] / close[:rows] - 1.0
    up = ret >= spec.threshold
    if spec.binary:
        label = up.astype(np.float64)
    else:
        label = np.where(up, 1.0, np.where(ret <= -spec.threshold, -1.0, 0.0))
    return label, np.arange(rows, dtype=np.int64) + h, ret


def _triple_barrier(spec: LabelSpec, close: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    h = spec.bars_ahead
    rows = close.size - h
    entry = close[:rows]
    # path[i, j] = close[i + 1 + j] / close[i] - 1 for j < h: the closes after the decision bar
    path = np.lib.stride_tricks.sliding_window_view(close[1:], h)[:rows] / entry[:, None] - 1.0
    hit_top = path >= float(spec.profit_take or 0.0)
    hit_bottom = path <= -float(spec.stop_loss or 0.0)
    first_top = np.where(hit_top.any(axis=1), hit_top.argmax(axis=1), h)
    first_bottom = np.where(hit_bottom.any(axis=1), hit_bottom.argmax(axis=1), h)
    first = np.minimum(first_top, first_bottom)
    touched = first < h
    offset = np.where(touched, first, h - 1)
    end = np.arange(rows, dtype=np.int64) + 1 + offset
    ret = close[end] / entry - 1.0
    at_limit = np.sign(ret) if spec.time_label == "sign" else np.zeros(rows)
    label = np.where(touched, np.where(first_top <= first_bottom, 1.0, -1.0), at_limit)
    if spec.binary:
        label = (label > 0).astype(np.float64)
    return label, end, ret


def overlap_weights(starts: IntArray, ends: IntArray, size: int) -> FloatArray:
    """Average uniqueness: each label spans bars (start, end]; its weight is the mean over them
    of 1 / (number of labels spanning the bar), so overlapping labels share their weight."""
    if starts.size == 0:
        return np.empty(0)
    change = np.zeros(size + 1)
    np.add.at(change, starts + 1, 1.0)
    np.add.at(change, ends + 1, -1.0)
    concurrency = np.cumsum(change)[:size]
    inverse = np.where(concurrency > 0, 1.0 / np.maximum(concurrency, 1.0), 0.0)
    prefix = np.concatenate(([0.0], np.cumsum(inverse)))
    return np.asarray((prefix[ends + 1] - prefix[starts + 1]) / (ends - starts), dtype=np.float64)


def make_labels(spec: LabelSpec, bars: pd.DataFrame) -> pd.DataFrame:
    """Labels of every bar of `bars` (indexed by (symbol, timestamp), sorted) whose horizon ends
    inside the data: columns label (int8), ret, t1 (the deciding bar's timestamp), weight."""
    if list(bars.index.names) != ["symbol", "timestamp"]:
        raise DataError("bars must be indexed by (symbol, timestamp): build them with bars_panel")
    make = _fixed_horizon if spec.kind == "fixed_horizon" else _triple_barrier
    parts = []
    for symbol, group in bars.groupby(level="symbol", sort=False):
        stamps = group.index.get_level_values("timestamp")
        close = group["close"].to_numpy(dtype=np.float64)
        if close.size <= spec.bars_ahead:
            continue
        label, end, ret = make(spec, close)
        starts = np.arange(end.size, dtype=np.int64)
        weight = overlap_weights(starts, end, close.size)
        index = pd.MultiIndex.from_arrays(
            [np.full(end.size, symbol, dtype=object), stamps[: end.size]],
            names=["symbol", "timestamp"],
        )
        parts.append(
            pd.DataFrame(
                {"label": label.astype(np.int8), "ret": ret, "t1": stamps[end], "weight": weight},
                index=index,
            )
        )
    if not parts:
        empty = pd.MultiIndex.from_arrays(
            [[], pd.DatetimeIndex([], tz="UTC")], names=["symbol", "timestamp"]
        )
        return pd.DataFrame(
            {
                "label": np.empty(0, np.int8),
                "ret": np.empty(0),
                "t1": pd.DatetimeIndex([], tz="UTC"),
                "weight": np.empty(0),
            },
            index=empty,
        )
    return pd.concat(parts)
