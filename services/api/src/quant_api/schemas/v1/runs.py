"""Runs: what a client asks for, and what it can read back while the worker runs it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from pydantic.config import JsonDict

from quant_api.schemas.v1.common import Amount, IsoDate, StrategyId, Symbol
from quant_api.schemas.v1.stored import (
    StoredDay,
    StoredDecimal,
    StoredGrid,
    StoredObject,
    StoredStrings,
)
from quant_api.schemas.v1.walk_forward import RunMetrics
from quant_db.schema.runs import RUN_LABEL_MAX, RunStatus, RunType
from quant_domain import SizingMode
from quant_engine.config import OLD_NAMES, CommissionRounding, EngineChoice, FillTiming
from quant_engine.objectives import Objective
from quant_engine.walk_forward_config import WindowType


class RunKind(StrEnum):
    BACKTEST = "backtest"
    WALK_FORWARD = "walk_forward"
    TRAIN = "train"


OLD_NAME: JsonDict = {"deprecated": True}
"""Marks a field kept for the old spelling of another (ADR 0019) in the OpenAPI schema."""
RISK_POLICY_NAME = r"^[A-Za-z0-9_\-]+(\.ya?ml)?$"
TRAINING_CONFIG_NAME = r"^[A-Za-z0-9_\-]+(\.ya?ml)?$"
"""A file name in the training configs folder (no path: nothing outside it)."""
"""`in_force`, or a file name in the risk policies folder (no path: nothing outside it)."""


class SizingSettings(BaseModel):
    """Overrides of the strategy's sizing block; unset fields keep the strategy's (or the
    default: a fraction of equity, 1.0, whole units)."""

    model_config = ConfigDict(extra="forbid")

    mode: SizingMode | None = Field(default=None, description="fraction of equity or fixed")
    fraction: float | None = Field(
        default=None, gt=0, le=10, description="share of equity per full-strength signal"
    )
    quantity: Decimal | None = Field(
        default=None, gt=0, le=Decimal(10) ** 12, description="units per full signal (fixed)"
    )
    fractional: bool | None = Field(default=None, description="fractional units, else whole")


class BacktestSettings(BaseModel):
    """The run's BacktestConfig: each field is named as in the CLI (dashed) and in a stored run's
    `backtest_config` (ADR 0019). `capital` and `commission` are the old names of
    `initial_capital` and `commission_per_trade`, still accepted (not both spellings at once)."""

    model_config = ConfigDict(extra="forbid")

    initial_capital: Decimal = Field(
        default=Decimal(100_000), gt=0, le=Decimal(10) ** 15, description="starting cash"
    )
    commission_per_trade: Decimal = Field(
        default=Decimal("1.00"),
        ge=0,
        le=Decimal(10) ** 9,
        description="commission per fill, in currency",
    )
    commission_bps: Decimal = Field(
        default=Decimal(0), ge=0, le=1000, description="commission in bps of notional"
    )
    slippage_bps: Decimal = Field(
        default=Decimal(10), ge=0, le=1000, description="slippage in bps against the reference"
    )
    fill_timing: FillTiming = FillTiming.CLOSE
    commission_rounding: CommissionRounding = Field(
        default=CommissionRounding.CENT,
        description="cent: each commission billed rounded to the cent, as brokers do; none: "
        "exact, to reproduce engines that do not round (backtesting.py, vectorbt)",
    )
    engine: EngineChoice = Field(
        default=EngineChoice.AUTO,
        description="auto: the compiled kernel where it gives the event loop's result, else the "
        "event loop; event: always the event loop; compiled: the kernel (422 where it cannot)",
    )
    sizing: SizingSettings | None = Field(
        default=None, description="laid over the strategy's sizing block"
    )
    periods_per_year: float | None = Field(
        default=None, gt=0, le=1_000_000, description="annualisation factor; inferred when null"
    )
    risk_free_rate: float = Field(default=0.0, ge=-0.5, le=1.0, description="annual, for Sharpe")
    seed: int | None = Field(
        default=None, ge=0, le=2**63 - 1, description="default: the strategy's seed"
    )
    risk_policy: str | None = Field(
        default=None,
        max_length=64,
        pattern=RISK_POLICY_NAME,
        description="run under a risk policy (ADR 0038): `in_force` (the version applied "
        "through PUT /v1/risk/policy) or a file of configs/risk (`default` or `default.yaml`); "
        "its caps apply and its breakers run on every bar, and the run's metadata and report "
        "say where they tripped. Backtests only; null: no policy",
    )
    capital: Decimal | None = Field(
        default=None,
        gt=0,
        le=Decimal(10) ** 15,
        description="old name of initial_capital",
        json_schema_extra=OLD_NAME,
    )
    commission: Decimal | None = Field(
        default=None,
        ge=0,
        le=Decimal(10) ** 9,
        description="old name of commission_per_trade",
        json_schema_extra=OLD_NAME,
    )

    @model_validator(mode="after")
    def _old_names(self) -> BacktestSettings:
        for old, new in OLD_NAMES.items():
            value = getattr(self, old)
            if value is None:
                continue
            if new in self.model_fields_set:
                raise ValueError(f"give {new} or its old name {old}, not both")
            setattr(self, new, value)
        return self

    def written(self, field: str) -> str:
        """`field` as the client spelled it: its old name when that was sent."""
        old = {new: old for old, new in OLD_NAMES.items()}.get(field)
        return old if old is not None and old in self.model_fields_set else field


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


class TrainingSettings(BaseModel):
    """What a `train` run trains (ADR 0053): a training config of configs/training by file
    name, or one written inline (the YAML's fields as JSON: name, inputs, label, model,
    validation). Exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    config: str | None = Field(
        default=None,
        max_length=100,
        pattern=TRAINING_CONFIG_NAME,
        description="a file of configs/training (`synthetic_direction` or "
        "`synthetic_direction.yaml`)",
    )
    inline: dict[str, Any] | None = Field(
        default=None,
        description="a training config given in full; a table in its inputs is a file of "
        "configs/training (a relative path without `..`)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> TrainingSettings:
        if (self.config is None) == (self.inline is None):
            raise ValueError("give exactly one of config (a file name) or inline (the fields)")
        return self


class RunCreate(BaseModel):
    """A run to queue. `symbols` is the old name of `universe`, still accepted (ADR 0019).

    A `train` run names no strategy: it sends `training` (and nothing about a backtest)."""

    model_config = ConfigDict(extra="forbid")

    strategy_id: StrategyId | None = Field(
        default=None, description="required for backtest and walk_forward; none for train"
    )
    type: RunKind = RunKind.BACKTEST
    universe: list[Symbol] | None = Field(
        default=None, min_length=1, max_length=500, description="replaces the strategy's universe"
    )
    start: IsoDate | None = Field(
        default=None,
        description="default: the strategy's start; a 422 gives the range the data has",
    )
    end: IsoDate | None = Field(
        default=None,
        description="default: the strategy's end; a 422 gives the range the data has",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="param overrides")
    backtest: BacktestSettings = Field(default_factory=BacktestSettings)
    walk_forward: WalkForwardSettings | None = Field(
        default=None, description="only for type walk_forward"
    )
    training: TrainingSettings | None = Field(default=None, description="only for type train")
    symbols: list[Symbol] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="old name of universe",
        json_schema_extra=OLD_NAME,
    )

    @model_validator(mode="after")
    def _old_names(self) -> RunCreate:
        if self.symbols is not None:
            if "universe" in self.model_fields_set:
                raise ValueError("give universe or its old name symbols, not both")
            self.universe = self.symbols
        return self

    @property
    def universe_field(self) -> str:
        """`universe` as the client spelled it."""
        return "symbols" if "symbols" in self.model_fields_set else "universe"


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
            "closed trades with a positive net PnL / closed trades, a fraction 0..1; null when "
            "no trade closed (no closed trades: no win rate, not a 0 % one)"
        )
    )
    num_trades: int | None = Field(description="closed round-trip trades (open ones not counted)")
    open_trades: int | None = Field(
        description=(
            "trades still open at the end of the run (a position held, marked at the last "
            "close); not in num_trades nor in win_rate"
        ),
    )
    open_trade_pnl: float | None = Field(
        description=(
            "net PnL of the open trades marked at the last close: unrealised, less the "
            "commissions they paid so far; in money"
        ),
    )


class RunBase(BaseModel):
    """What every view of a run shows: who, what, and where it is in its life."""

    id: uuid.UUID
    strategy_id: str | None = Field(description="null for a train run, which has no strategy")
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


class StoredRunMetrics(RunMetrics):
    """What a run stored when it completed: the engine's figures (every one null before that,
    and where a figure is not finite), plus a walk-forward's per-window block."""

    walk_forward: dict[str, Any] | None = Field(
        default=None,
        description="a walk-forward run's per-window block as the worker stored it; "
        "GET /v1/runs/{id}/windows serves it typed",
    )


class RunPublic(RunMarked):
    config: dict[str, Any]
    backtest_config: dict[str, Any]
    repro: dict[str, Any] = Field(description="code version, data fingerprint, seed")
    metrics: StoredRunMetrics
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
    equity: Amount
    cash: Amount
    positions_value: Amount


class EquitySeries(BaseModel):
    run_id: uuid.UUID
    total_points: int = Field(description="points stored for the run")
    points: list[EquityPointPublic] = Field(description="downsampled, extremes kept")


_EXCURSIONS = ("mfe", "mae", "given_back")


class ExcursionFigures(BaseModel):
    """A trade's excursions in one unit (a fraction of the entry price, or money)."""

    mfe: float | None
    mae: float | None
    given_back: float | None


class TradePublic(BaseModel):
    """A round trip; one still open at the end of the run has status "open" and no exit."""

    trade_id: str
    symbol: str
    direction: str
    quantity: Amount
    entry_time: datetime
    entry_price: Amount
    exit_time: datetime | None = Field(description="null while the trade is open")
    exit_price: Amount | None = Field(description="average exit price; null while open")
    gross_pnl: Amount = Field(
        description="price PnL; for an open trade, unrealised at the run's last close"
    )
    commission: Amount = Field(description="commissions paid so far")
    pnl: Amount = Field(
        description=(
            "net PnL (gross_pnl - commission); for an open trade, marked at the run's last "
            "close, not realised"
        )
    )
    bars_held: int
    mfe: Amount | None = Field(
        default=None,
        description=(
            "maximum favourable excursion per unit against entry_price (>= 0), over the bars "
            "the trade held (docs/backtest-assumptions.md has the rule); null if not measured"
        ),
    )
    mae: Amount | None = Field(
        default=None, description="maximum adverse excursion per unit against entry_price (<= 0)"
    )
    given_back: Amount | None = Field(
        default=None,
        description="per unit: the move kept at the exit (or the last close) minus the MFE (<= 0)",
    )
    regime: Literal["bull", "bear", "sideways", "high_volatility"] | None = Field(
        default=None,
        description=(
            "the causal market regime at entry (the symbol's true range against its calm "
            "level, and its trend, from bars up to the last known at entry; "
            "docs/backtest-assumptions.md 31b); null while it warms up or for trades stored "
            "before it was measured"
        ),
    )

    @computed_field(  # type: ignore[prop-decorator]
        description=(
            "closed, or open: still held at the end of the run, its PnL marked at the last "
            "close; open trades are not in the run's closed-trade statistics"
        )
    )
    @property
    def status(self) -> Literal["open", "closed"]:
        return "open" if self.exit_time is None else "closed"

    @computed_field(  # type: ignore[prop-decorator]
        description="mfe, mae and given_back as fractions of entry_price (0.05 is 5 %)"
    )
    @property
    def excursion_pct(self) -> ExcursionFigures:
        return ExcursionFigures(**{k: self._per(k, self.entry_price) for k in _EXCURSIONS})

    @computed_field(  # type: ignore[prop-decorator]
        description="mfe, mae and given_back in account currency (per unit x quantity)"
    )
    @property
    def excursion_value(self) -> ExcursionFigures:
        return ExcursionFigures(**{k: self._times(k) for k in _EXCURSIONS})

    def _per(self, name: str, base: Decimal) -> float | None:
        value: Decimal | None = getattr(self, name)
        return None if value is None or not base else float(value / base)

    def _times(self, name: str) -> float | None:
        value: Decimal | None = getattr(self, name)
        return None if value is None else float(value * self.quantity)


class RunCancelled(BaseModel):
    id: uuid.UUID
    status: RunStatus = Field(description="cancelled when it was queued; else still running")
    cancel_requested: bool
