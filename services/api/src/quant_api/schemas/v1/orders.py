"""Orders as the engine and the execution service record them, with their fills and history."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from quant_api.schemas.v1.common import Amount


class OrderPublic(BaseModel):
    id: int
    run_id: uuid.UUID
    strategy_id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    quantity: Amount
    limit_price: Amount | None
    stop_price: Amount | None
    status: str
    submitted_at: datetime
    closed_at: datetime | None
    filled_quantity: Amount
    fill_price: Amount | None = Field(description="quantity-weighted average over its fills")
    reason: str
    broker_order_id: str | None = Field(description="the broker's id; null in a backtest")
    code: str = Field(description='stable reject code (e.g. "SHORT_NOT_ALLOWED"); "" otherwise')
    updated_at: datetime = Field(
        description="when the order last changed (simulated time in a backtest)"
    )


class FillPublic(BaseModel):
    id: int
    run_id: uuid.UUID
    strategy_id: str = Field(description="the strategy of the order the fill belongs to")
    fill_id: str = Field(description="the execution's id, unique within the run")
    client_order_id: str
    symbol: str
    side: str
    quantity: Amount
    price: Amount
    commission: Amount
    slippage: Amount = Field(description="what the fill cost against the reference price")
    ts: datetime = Field(description="when it executed (the bar's time in a replay)")


class OrderEventPublic(BaseModel):
    """One status the order took, when, and why."""

    status: str
    at: datetime
    reason: str
    code: str = Field(description='the reject code when the status is "rejected"; "" otherwise')


class OrderDetail(OrderPublic):
    fills: list[FillPublic] = Field(description="its executions, in the order they were stored")
    events: list[OrderEventPublic] = Field(
        description="its status history, oldest first (paper and live sessions keep one; a "
        "backtest's orders have none)"
    )
