"""Strategies: their listing, their detail, and what an admin may change."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quant_api.schemas.v1.stored import StoredDecimal, StoredObject
from quant_db.schema.runs import Mode, RunStatus, RunType


class StrategyStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class HeadlineBasis(StrEnum):
    """Why a run is the one a strategy's headline shows (ADR 0018)."""

    REFERENCE = "reference"
    LATEST_COMPLETED = "latest_completed"


class RunBrief(BaseModel):
    """The run a strategy's headline shows, and the metrics it stored.

    A strategy's headline is its reference run (starred: `basis` reference). Without one it falls
    back to its most recently finished completed backtest or walk-forward (`basis`
    latest_completed), which any one-off test replaces: the dashboard labels it so.
    """

    id: uuid.UUID
    basis: HeadlineBasis = Field(
        description="reference: the run starred as the strategy's reference; latest_completed: "
        "no run is starred, so the most recently finished completed backtest or walk-forward"
    )
    type: RunType
    status: RunStatus
    finished_at: datetime | None
    label: str | None = Field(description="the run's label, if anyone gave it one")
    params: StoredObject = Field(description="the effective strategy params the run used")
    capital: StoredDecimal = Field(description="the run's starting capital")
    metrics: dict[str, Any] = Field(
        description="the run's headline figures as stored (for a walk-forward, its out-of-sample "
        "aggregate; Sharpe annualised with the run's own periods_per_year); the per-window block "
        "is at /v1/runs/{id} and /v1/runs/{id}/windows"
    )


class StrategyPublic(BaseModel):
    id: str
    class_path: str
    description: str
    status: str = Field(description="active, paused or archived")
    mode: Mode
    universe: list[str]
    timeframe: str
    benchmark: str | None
    is_benchmark: bool = Field(
        description="a buy-and-hold strategy (the built-in BuyAndHold class): a yardstick, shown "
        "apart from the strategies and never added to them"
    )
    updated_at: datetime
    headline_run: RunBrief | None = Field(
        description="the run the strategy's headline figures come from (see `basis`); null when "
        "it has no completed backtest or walk-forward"
    )


class StrategyDetail(StrategyPublic):
    config: dict[str, Any] = Field(description="the stored strategy config, as in its YAML")
    params_schema: dict[str, Any] | None = Field(
        description="JSON Schema of the strategy class's params (type, default, minimum, "
        "maximum, description per param; additionalProperties false) for typed inputs; the "
        "current values are config.params. Rules across params (e.g. fast < slow) are checked "
        "on PATCH and run creation, not expressed here. Null when the class cannot be imported."
    )


class RiskUpdate(BaseModel):
    """Risk caps to change. The bounds are quant_strategy.RiskCaps' own (a unit test holds them
    equal), so the schema refuses exactly what the server would."""

    model_config = ConfigDict(extra="forbid")

    max_position_pct: float | None = Field(
        default=None, gt=0, le=10, description="max |position| / equity per symbol"
    )
    max_gross_exposure: float | None = Field(
        default=None, gt=0, le=10, description="max sum |positions| / equity"
    )
    allow_short: bool | None = None
    max_positions: int | None = Field(
        default=None, ge=1, description="max symbols held at once; null removes the cap"
    )
    min_trade_pct: float | None = Field(
        default=None, ge=0, le=1, description="skip rebalances smaller than this share of equity"
    )
    max_position_qty: float | None = Field(
        default=None, gt=0, description="max |position| per symbol in units; null removes the cap"
    )
    max_order_notional: float | None = Field(
        default=None,
        gt=0,
        description="max |quantity| x price of an order that opens or grows a position; "
        "null removes the cap",
    )
    price_collar_pct: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="max |limit or stop price / last close - 1| (0.05 = 5%); null removes it",
    )
    max_orders_per_minute: int | None = Field(
        default=None, ge=1, description="max orders sent in any trailing 60 s; null removes it"
    )


class StrategyUpdate(BaseModel):
    """Fields left out stay as they are. `params` and `risk` are merged into the stored ones
    (a param set to null goes back to its default); the result is validated by the strategy
    class, and a bad value is a 422 naming it (e.g. `body.params.fast`, `body.risk.max_position_pct`)."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] | None = None
    status: StrategyStatus | None = None
    risk: RiskUpdate | None = None
