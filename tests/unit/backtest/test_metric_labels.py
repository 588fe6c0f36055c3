"""Metric labels: closed-trade statistics without a closed trade say so instead of reading 0."""

from __future__ import annotations

import numpy as np

from quant_backtest.metric_labels import NO_CLOSED_TRADES, metric_rows
from quant_engine.metrics import compute_metrics


def test_metric_rows_without_closed_trades_say_no_closed_trades_not_zero() -> None:
    rows = dict(metric_rows(compute_metrics(np.array([100.0, 101.0, 99.0]), periods_per_year=252)))
    assert rows["Closed trades"] == "0"
    for label in ("Win rate", "Profit factor", "Average win", "Best trade", "Worst trade"):
        assert rows[label] == NO_CLOSED_TRADES
    assert rows["Open trades at the end"] == "0"
