"""Positions as the paper and live sessions keep them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class PositionPublic(BaseModel):
    id: int
    run_id: uuid.UUID
    strategy_id: str
    symbol: str
    quantity: Decimal
    avg_price: Decimal
    realized_pnl: Decimal
    last_price: Decimal | None
    market_value: Decimal | None = Field(description="quantity x last_price")
    unrealized_pnl: Decimal | None = Field(description="(last_price - avg_price) x quantity")
    updated_at: datetime
