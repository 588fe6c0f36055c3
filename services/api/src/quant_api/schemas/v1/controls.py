"""The kill switch and strategy mode transitions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from quant_api.schemas.v1.common import Reason, StrategyId
from quant_db.schema.runs import Mode
from quant_domain import KillSwitchMode


class KillSwitchPublic(BaseModel):
    mode: KillSwitchMode
    engaged: bool = Field(
        description="mode is not `active`; kept for clients written before the modes"
    )
    reason: str
    changed_by: str | None
    changed_at: datetime


class KillSwitchModeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: KillSwitchMode
    reason: Reason


class KillSwitchUpdate(BaseModel):
    """The engage/release form: engaged maps to `halt_entries`, released to `active`."""

    model_config = ConfigDict(extra="forbid")

    engaged: StrictBool
    reason: Reason


class ModeTransitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy_id: StrategyId
    mode: Mode
    reason: Reason
    confirm: str | None = Field(
        default=None,
        max_length=64,
        description="required for mode LIVE: the strategy id typed again, as the approval step",
    )


class ModeTransitionPublic(BaseModel):
    strategy_id: str
    previous_mode: Mode
    mode: Mode
    reason: str
    changed_by: str
    changed_at: datetime
