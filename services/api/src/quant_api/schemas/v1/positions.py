"""Positions as the paper and live sessions keep them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from quant_api.schemas.v1.common import Amount


class PositionPublic(BaseModel):
    id: int
    run_id: uuid.UUID
    strategy_id: str
    symbol: str
    quantity: Amount
    avg_price: Amount
    realized_pnl: Amount
    last_price: Amount | None
    market_value: Amount | None = Field(description="quantity x last_price")
    unrealized_pnl: Amount | None = Field(description="(last_price - avg_price) x quantity")
    updated_at: datetime
