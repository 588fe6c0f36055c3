"""Order records (what happened to each order) and the book of orders still working."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from quant_domain import Order, OrderStatus, TimeInForce


@dataclass(slots=True)
class OrderRecord:
    """One order's life: submitted, then filled, cancelled, expired or rejected (with why)."""

    order: Order
    submitted_at: datetime
    status: OrderStatus = OrderStatus.ACCEPTED
    closed_at: datetime | None = None
    filled_quantity: Decimal = Decimal(0)
    fill_price: Decimal | None = None
    fill_id: str | None = None
    reason: str = ""
    # engine bookkeeping: first step the order may fill at, trading day it expires after (DAY)
    eligible_step: int = 0
    expires_day: Any = None
    triggered: bool = field(default=False)

    def close(self, status: OrderStatus, at: datetime, reason: str = "") -> None:
        self.status = status
        self.closed_at = at
        if reason:
            self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        o = self.order
        return {
            "client_order_id": o.client_order_id,
            "symbol": o.symbol,
            "side": o.side.value,
            "type": o.type.value,
            "time_in_force": o.time_in_force.value,
            "quantity": str(o.quantity),
            "limit_price": None if o.limit_price is None else str(o.limit_price),
            "stop_price": None if o.stop_price is None else str(o.stop_price),
            "status": self.status.value,
            "submitted_at": self.submitted_at.isoformat(),
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "filled_quantity": str(self.filled_quantity),
            "fill_price": None if self.fill_price is None else str(self.fill_price),
            "fill_id": self.fill_id,
            "reason": self.reason,
        }


class OrderBook:
    """Orders accepted but not yet final, in submission order."""

    def __init__(self) -> None:
        self.working: list[OrderRecord] = []
        self.records: list[OrderRecord] = []

    def add(self, record: OrderRecord) -> None:
        self.records.append(record)
        if not record.status.is_final:
            self.working.append(record)

    def prune(self) -> None:
        self.working = [r for r in self.working if not r.status.is_final]

    @staticmethod
    def is_day_order(record: OrderRecord) -> bool:
        return record.order.time_in_force is TimeInForce.DAY
