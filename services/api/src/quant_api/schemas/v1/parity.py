"""The parity report of two runs over the same bars, in the API's names."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from quant_api.schemas.v1.common import Amount

Verdict = Literal[
    "identical", "different fill price", "rejected", "missed bar", "different decision"
]


class ParityLinePublic(BaseModel):
    client_order_id: str = Field(description="the order's id; empty on a step only one run has")
    decided_at: datetime = Field(description="the bar the order was decided on (or the step)")
    symbol: str = Field(description="empty on a step only one run has")
    verdict: Verdict
    detail: str = Field(description="what differs, in words, naming each run")


class ParitySidePublic(BaseModel):
    id: uuid.UUID
    name: str = Field(description="how the report names the run: its type and id's start")
    type: Literal["backtest", "walk_forward", "paper", "live"]
    strategy_id: str
    status: Literal["queued", "running", "completed", "failed", "cancelled"]
    created_at: datetime
    orders: int
    steps: int | None = Field(description="stored steps (equity points); null when none")
    final_equity: Amount | None = Field(description="null when the run stored none")


class ParityPublic(BaseModel):
    run: ParitySidePublic
    against: ParitySidePublic
    identical: bool = Field(description="no order, fill, step or final equity differs")
    summary: str = Field(description="one line: 'identical: ...' or what differs, by kind")
    orders: int = Field(description="orders lined up (a matched pair counts once)")
    counts: dict[str, int] = Field(description="lines per verdict")
    notes: list[str] = Field(description="what the comparison could not tell (nothing stored)")
    differences: list[ParityLinePublic] = Field(description="in time order, at most `limit`")
    truncated: bool = Field(description="more differences exist than were returned")
