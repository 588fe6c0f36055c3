"""Strategies: their listing, their detail, and what an admin may change."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quant_db.schema.runs import Mode, RunStatus, RunType


class StrategyStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class RunBrief(BaseModel):
    """The latest completed run of a strategy and the metrics it stored."""

    id: uuid.UUID
    type: RunType
    status: RunStatus
    finished_at: datetime | None
    metrics: dict[str, Any] = Field(
        description="the run's headline figures as stored (for a walk-forward, its out-of-sample "
        "aggregate); the per-window block is at /v1/runs/{id} and /v1/runs/{id}/windows"
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
    updated_at: datetime
    latest_run: RunBrief | None


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


class StrategyUpdate(BaseModel):
    """Fields left out stay as they are. `params` and `risk` are merged into the stored ones
    (a param set to null goes back to its default); the result is validated by the strategy
    class, and a bad value is a 422 naming it (e.g. `body.params.fast`, `body.risk.max_position_pct`)."""

    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] | None = None
    status: StrategyStatus | None = None
    risk: RiskUpdate | None = None
