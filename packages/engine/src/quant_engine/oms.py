"""The order lifecycle: each order's record, moved only along the transition table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from quant_domain import Fill, Order, OrderError, OrderStatus

S = OrderStatus
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_SUBMIT: frozenset({S.SUBMITTED, S.REJECTED, S.UNKNOWN}),
    S.SUBMITTED: frozenset(
        {
            S.ACCEPTED,
            S.REJECTED,
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.CANCELLED,
            S.EXPIRED,
            S.UNKNOWN,
            S.PENDING_CANCEL,
        }
    ),
    # a venue may refuse an order it acknowledged (buying power checked when a stop triggers)
    S.ACCEPTED: frozenset(
        {
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.PENDING_CANCEL,
            S.CANCELLED,
            S.EXPIRED,
            S.REJECTED,
            S.UNKNOWN,
        }
    ),
    S.PARTIALLY_FILLED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELLED, S.EXPIRED, S.UNKNOWN}
    ),
    S.PENDING_CANCEL: frozenset(
        {S.CANCELLED, S.PARTIALLY_FILLED, S.FILLED, S.EXPIRED, S.ACCEPTED, S.UNKNOWN}
    ),
    S.UNKNOWN: frozenset(set(S) - {S.PENDING_SUBMIT}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}


class IllegalTransition(OrderError):
    """An order was asked to move where its state does not lead."""


class Overfill(OrderError):
    """A fill would take an order past its quantity."""


@dataclass(slots=True)
class OrderRecord:
    """One order's life: its states, fills and why it ended."""

    order: Order
    submitted_at: datetime
    status: OrderStatus = OrderStatus.PENDING_SUBMIT
    closed_at: datetime | None = None
    filled_quantity: Decimal = Decimal(0)
    fill_price: Decimal | None = None
    fill_id: str | None = None
    fill_ids: list[str] = field(default_factory=list)
    broker_order_id: str | None = None
    reason: str = ""
    code: str = ""
    eligible_step: int = 0
    expires_session: int | None = None
    triggered: bool = False

    @property
    def remaining(self) -> Decimal:
        return self.order.quantity - self.filled_quantity

    def to(self, status: OrderStatus, at: datetime, reason: str = "", code: str = "") -> None:
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"order {self.order.client_order_id}: {self.status.value} -> {status.value}"
            )
        self.status = status
        if status.is_final:
            self.closed_at = at
        if reason:
            self.reason = reason
        if code:
            self.code = code

    def apply_fill(self, fill: Fill) -> bool:
        if fill.fill_id in self.fill_ids:
            return False
        total = self.filled_quantity + fill.quantity
        if total > self.order.quantity:
            raise Overfill(
                f"order {self.order.client_order_id}: fills of {total} exceed {self.order.quantity}"
            )
        status = S.FILLED if total == self.order.quantity else S.PARTIALLY_FILLED
        self.to(status, fill.timestamp)
        previous = self.fill_price
        self.fill_price = (
            fill.price
            if previous is None
            else (previous * self.filled_quantity + fill.price * fill.quantity) / total
        )
        self.filled_quantity = total
        self.fill_ids.append(fill.fill_id)
        if self.fill_id is None:
            self.fill_id = fill.fill_id
        return True

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
            "fill_ids": list(self.fill_ids),
            "broker_order_id": self.broker_order_id,
            "reason": self.reason,
            "code": self.code,
        }
