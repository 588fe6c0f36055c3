"""Orders: what a strategy asks the execution layer to do."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from quant_domain.errors import OrderError


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is OrderSide.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"


class OrderStatus(StrEnum):
    """Where an order is in its life; quant_engine.oms holds the legal transitions between them.

    PENDING_SUBMIT: recorded, not yet sent. SUBMITTED: sent, no answer yet. ACCEPTED: working at
    the broker. UNKNOWN: the broker's answer was ambiguous (timeout, 5xx); resolved by looking
    the order up by its client order id, never by sending it again.
    """

    PENDING_SUBMIT = "pending_submit"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """True for the terminal states: nothing can happen to the order any more."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class KillSwitchMode(StrEnum):
    """What the kill switch lets through; the risk gate enforces it on every order.

    ACTIVE: everything the other rules allow. HALT_ENTRIES: no order that opens or grows a
    position; reductions and cancels pass. REDUCE_ONLY: the same rule, set by a breaker rather
    than a person. FLATTEN_AND_HALT: working orders are cancelled and positions closed, then
    nothing more is sent.
    """

    ACTIVE = "active"
    HALT_ENTRIES = "halt_entries"
    REDUCE_ONLY = "reduce_only"
    FLATTEN_AND_HALT = "flatten_and_halt"


_ids = itertools.count(1)


def next_client_order_id(prefix: str = "o") -> str:
    """Process-unique client order id; brokers use it to make submission idempotent."""
    return f"{prefix}-{next(_ids)}"


@dataclass(frozen=True, slots=True)
class Order:
    """An instruction to trade `quantity` (always > 0) of `symbol` on `side`."""

    symbol: str
    side: OrderSide
    quantity: Decimal
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    client_order_id: str = field(default_factory=next_client_order_id)
    strategy_id: str = ""
    created_at: datetime | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Decimal):
            raise OrderError(f"order {self.client_order_id}: quantity must be a Decimal")
        if not self.quantity.is_finite() or self.quantity <= 0:
            raise OrderError(
                f"order {self.client_order_id}: quantity must be > 0, got {self.quantity}"
            )
        needs_limit = self.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise OrderError(
                f"order {self.client_order_id}: limit_price is "
                + ("required" if needs_limit else "not allowed")
                + f" for {self.type.value} orders"
            )
        if needs_stop != (self.stop_price is not None):
            raise OrderError(
                f"order {self.client_order_id}: stop_price is "
                + ("required" if needs_stop else "not allowed")
                + f" for {self.type.value} orders"
            )
        for name in ("limit_price", "stop_price"):
            price = getattr(self, name)
            if price is not None and (not isinstance(price, Decimal) or price <= 0):
                raise OrderError(f"order {self.client_order_id}: {name} must be a Decimal > 0")

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side is OrderSide.BUY else -self.quantity

    def with_client_order_id(self, client_order_id: str) -> Order:
        """This order under another client order id (the loop's deterministic one).

        A plain copy of an order that was already validated, field by field: no second
        validation, which keeps the per-order path cheap.
        """
        copy = object.__new__(Order)
        put = object.__setattr__
        put(copy, "symbol", self.symbol)
        put(copy, "side", self.side)
        put(copy, "quantity", self.quantity)
        put(copy, "type", self.type)
        put(copy, "limit_price", self.limit_price)
        put(copy, "stop_price", self.stop_price)
        put(copy, "time_in_force", self.time_in_force)
        put(copy, "client_order_id", client_order_id)
        put(copy, "strategy_id", self.strategy_id)
        put(copy, "created_at", self.created_at)
        put(copy, "reason", self.reason)
        return copy
