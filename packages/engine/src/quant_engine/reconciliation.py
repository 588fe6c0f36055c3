"""Reconciliation: does the broker hold what we think it holds? Compared, never traded to fix.

Before a runner sends its first order (at start-up and after every reconnect) it compares the
broker's working orders and positions with what it stored. Equal: CLEAN, trading starts. Any
difference: BLOCKED, and the risk gate refuses every order (`RECONCILIATION_PENDING`; cancels
pass) until an admin resolves it, by adopting the broker's state or by flattening. Nothing here
creates an order to make the two agree: a synthetic fill or a "repair" trade is how other
platforms doubled positions after a restart (../shared/research/trading-loop.md, section 1.5).

`adoption` says what our books must take in to equal the broker's (an admin's adopt, carried out
by the execution service without sending anything), and `reported` what the paper broker said of
an order it no longer holds, so a fill the database missed is recorded from it (ADR 0029).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from quant_domain import Order, OrderStatus
from quant_domain.events import (
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from quant_domain.ports import Broker

if TYPE_CHECKING:
    from quant_engine.trading_loop import TradingLoop

OrderReport = OrderFilled | OrderCancelled | OrderExpired | OrderRejected
"""What a broker reports of an order it no longer holds: its fills and how it ended."""


class ReconciliationState(StrEnum):
    PENDING = "pending"  # not compared yet (or the broker could not be read): no order leaves
    CLEAN = "clean"
    BLOCKED = "blocked"  # a difference waits for an admin's decision: no order leaves


class DifferenceKind(StrEnum):
    UNKNOWN_BROKER_ORDER = "unknown_broker_order"  # working at the broker, not in our books
    ORDER_NOT_AT_BROKER = "order_not_at_broker"  # working in our books, not at the broker
    POSITION_MISMATCH = "position_mismatch"


@dataclass(frozen=True, slots=True)
class Difference:
    kind: DifferenceKind
    key: str  # the client order id, or the symbol for a position
    broker: str  # what the broker says, in words
    ours: str  # what we stored, in words


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """One comparison's outcome: its state, every difference found, and when."""

    state: ReconciliationState
    differences: tuple[Difference, ...]
    checked_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The form stored with the session and served by the API."""
        return {
            "state": self.state.value,
            "checked_at": self.checked_at.isoformat(),
            "differences": [
                {"kind": d.kind.value, "key": d.key, "broker": d.broker, "ours": d.ours}
                for d in self.differences
            ],
        }


def _order_text(order: Order) -> str:
    price = f" @ {order.limit_price}" if order.limit_price is not None else ""
    return f"{order.side.value} {order.quantity} {order.symbol} {order.type.value}{price}"


def reconcile(
    broker: Broker,
    working: Mapping[str, Order],
    positions: Mapping[str, Decimal],
    at: datetime,
) -> Reconciliation:
    """Compare the broker's working orders and positions with ours (`working` by client order
    id, `positions` by symbol, zero positions may be left out). A broker that cannot be read
    raises: the caller stays PENDING, which blocks orders as BLOCKED does."""
    theirs = {order.client_order_id: order for order in broker.open_orders()}
    held = {symbol: qty for symbol, qty in broker.positions().items() if qty}
    differences: list[Difference] = []
    for cid, order in theirs.items():
        if cid not in working:
            differences.append(
                Difference(DifferenceKind.UNKNOWN_BROKER_ORDER, cid, _order_text(order), "none")
            )
    for cid, order in working.items():
        if cid not in theirs:
            differences.append(
                Difference(
                    DifferenceKind.ORDER_NOT_AT_BROKER,
                    cid,
                    "not working (filled, cancelled or never received: look it up)",
                    _order_text(order),
                )
            )
    ours = {symbol: qty for symbol, qty in positions.items() if qty}
    for symbol in sorted(set(held) | set(ours)):
        if held.get(symbol, Decimal(0)) != ours.get(symbol, Decimal(0)):
            differences.append(
                Difference(
                    DifferenceKind.POSITION_MISMATCH,
                    symbol,
                    str(held.get(symbol, Decimal(0))),
                    str(ours.get(symbol, Decimal(0))),
                )
            )
    state = ReconciliationState.BLOCKED if differences else ReconciliationState.CLEAN
    return Reconciliation(state, tuple(differences), at)


# -- what an admin's "adopt" takes in, and what the broker says of our orders it no longer holds --


@dataclass(frozen=True, slots=True)
class PositionTaken:
    """One symbol whose position we take from the broker: ours becomes `broker`, at its cost."""

    symbol: str
    ours: Decimal
    broker: Decimal
    cost: Decimal  # the broker's average price for the position (0 when it cannot say)

    @property
    def change(self) -> Decimal:
        return self.broker - self.ours


@dataclass(frozen=True, slots=True)
class Adoption:
    """What adopting the broker's state changes in our books; it sends nothing.

    `orders`: working at the broker, not in our books, attributed to a strategy (the broker's
    own attribution, else the session's). `dropped`: working in our books but not at the broker,
    which said nothing of them (no fill, no end): we stop counting them as working.
    `positions`: each symbol where the broker's quantity differs from ours.
    """

    orders: tuple[Order, ...]
    dropped: tuple[str, ...]
    positions: tuple[PositionTaken, ...]

    def __bool__(self) -> bool:
        return bool(self.orders or self.dropped or self.positions)


def adoption(
    broker: Broker,
    working: Mapping[str, Order],
    positions: Mapping[str, Decimal],
    *,
    strategy_id: str,
    cost: Mapping[str, Decimal] | None = None,
) -> Adoption:
    """What our books must take in to equal the broker's (`working` and `positions` as for
    `reconcile`; `cost` the broker's average price per symbol, when it keeps one)."""
    theirs = {order.client_order_id: order for order in broker.open_orders()}
    orders = tuple(
        order if order.strategy_id else replace(order, strategy_id=strategy_id)
        for cid, order in theirs.items()
        if cid not in working
    )
    dropped = tuple(cid for cid in working if cid not in theirs)
    held = broker.positions()
    taken = tuple(
        PositionTaken(
            symbol,
            positions.get(symbol, Decimal(0)),
            held.get(symbol, Decimal(0)),
            (cost or {}).get(symbol, Decimal(0)),
        )
        for symbol in sorted(set(held) | set(positions))
        if held.get(symbol, Decimal(0)) != positions.get(symbol, Decimal(0))
    )
    return Adoption(orders, dropped, taken)


def reported(loop: TradingLoop, client_order_id: str) -> list[OrderReport]:
    """What the broker reported of one of the loop's orders: its fills, then its end (cancelled,
    expired, rejected) when it ended. [] when the loop has no such order.

    The paper broker runs in the session and reports to its loop as things happen, so the
    loop's record is the paper broker's own history of the order, including what the database
    never heard (a fill while the runner's store was away). A live adapter answers the same
    question from its venue's order lookup by client order id.
    """
    record = next(
        (r for r in reversed(loop.orders) if r.order.client_order_id == client_order_id), None
    )
    if record is None:
        return []
    broker_id = record.broker_order_id or ""
    reports: list[OrderReport] = [
        OrderFilled(fill, broker_id)
        for fill in loop.fills
        if fill.client_order_id == client_order_id
    ]
    at = record.closed_at or record.submitted_at
    if record.status is OrderStatus.CANCELLED:
        reports.append(OrderCancelled(client_order_id, at, record.reason))
    elif record.status is OrderStatus.EXPIRED:
        reports.append(OrderExpired(client_order_id, at, record.reason))
    elif record.status is OrderStatus.REJECTED:
        reports.append(OrderRejected(client_order_id, at, record.reason, record.code))
    return reports
