"""Reconciliation: does the broker hold what we think it holds? Compared, never traded to fix.

Before a runner sends its first order (at start-up and after every reconnect) it compares the
broker's working orders and positions with what it stored. Equal: CLEAN, trading starts. Any
difference: BLOCKED, and the risk gate refuses every order (`RECONCILIATION_PENDING`; cancels
pass) until an admin resolves it, by adopting the broker's state or by flattening. Nothing here
creates an order to make the two agree: a synthetic fill or a "repair" trade is how other
platforms doubled positions after a restart (../shared/research/trading-loop.md, section 1.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from quant_domain import Order
from quant_domain.ports import Broker


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
