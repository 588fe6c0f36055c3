"""The regime feature's code at chosen bars only, without computing it over the whole history.

A trade is tagged with the market regime at its entry; computing the regime feature for every
bar of a 1M-bar run to read it at a few hundred entries would cost more than the run. This reads
only the windows it needs (the closes from `vol_window + rank_window` bars before each point and
the trend window), with the formulas of `batch._regime`: the annualisation of the volatility does
not change its rank, so it is left out. `tests/unit/features/test_regime_points.py` proves the
codes equal the batch feature's at every bar of the samples.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quant_features.specs import Regime

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REGIME_NAMES = {0: "bull", 1: "bear", 2: "sideways", 3: "high_volatility"}
"""The codes of specs.Regime (those of the synthetic source's regimes), by name."""

DEFAULT_REGIME = Regime(kind="regime")


def regimes_at(close: FloatArray, at: IntArray, spec: Regime = DEFAULT_REGIME) -> list[str | None]:
    """The regime name at each position of `at` in `close` (None while the feature warms up or
    a close in its windows is missing)."""
    positions = np.asarray(at, dtype=np.int64)
    names: list[str | None] = [None] * positions.size
    vw, rw, tw = spec.vol_window, spec.rank_window, spec.trend_window
    span = vw + rw  # closes behind the last volatility rank: rw vols of vw returns each
    logs = np.log(np.asarray(close, dtype=np.float64))
    for n, t in enumerate(positions.tolist()):
        if t < max(span - 1, tw - 1) or t >= logs.size:
            continue
        returns = np.diff(logs[t - span + 1 : t + 1])  # rw + vw - 1 returns up to t
        vols = np.lib.stride_tricks.sliding_window_view(returns, vw).std(axis=1, ddof=1)
        closes = close[t - tw + 1 : t + 1]
        if not (np.isfinite(vols).all() and np.isfinite(closes).all()):
            continue
        rank = float((vols <= vols[-1]).sum()) / rw
        trend = float(close[t]) / float(closes.mean()) - 1.0
        if rank >= spec.high_vol:
            code = 3
        elif trend > spec.band:
            code = 0
        elif trend < -spec.band:
            code = 1
        else:
            code = 2
        names[n] = REGIME_NAMES[code]
    return names
