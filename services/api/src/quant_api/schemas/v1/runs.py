"""Runs: what a client asks for, and what it can read back while the worker runs it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from quant_api.schemas.v1.common import IsoDate, StrategyId, Symbol
from quant_api.schemas.v1.stored import (
    StoredDay,
    StoredDecimal,
    StoredGrid,
    StoredObject,
    StoredStrings,
)
from quant_db.schema.runs import RUN_LABEL_MAX, RunStatus, RunType
from quant_engine.config import FillTiming
from quant_engine.objectives import Objective
from quant_engine.walk_forward_config import WindowType


class RunKind(StrEnum):
    BACKTEST = "backtest"
    WALK_FORWARD = "walk_forward"


class BacktestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capital: Decimal = Field(default=Decimal(100_000), gt=0, le=Decimal(10) ** 15)
    commission: Decimal = Field(default=Decimal("1.00"), ge=0, le=Decimal(10) ** 9)
    commission_bps: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    slippage_bps: Decimal = Field(default=Decimal(10), ge=0, le=1000)
    fill_timing: FillTiming = FillTiming.CLOSE


class WalkForwardSettings(BaseModel):
    """Overrides of the strategy YAML's walk_forward block; unset fields keep the block's."""

    model_config = ConfigDict(extra="forbid")

    in_sample_days: int | None = None
    out_of_sample_days: int | None = None
    step_days: int | None = None
    window_type: WindowType | None = None
    parameter_grid: dict[str, list[Any]] | None = None
    objective: Objective | None = None
    min_trades_required: int | None = None
    max_windows: int | None = None
    windows: int | None = None


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy_id: StrategyId
    type: RunKind = RunKind.BACKTEST
    symbols: list[Symbol] | None = Field(
        default=None, min_length=1, max_length=500, description="replaces the universe"
    )
    start: IsoDate | None = Field(default=None, description="default: the strategy's start")
    end: IsoDate | None = Field(default=None, description="default: the strategy's end")
    params: dict[str, Any] = Field(default_factory=dict, description="param overrides")
    backtest: BacktestSettings = Field(default_factory=BacktestSettings)
    walk_forward: WalkForwardSettings | None = Field(
        default=None, description="only for type walk_forward"
    )


class RunAccepted(BaseModel):
    id: uuid.UUID
    status: RunStatus


class RunKeyMetrics(BaseModel):
    """A completed run's headline figures, read from what its worker stored in `metrics`.

    Every field is null until the run completes (queued, running, failed and cancelled runs have
    none) and when the run did not store that figure. A walk-forward run's figures are those of
    its stitched out-of-sample curve, the same ones its detail's `metrics` carries.
    """

    total_return: float | None = Field(
        description="end equity / start equity - 1, a fraction (0.25 is +25%), not percent"
    )
    annual_return: float | None = Field(
        description="compound annual growth rate (CAGR), a fraction per year, not percent"
    )
    sharpe: float | None = Field(
        description=(
            "annualised Sharpe ratio: mean / standard deviation of per-period returns above the "
            "risk-free rate, times sqrt(periods per year); no unit"
        )
    )
    max_drawdown_pct: float | None = Field(
        description=(
            "largest fall of equity below its running peak, a positive fraction of that peak "
            "(0.08 is an 8% drawdown), not percent"
        )
    )
    win_rate: float | None = Field(
        description=(
            "closed trades with a positive net PnL / closed trades, a fraction 0..1 (0 when "
            "no trade closed)"
        )
    )
    num_trades: int | None = Field(description="closed round-trip trades (open ones not counted)")


class RunBase(BaseModel):
    """What every view of a run shows: who, what, and where it is in its life."""

    id: uuid.UUID
    strategy_id: str
    type: RunType
    status: RunStatus
    progress: float = Field(description="0..1")
    processed: int
    total: int
    message: str
    cancel_requested: bool
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


# Free text a person gives a run: one to 120 characters, at least one visible, no control
# characters (they would garble the listing and the CSV file names).
RunLabel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=RUN_LABEL_MAX,
        pattern=r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$",
        description="a person's name for the run, e.g. 'fast 10 after the fee change'",
    ),
]


class RunMarked(RunBase):
    """A run with what people said about it: its label, whether it is its strategy's reference,
    and the params its request overrode."""

    label: str | None = Field(description="a person's name for the run (PATCH sets it)")
    is_reference: bool = Field(
        description="the strategy's reference run (starred): its headline everywhere (ADR 0018); "
        "at most one per strategy"
    )
    params_overrides: dict[str, Any] | None = Field(
        description="the params the request overrode, as sent (empty: none); null when not "
        "recorded (runs queued before this was kept)"
    )


class RunSummary(RunMarked):
    """A run as the listing shows it: what it ran (params, dates, data, capital), its marks, and
    the headline figures of its metrics; no full configs."""

    params: StoredObject = Field(
        description="the effective strategy params the run used (the strategy's, with the "
        "request's overrides applied); a walk-forward's are its base, its grid is below"
    )
    parameter_grid: StoredGrid = Field(
        description="a walk-forward's parameter grid (null for a backtest)"
    )
    symbols: StoredStrings = Field(description="the universe the run traded")
    requested_start: StoredDay = Field(
        description="first day asked for; null: from the first bar the data has"
    )
    requested_end: StoredDay = Field(
        description="last day asked for; null: to the last bar the data has"
    )
    covered_start: datetime | None = Field(
        description="first equity point the run stored (null until it has results)"
    )
    covered_end: datetime | None = Field(
        description="last equity point the run stored (null until it has results)"
    )
    capital: StoredDecimal = Field(description="starting capital of the backtest")
    data_source: str | None = Field(
        description="where the run read its bars (`db`: the database's price_bars; `samples`, "
        "`folder`, `synthetic`: files), recorded when it runs; null before"
    )
    key_metrics: RunKeyMetrics = Field(
        description="headline metrics of a completed run; all null before it completes"
    )


class RunPublic(RunMarked):
    config: dict[str, Any]
    backtest_config: dict[str, Any]
    repro: dict[str, Any] = Field(description="code version, data fingerprint, seed")
    metrics: dict[str, Any]
    error: str | None
    attempts: int


class RunUpdate(BaseModel):
    """Fields left out stay as they are. `label` null removes it. `is_reference` true makes the
    run its strategy's reference (unstarring the previous one); false unstars it."""

    model_config = ConfigDict(extra="forbid")

    label: RunLabel | None = None
    is_reference: bool | None = None


class RunSort(StrEnum):
    """What the runs list can be ordered by: a date or one of the key metrics."""

    CREATED_AT = "created_at"
    FINISHED_AT = "finished_at"
    TOTAL_RETURN = "total_return"
    ANNUAL_RETURN = "annual_return"
    SHARPE = "sharpe"
    MAX_DRAWDOWN_PCT = "max_drawdown_pct"
    WIN_RATE = "win_rate"
    NUM_TRADES = "num_trades"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class EquityPointPublic(BaseModel):
    ts: datetime
    equity: Decimal
    cash: Decimal
    positions_value: Decimal


class EquitySeries(BaseModel):
    run_id: uuid.UUID
    total_points: int = Field(description="points stored for the run")
    points: list[EquityPointPublic] = Field(description="downsampled, extremes kept")


class TradePublic(BaseModel):
    trade_id: str
    symbol: str
    direction: str
    quantity: Decimal
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime | None
    exit_price: Decimal | None
    gross_pnl: Decimal
    commission: Decimal
    pnl: Decimal
    bars_held: int


class RunCancelled(BaseModel):
    id: uuid.UUID
    status: RunStatus = Field(description="cancelled when it was queued; else still running")
    cancel_requested: bool
