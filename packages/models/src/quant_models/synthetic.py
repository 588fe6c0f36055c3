"""A synthetic panel with a planted, learnable signal: for tests, demos and bench/training.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quant_models.dataset import TrainingSet


def synthetic_panel(
    n_symbols: int = 20,
    n_dates: int = 500,
    n_features: int = 10,
    horizon: int = 5,
    signal: float = 0.3,
    seed: int = 7,
) -> TrainingSet:
    """Daily rows for n_symbols: features f00.. drawn N(0, 1); the return over the next `horizon`
    business days is signal × (f00 − f01 + f02 / 2) plus unit noise, scaled to 1 % a day; the
    label is 1 when that return is positive. `signal` = 0 leaves nothing to learn."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2000-01-03", periods=n_dates, tz="UTC")
    symbols = [f"S{i:03d}" for i in range(n_symbols)]
    index = pd.MultiIndex.from_product([symbols, dates], names=["symbol", "timestamp"])
    rows = index.size
    values = rng.standard_normal((rows, n_features), dtype=np.float32)
    names = [f"f{i:02d}" for i in range(n_features)]
    driver = values[:, 0] - values[:, 1] + 0.5 * values[:, min(2, n_features - 1)]
    ret = 0.01 * np.sqrt(horizon) * (signal * driver + rng.standard_normal(rows))
    t1 = np.tile(dates + pd.offsets.BDay(horizon), n_symbols)
    features = pd.DataFrame(values, index=index, columns=names)
    labels = pd.DataFrame(
        {
            "label": (ret > 0).astype(np.int8),
            "ret": ret,
            "t1": t1,
            "weight": np.ones(rows),
        },
        index=index,
    )
    return TrainingSet.from_frames(features, labels)
