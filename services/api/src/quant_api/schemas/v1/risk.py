"""The risk policy in force, each limit against its current value, the breakers, the mode history."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from quant_api.schemas.v1.common import Reason
from quant_domain import KillSwitchMode
from quant_engine.risk_policy import RiskPolicy


class RiskPolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: RiskPolicy
    reason: Reason


class RiskRearm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class RiskPolicyPublic(BaseModel):
    version: int
    policy: RiskPolicy
    reason: str
    source: str = Field(description="the file it was applied from (CLI), or `api`")
    applied_by: str | None
    applied_at: datetime


class LimitPublic(BaseModel):
    name: str = Field(description="the policy field, e.g. `account.max_drawdown`")
    limit: float
    current: float | None = Field(description="the value now; null when nothing is measured yet")
    unit: Literal["share", "count", "money"] = Field(
        description="`share`: a fraction (0.02 = 2 %); `money`: the account's currency"
    )
    breached: bool = Field(description="current is at or past the limit")


class TripPublic(BaseModel):
    rule: str = Field(description="`daily_loss`, `daily_loss_release` or `drawdown`")
    mode: KillSwitchMode
    at: datetime = Field(description="the time of the equity point (bar) it tripped on")
    value: float
    limit: float
    equity: float


class BreakersPublic(BaseModel):
    kill_switch: KillSwitchMode
    daily_loss: Literal["armed", "tripped"]
    drawdown: Literal["armed", "latched"]
    session_loss: float = Field(description="the loss since the session opened, as a share")
    drawdown_value: float = Field(description="the drawdown from the peak, as a share")
    peak_equity: float | None
    equity: float | None = Field(description="the account's equity at the last point evaluated")
    last_point_at: datetime | None
    trips: list[TripPublic] = Field(description="the latest trips, oldest first")


class ExposurePublic(BaseModel):
    equity: float
    gross_exposure: float
    capital_deployed: float = Field(description="gross exposure / equity")
    positions: int
    largest_symbol: str | None
    largest_share_of_gross: float = Field(description="concentration: largest position / gross")
    largest_share_of_equity: float


class StrategyExposurePublic(ExposurePublic):
    run_id: str = Field(description="the strategy's running paper session")


class ModeChangePublic(BaseModel):
    at: datetime
    mode_before: KillSwitchMode
    mode: KillSwitchMode
    changed_by: str | None = Field(description="null: the risk service's breakers")
    reason: str
    via: str


class RiskPublic(BaseModel):
    policy: RiskPolicyPublic | None = Field(description="null until a policy is applied")
    limits: list[LimitPublic]
    breakers: BreakersPublic
    exposure: ExposurePublic
    strategies: dict[str, StrategyExposurePublic]
    history: list[ModeChangePublic] = Field(description="kill-switch changes, newest first")
