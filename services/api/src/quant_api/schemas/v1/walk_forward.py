"""A walk-forward run's windows and overfitting statistics, as the worker stores them.

The worker keeps `walk_forward_summary()` under `runs.metrics["walk_forward"]`; these models are
the API's typed reading of that JSON (services never import each other, so the shapes are
restated here, and a test holds them to the worker's output).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quant_db.schema.runs import RunStatus


class RunMetrics(BaseModel):
    """quant_engine.metrics.Metrics of one backtest; null where a statistic is not finite."""

    # always present in answers (null when not finite), so clients type them as required
    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)

    start_equity: float | None = None
    end_equity: float | None = None
    total_return: float | None = None
    annual_return: float | None = None
    annual_volatility: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    max_drawdown: float | None = None
    max_drawdown_pct: float | None = None
    max_drawdown_duration: int | None = None
    calmar: float | None = None
    num_trades: int | None = None
    win_rate: float | None = None
    profit_factor: float | None = None
    avg_win: float | None = None
    avg_loss: float | None = None
    avg_trade_return: float | None = None
    best_trade: float | None = None
    worst_trade: float | None = None
    exposure: float | None = None
    turnover: float | None = None
    total_fees: float | None = None
    psr: float | None = None
    periods_per_year: float | None = None
    open_trades: int | None = None
    open_trade_pnl: float | None = None


class WalkForwardWindow(BaseModel):
    """One in-sample optimisation and the out-of-sample trading of its winner (dates inclusive)."""

    index: int = Field(description="window number, in time order")
    in_sample_start: date
    in_sample_end: date
    out_of_sample_start: date
    out_of_sample_end: date
    status: Literal["ok", "skipped"] = Field(
        description="skipped: no combination made enough trades in sample; the out-of-sample "
        "period was then spent in cash"
    )
    reason: str | None = Field(description="why the window was skipped (or a note on it)")
    chosen_params: dict[str, Any] | None = Field(
        description="the winning parameter combination; null when skipped"
    )
    in_sample_score: float | None = Field(description="the objective of the chosen params")
    out_of_sample_score: float | None
    trade_count: int | None = Field(description="trades out of sample; null when skipped")
    in_sample_metrics: RunMetrics | None
    out_of_sample_metrics: RunMetrics | None
    in_sample_deflated_sharpe: float | None = Field(
        description="in-sample Deflated Sharpe Ratio of the winner over the grid"
    )
    plateau: float | None = Field(
        description="mean neighbour score / chosen score (1 = a flat optimum)"
    )
    start_equity: float | None = Field(description="equity entering the out-of-sample period")
    end_equity: float | None
    in_sample_scores: list[float | None] = Field(
        description="every grid combination's in-sample objective, null when it traded too little"
    )
    in_sample_trade_counts: list[int] = Field(description="trades per grid combination")


class ProbabilityOfOverfitting(BaseModel):
    """Probability of Backtest Overfitting by combinatorially symmetric cross-validation: the
    returns are cut into `n_splits` blocks, and each of the `n_combinations` halvings picks an
    in-sample winner over the grid and ranks it out of sample."""

    pbo: float = Field(description="share of halvings whose winner ranks in the bottom half OOS")
    n_combinations: int = Field(description="in-/out-of-sample halvings of the blocks evaluated")
    n_splits: int = Field(description="blocks the returns were cut into")
    prob_oos_loss: float = Field(description="share of halvings whose winner loses OOS")
    degradation_slope: float | None = Field(
        description="slope of OOS on IS performance across halvings (negative: overfit)"
    )


class DeflatedSharpe(BaseModel):
    """The stitched out-of-sample Sharpe deflated by the number of combinations tried; every
    Sharpe here is per period, kurtosis is non-excess (normal = 3)."""

    dsr: float | None = Field(description="P(true Sharpe > benchmark_sharpe)")
    sharpe: float | None
    benchmark_sharpe: float | None = Field(
        description="the Sharpe the best of n_trials worthless configurations would reach"
    )
    n_trials: int | None
    skew: float | None
    kurtosis: float | None
    n_obs: int | None


class ParameterStability(BaseModel):
    """How one parameter's chosen value moved between windows."""

    name: str
    values: list[Any] = Field(description="chosen value per window (null for skipped windows)")
    distinct: int
    mean_step_change: float | None = Field(description="mean grid-index change between windows")
    normalised_change: float | None = Field(description="0 = never moves, 1 = jumps end to end")


class WalkForwardWindows(BaseModel):
    """A walk-forward run's windows and statistics; empty until the run has completed."""

    run_id: uuid.UUID
    status: RunStatus
    windows: list[WalkForwardWindow]
    pbo: ProbabilityOfOverfitting | None = Field(
        description="null with too little data or fewer than two combinations"
    )
    deflated_sharpe: DeflatedSharpe | None
    efficiency: float | None = Field(
        description="walk-forward efficiency: mean out-of-sample score over mean in-sample score"
    )
    parameter_stability: list[ParameterStability]
    out_of_sample_metrics: RunMetrics | None = Field(
        description="metrics of the stitched out-of-sample run"
    )
