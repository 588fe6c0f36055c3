"""The regime feature's code at chosen bars only, without computing it over the whole history.

A trade is tagged with the market regime at its entry; computing the regime feature for every
bar of a 1M-bar run to read it at a few hundred entries would cost more than the run. This reads
only the bars it needs before each point (the true ranges behind the last `reference_window`
fast gauges, and the trend window), with the formulas of `batch._regime` and the code rule of
`specs.Regime.code`. `tests/unit/features/test_regime_points.py` proves the codes equal the batch
feature's at every bar of the samples.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quant_features.batch import log_true_range
from quant_features.specs import Regime

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REGIME_NAMES = {0: "bull", 1: "bear", 2: "sideways", 3: "high_volatility"}
"""The codes of specs.Regime (those of the synthetic source's regimes), by name."""

DEFAULT_REGIME = Regime(kind="regime")


def regimes_at(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    at: IntArray,
    spec: Regime = DEFAULT_REGIME,
) -> list[str | None]:
    """The regime name at each position of `at` in the bars (None while the feature warms up
    or a value it needs is missing)."""
    high, low, close = (np.asarray(a, dtype=np.float64) for a in (high, low, close))
    positions = np.asarray(at, dtype=np.int64)
    names: list[str | None] = [None] * positions.size
    fw, cw, rw, tw = spec.range_window, spec.calm_window, spec.reference_window, spec.trend_window
    # true ranges behind the last rw fast gauges, and behind the slow gauge
    reach = max(rw + fw - 1, cw)
    for n, t in enumerate(positions.tolist()):
        if t < spec.warmup() or t >= close.size:
            continue
        first = max(0, t - reach + 1)
        # the bar before `first` gives its previous close; at bar 0 there is none (NaN)
        lead = 1 if first > 0 else 0
        ranges = log_true_range(
            high[first - lead : t + 1], low[first - lead : t + 1], close[first - lead : t + 1]
        )[lead:]
        fast = np.lib.stride_tricks.sliding_window_view(ranges, fw).mean(axis=1)[-rw:]
        defined = np.sort(fast[~np.isnan(fast)])
        if defined.size < spec.reference_min:
            continue
        reference = defined[spec.reference_rank(defined.size)]
        closes = close[t - tw + 1 : t + 1]
        with np.errstate(divide="ignore", invalid="ignore"):  # numpy's inf/NaN, as batch's
            range_ratio = float(fast[-1] / reference)
            calm_ratio = float(ranges[-cw:].mean() / reference)
            trend = float(close[t] / closes.mean() - 1.0)
        code = spec.code(range_ratio, calm_ratio, trend)
        if not np.isnan(code):
            names[n] = REGIME_NAMES[int(code)]
    return names
