"""Look-ahead check for features: scramble every bar after t; no feature value up to t may move.

The same idea as the strategy check (quant_backtest.lookahead), applied to feature columns so it
runs without an engine: a feature that reads a later bar (a shift(-1), a centred window, a
label) changes when only later bars change, and is named with the first time it did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from quant_features.feature_sets import FeatureSet
from quant_features.panel import compute_features

Compute = Callable[[pd.DataFrame], pd.DataFrame]

STEP_VOL = 0.03
"""Per-bar volatility of the random walk multiplied onto the scrambled bars."""
TOLERANCE = 1e-12


@dataclass(frozen=True, slots=True)
class LeakFinding:
    """A column whose value at or before `cut` changed when only bars after `cut` did."""

    column: str
    cut: datetime
    first_changed: datetime
    detail: str


def scramble_after(bars: pd.DataFrame, cut: pd.Timestamp, seed: int) -> pd.DataFrame:
    """`bars` with every bar after `cut` moved by a random walk (prices) and noise (volume)."""
    rng = np.random.default_rng(seed)
    prices = bars[["open", "high", "low", "close"]].to_numpy(dtype=np.float64, copy=True)
    volume = bars["volume"].to_numpy(dtype=np.float64, copy=True)
    later = np.asarray(bars.index.get_level_values("timestamp") > cut)
    symbols = np.asarray(bars.index.get_level_values("symbol"))
    for symbol in dict.fromkeys(symbols[later]):
        rows = np.flatnonzero(later & (symbols == symbol))
        walk = np.exp(np.cumsum(rng.normal(0.0, STEP_VOL, rows.size)) + 0.25)
        prices[rows] *= walk[:, None]
        volume[rows] *= np.exp(rng.normal(0.0, 0.5, rows.size))
    out = bars.copy()
    out[["open", "high", "low", "close"]] = prices
    out["volume"] = volume
    return out


def check_feature_leak(
    features: FeatureSet | Compute, bars: pd.DataFrame, points: int = 4, seed: int = 0
) -> list[LeakFinding]:
    """Findings for every column that changed at or before a cut when later bars changed.

    `features` is a feature set or any function from bars to a frame indexed like them; the
    cuts are `points` timestamps spread over the middle of the data. Empty means no look-ahead.
    """
    compute: Compute = (
        (lambda frame: compute_features(features, frame))
        if isinstance(features, FeatureSet)
        else features
    )
    reference = compute(bars)
    stamps = np.unique(bars.index.get_level_values("timestamp"))
    cuts = [stamps[int(q * (stamps.size - 1))] for q in np.linspace(0.3, 0.9, points)]
    findings: dict[str, LeakFinding] = {}
    for number, cut in enumerate(cuts):
        cut_at = pd.Timestamp(cut)
        scrambled = compute(scramble_after(bars, cut_at, seed + number))
        upto = reference.index.get_level_values("timestamp") <= cut_at
        before, after = reference[upto], scrambled.loc[reference.index[upto]]
        for column in reference.columns:
            if column in findings:
                continue
            x, y = before[column].to_numpy(), after[column].to_numpy()
            moved = ~((np.abs(x - y) <= TOLERANCE) | (np.isnan(x) & np.isnan(y)))
            if moved.any():
                first = before.index[moved.argmax()]
                findings[column] = LeakFinding(
                    column=column,
                    cut=cut_at.to_pydatetime(),
                    first_changed=pd.Timestamp(first[1]).to_pydatetime(),
                    detail=f"{column} of {first[0]} at {first[1]} changed when only bars "
                    f"after {cut_at} did",
                )
    return list(findings.values())
