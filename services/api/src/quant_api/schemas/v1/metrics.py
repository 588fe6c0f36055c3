"""GET /v1/metrics/summary: the combined performance of every strategy in one mode."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from quant_db.schema.runs import Mode


class Period(StrEnum):
    DAY = "1d"
    WEEK = "1w"
    MONTH = "1m"
    QUARTER = "3m"
    YEAR = "1y"
    ALL = "all"


class CurvePoint(BaseModel):
    ts: datetime
    equity: Decimal


class MetricsSummary(BaseModel):
    """Zeros and an empty curve when there is nothing to summarise yet (never made-up data)."""

    period: Period
    mode: Mode
    strategies: list[str] = Field(description="strategies whose latest completed run is included")
    runs: list[str] = Field(description="the runs whose equity is summed")
    start: datetime | None = Field(description="first point of the window")
    end: datetime | None = Field(description="last stored point")
    start_equity: Decimal
    end_equity: Decimal
    total_pnl: Decimal
    total_return: float = Field(description="end / start - 1")
    sharpe: float = Field(description="annualised (252) Sharpe of daily returns")
    max_drawdown: float = Field(description="largest fall from a peak, as a positive fraction")
    win_rate: float = Field(description="share of trades closed in the window with PnL > 0")
    closed_trades: int
    equity_curve: list[CurvePoint] = Field(description="downsampled, extremes kept")
