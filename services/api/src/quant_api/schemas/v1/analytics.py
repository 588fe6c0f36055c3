"""A run's statistics computed on the server from its full stored series, shaped for charts."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from quant_db.schema.runs import RunStatus


class SeriesPoint(BaseModel):
    ts: datetime
    value: float


class LineSeries(BaseModel):
    """One line computed over every stored step, then downsampled with its extremes kept."""

    total_points: int = Field(ge=0, description="values before downsampling")
    points: list[SeriesPoint] = Field(
        description="at most `points`, by time; each bucket keeps its first, last, lowest and "
        "highest value, so the deepest drawdown and every peak survive"
    )


class RollingSharpe(LineSeries):
    window: int = Field(
        ge=0,
        description="returns per window: max(2, min(126, stored points // 4)), as in the HTML "
        "report; 0 when the curve is too short for one",
    )


class BenchmarkCurve(LineSeries):
    symbol: str | None = Field(description="the run config's benchmark symbol")


class MonthlyReturnsYear(BaseModel):
    """One row of the year x month table."""

    year: int
    months: list[float | None] = Field(
        min_length=12,
        max_length=12,
        description="January to December: the month's compounded return as a fraction (0.012 "
        "is +1.2%), null where the run has no data in that month",
    )


class ChosenCell(BaseModel):
    row: int = Field(ge=0, description="index into `y`")
    column: int = Field(ge=0, description="index into `x`")
    windows: int = Field(ge=1, description="windows that chose this cell")


class ParameterSurface(BaseModel):
    """A walk-forward run's in-sample objective over its parameter grid (the HTML report's
    heatmap): `z[row][column]`, null where no window scored the cell."""

    objective: str = Field(description="what the windows optimised, e.g. sharpe")
    x_title: str = Field(description="the parameter along the columns")
    y_title: str = Field(description="the parameter along the rows, or `Window`")
    x: list[str] = Field(description="column labels: the parameter's grid values")
    y: list[str] = Field(description="row labels: grid values, or windows (W1, W2, ...)")
    z: list[list[float | None]]
    chosen: list[ChosenCell] = Field(description="cells the windows chose")
    by_window: bool = Field(
        description="true with a one-parameter grid: a row per window, each its own scores"
    )
    caption: str = Field(description="how to read the cells")


class RunAnalytics(BaseModel):
    """What the dashboard charts beyond the equity curve, from every stored point of the run.

    Monthly returns use `quant_engine.metrics.monthly_returns`, the function the HTML report
    uses: each month from the previous month's last equity (the curve's first value for the
    first month) to its own last equity, calendar months in UTC.
    """

    run_id: uuid.UUID
    status: RunStatus
    total_points: int = Field(ge=0, description="equity points stored (none before completion)")
    periods_per_year: float | None = Field(
        description="what ratios are annualised with: the run's stored figure, else inferred "
        "from the timestamps; null without points"
    )
    monthly_returns: list[MonthlyReturnsYear] = Field(description="one row per year, in order")
    drawdown: LineSeries = Field(
        description="fall below the running peak of equity per step, a fraction <= 0"
    )
    rolling_sharpe: RollingSharpe = Field(
        description="annualised Sharpe of each trailing window of returns (steps before the "
        "first full window left out)"
    )
    exposure: LineSeries = Field(
        description="gross position value over equity per step, as the worker stored it"
    )
    benchmark: BenchmarkCurve | None = Field(
        description="buy-and-hold of the benchmark symbol with the run's capital, as the worker "
        "stored it; null when the run has none (see `benchmark_note`)"
    )
    benchmark_note: str | None = Field(description="why `benchmark` is null, when it is")
    parameter_surface: ParameterSurface | None = Field(
        description="a walk-forward run's in-sample objective over its grid; null for "
        "backtests, grids that vary nothing and walk-forwards not completed"
    )
