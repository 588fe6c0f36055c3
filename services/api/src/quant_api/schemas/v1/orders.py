"""Orders as the engine and the execution service record them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel


class OrderPublic(BaseModel):
    id: int
    run_id: uuid.UUID
    strategy_id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str
    submitted_at: datetime
    closed_at: datetime | None
    filled_quantity: Decimal
    fill_price: Decimal | None
    reason: str
