"""GET /v1/metrics/summary: each strategy's headline run in one mode, side by side, never summed."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from quant_api.schemas.v1.common import Amount
from quant_api.schemas.v1.strategies import HeadlineBasis
from quant_db.schema.runs import Mode, RunType


class Period(StrEnum):
    DAY = "1d"
    WEEK = "1w"
    MONTH = "1m"
    QUARTER = "3m"
    YEAR = "1y"
    ALL = "all"


class CurvePoint(BaseModel):
    ts: datetime
    equity: Amount


class RunHeadline(BaseModel):
    """One strategy's headline over the period: the figures of one run, in that run's own money.

    With period `all` every figure is the run's own stored metric (the same as on its run page).
    A shorter period is the last stretch of that run's curve, ending at its last point; its
    figures are computed from the stored equity points and the trades closed in the window,
    annualised with the run's own periods per year.
    """

    strategy_id: str
    is_benchmark: bool = Field(description="a buy-and-hold yardstick (listed under `benchmarks`)")
    basis: HeadlineBasis = Field(
        description="reference: the strategy's starred reference run; latest_completed: no run "
        "is starred, so its most recently finished completed backtest or walk-forward"
    )
    run_id: uuid.UUID
    run_type: RunType
    label: str | None
    capital: Amount | None = Field(description="the run's starting capital")
    start: datetime = Field(description="first point of the window")
    end: datetime = Field(description="last point of the window (the run's last point)")
    start_equity: Amount = Field(description="equity at the start of the window")
    end_equity: Amount
    pnl: Amount = Field(description="end_equity - start_equity, in this run's money alone")
    total_return: float = Field(description="end / start - 1, a fraction")
    sharpe: float = Field(
        description="annualised with this run's own periods_per_year (252 for daily stock bars, "
        "365 for 24/7 markets, more for intraday), not one factor for every run"
    )
    periods_per_year: float = Field(description="the annualisation factor of this run's bars")
    max_drawdown: float = Field(description="largest fall from a peak, as a positive fraction")
    win_rate: float = Field(description="share of the closed trades with PnL > 0 (0 without any)")
    closed_trades: int = Field(description="trades closed in the window")
    equity_curve: list[CurvePoint] = Field(description="the window's points, extremes kept")


class MetricsSummary(BaseModel):
    """Each strategy of one mode with its own headline run; nothing is added across runs."""

    period: Period
    mode: Mode
    strategies: list[RunHeadline] = Field(
        description="one per strategy of the mode with a result, benchmarks excluded"
    )
    benchmarks: list[RunHeadline] = Field(
        description="buy-and-hold yardsticks in the mode, shown apart and never summed"
    )
    without_results: list[str] = Field(
        description="strategies of the mode (benchmarks included) with no run to show yet"
    )
    aggregate_note: str = Field(
        description="why there is no combined total: backtests ran on their own capital and "
        "dates, and paper or live results are summed only within one account, which does not "
        "exist yet"
    )
