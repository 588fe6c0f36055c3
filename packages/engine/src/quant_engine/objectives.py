"""What a parameter search maximises, computed the way the metrics module computes it."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from quant_engine.metrics import compute_metrics, profit_factor


class Objective(StrEnum):
    SHARPE = "sharpe"
    TOTAL_RETURN = "total_return"
    SORTINO = "sortino"
    CALMAR = "calmar"
    PROFIT_FACTOR = "profit_factor"


_CAP = 1e6  # an infinite profit factor (no losing trade) ranks first but stays comparable


def score(
    objective: Objective, equity: np.ndarray, trade_pnls: np.ndarray, periods_per_year: float
) -> float:
    """The objective's value for one run; `equity` starts with the initial capital."""
    if objective is Objective.PROFIT_FACTOR:
        return min(profit_factor(trade_pnls), _CAP)
    metrics = compute_metrics(equity, periods_per_year=periods_per_year)
    return float(getattr(metrics, objective.value))
