"""Market regimes for synthetic data: a Markov chain over bull, bear, sideways, high volatility."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from itertools import accumulate

import numpy as np
import numpy.typing as npt


class Regime(IntEnum):
    BULL = 0
    BEAR = 1
    SIDEWAYS = 2
    HIGH_VOLATILITY = 3


@dataclass(frozen=True, slots=True)
class RegimeTraits:
    """How prices behave in a regime, per trading day, and how long it lasts on average."""

    drift: float
    volatility: float
    mean_days: float
    volume_scale: float


REGIME_TRAITS: dict[Regime, RegimeTraits] = {
    Regime.BULL: RegimeTraits(drift=0.0006, volatility=0.008, mean_days=150, volume_scale=1.0),
    Regime.BEAR: RegimeTraits(drift=-0.0009, volatility=0.017, mean_days=60, volume_scale=1.4),
    Regime.SIDEWAYS: RegimeTraits(drift=0.0, volatility=0.006, mean_days=90, volume_scale=0.8),
    Regime.HIGH_VOLATILITY: RegimeTraits(
        drift=-0.0002, volatility=0.032, mean_days=20, volume_scale=2.0
    ),
}

LEAVE_PROBABILITIES: dict[Regime, tuple[float, float, float, float]] = {
    Regime.BULL: (0.0, 0.25, 0.50, 0.25),
    Regime.BEAR: (0.35, 0.0, 0.35, 0.30),
    Regime.SIDEWAYS: (0.50, 0.30, 0.0, 0.20),
    Regime.HIGH_VOLATILITY: (0.30, 0.40, 0.30, 0.0),
}
"""Where a regime goes when it ends, in Regime order (a regime never follows itself)."""

_RUNS_PER_DRAW = 1024


def trait_array(field: str) -> npt.NDArray[np.float64]:
    """One trait of every regime, indexable by regime labels."""
    return np.array([getattr(REGIME_TRAITS[r], field) for r in Regime], dtype=np.float64)


def regime_path(
    rng: np.random.Generator, n_bars: int, bars_per_day: float = 1.0
) -> npt.NDArray[np.int8]:
    """Regime label (a Regime value) of each of `n_bars` bars.

    A regime lasts a geometric number of bars with mean `mean_days * bars_per_day`, then moves on
    by LEAVE_PROBABILITIES. Random numbers are drawn in fixed-size batches, so a longer path
    starts with the same regimes as a shorter one drawn from the same seed.
    """
    mean_bars = np.maximum(trait_array("mean_days") * bars_per_day, 1.0)
    with np.errstate(divide="ignore"):
        rates = (-np.log1p(-1.0 / mean_bars)).tolist()
    cumulative = [list(accumulate(LEAVE_PROBABILITIES[r])) for r in Regime]
    state = int(rng.integers(len(Regime)))
    states: list[int] = []
    lengths: list[int] = []
    covered = 0
    while covered < n_bars:
        waits = rng.standard_exponential(_RUNS_PER_DRAW).tolist()
        picks = rng.random(_RUNS_PER_DRAW).tolist()
        for wait, pick in zip(waits, picks, strict=True):
            length = int(wait / rates[state]) + 1
            states.append(state)
            lengths.append(length)
            covered += length
            row = cumulative[state]
            state = next((k for k, edge in enumerate(row) if pick < edge), len(row) - 1)
            if state == states[-1]:
                state = (state + 1) % len(Regime)
            if covered >= n_bars:
                break
    labels = np.repeat(np.asarray(states, dtype=np.int8), lengths)
    return labels[:n_bars]
