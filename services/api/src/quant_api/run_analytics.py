"""A run's statistics from its full stored series, with the HTML report's own functions
(quant_engine.metrics), downsampled only afterwards for the chart (issue 10, ADR 0017)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_api.downsampling import extreme_positions
from quant_api.run_series import StoredCurve
from quant_api.schemas.v1.analytics import (
    BenchmarkCurve,
    LineSeries,
    MonthlyReturnsYear,
    ParameterSurface,
    RollingSharpe,
    RunAnalytics,
    SeriesPoint,
)
from quant_db.schema.runs import RunStatus
from quant_engine.metrics import drawdown_series, monthly_returns, periods_per_year, rolling_sharpe

ROLLING_CAP = 126  # half a year of daily returns, the HTML report's cap


def rolling_window(n_points: int) -> int:
    """Returns per rolling-Sharpe window: the HTML report's rule (a quarter of the curve, 2..126)."""
    return max(2, min(ROLLING_CAP, n_points // 4))


def downsampled(
    index: pd.DatetimeIndex, values: npt.NDArray[np.float64], points: int
) -> LineSeries:
    """The finite values of a line, at most `points` of them, each bucket's extremes kept."""
    finite = np.isfinite(values)
    stamps, kept_values = index[finite], values[finite]
    keep = extreme_positions(kept_values, points)
    return LineSeries(
        total_points=int(kept_values.size),
        points=[
            SeriesPoint(ts=ts, value=float(v))
            for ts, v in zip(stamps[keep].to_pydatetime(), kept_values[keep].tolist(), strict=True)
        ],
    )


def monthly_table(
    index: pd.DatetimeIndex, equity: npt.NDArray[np.float64]
) -> list[MonthlyReturnsYear]:
    """quant_engine.metrics.monthly_returns of the curve, as year rows of twelve cells."""
    if equity.size == 0:
        return []
    table = monthly_returns(pd.Series(equity, index=index))
    values = table.to_numpy(dtype=np.float64)
    return [
        MonthlyReturnsYear(year=int(year), months=[None if math.isnan(v) else v for v in row])
        for year, row in zip(table.index.tolist(), values.tolist(), strict=True)
    ]


def annualisation(metrics: dict[str, Any], index: pd.DatetimeIndex) -> float | None:
    """The run's stored periods_per_year (what its Sharpe used), else inferred from the index."""
    stored = metrics.get("periods_per_year")
    if isinstance(stored, int | float) and not isinstance(stored, bool) and stored > 0:
        return float(stored)
    return periods_per_year(index) if len(index) else None


def benchmark_note(status: RunStatus, symbol: str | None, stored: pd.Series) -> str | None:
    if not stored.empty:
        return None
    if status != RunStatus.COMPLETED:
        return "the benchmark curve is stored when the run completes"
    if symbol is None:
        return "the run's config names no benchmark"
    return (
        f"this run stored no {symbol} benchmark curve: runs stored before benchmark curves were "
        "kept have none (run it again to see it)"
    )


def analytics_of(
    *,
    run_id: uuid.UUID,
    status: RunStatus,
    metrics: dict[str, Any],
    benchmark_symbol: str | None,
    curve: StoredCurve,
    benchmark: pd.Series,
    points: int,
    surface: ParameterSurface | None = None,
) -> RunAnalytics:
    """Every statistic of the answer, each from the whole curve, each line at most `points`."""
    index, equity = curve.index, curve.equity
    ppy = annualisation(metrics, index)
    window = rolling_window(len(index)) if len(index) else 0
    if ppy is not None and window:
        sharpe = rolling_sharpe(equity, window, ppy)  # one value per return: index[1:]
        rolling = downsampled(index[1:], sharpe, points)
    else:
        rolling = LineSeries(total_points=0, points=[])
    line = None
    if not benchmark.empty:
        line = downsampled(
            pd.DatetimeIndex(benchmark.index), benchmark.to_numpy(dtype=np.float64), points
        )
    return RunAnalytics(
        run_id=run_id,
        status=status,
        total_points=len(index),
        periods_per_year=ppy,
        monthly_returns=monthly_table(index, equity),
        drawdown=downsampled(index, drawdown_series(equity), points),
        rolling_sharpe=RollingSharpe(
            window=window, total_points=rolling.total_points, points=rolling.points
        ),
        exposure=downsampled(index, curve.exposure, points),
        benchmark=None
        if line is None
        else BenchmarkCurve(
            symbol=benchmark_symbol, total_points=line.total_points, points=line.points
        ),
        benchmark_note=benchmark_note(status, benchmark_symbol, benchmark),
        parameter_surface=surface,
    )
