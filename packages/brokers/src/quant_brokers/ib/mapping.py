"""All translation between ib_async's objects and the domain's: orders, fills, statuses.

Our client order id travels as IB's `orderRef`, the only free-text field IB keeps on the order,
its executions and its completed record, so an order is found again by it after any restart.
Quantities and prices cross as floats on the wire (ib_async's types) and come back as Decimals
built from their shortest repr, so 101.25 stays Decimal("101.25").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ib_async import Contract, LimitOrder, MarketOrder, Stock, StopLimitOrder, StopOrder
from ib_async import Order as IbOrder

from quant_domain import Fill, Order, OrderSide, OrderType, TimeInForce

WORKING = frozenset({"PreSubmitted", "Submitted"})
"""IB statuses of an order that is live at the broker (accepted, not yet done)."""
CANCELLED = frozenset({"Cancelled", "ApiCancelled"})
CANCELLED_CODE = 202
"""IB's error code that only confirms a cancellation."""

_TIF = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC"}
_TIF_BACK = {ib: ours for ours, ib in _TIF.items()}
_TYPES = {"MKT": OrderType.MARKET, "LMT": OrderType.LIMIT, "STP": OrderType.STOP}
_TYPES["STP LMT"] = OrderType.STOP_LIMIT


def decimal(value: float | Decimal | None) -> Decimal:
    """A wire float as the Decimal it was meant to be (10.0 -> 10, 101.25 -> 101.25)."""
    number = Decimal(repr(float(value or 0)))
    return number.quantize(Decimal(1)) if number == number.to_integral() else number


def contract(symbol: str) -> Contract:
    """A US stock routed SMART in USD: what the domain's symbols name."""
    return Stock(symbol, "SMART", "USD")


def ib_order(order: Order, account: str) -> IbOrder:
    """Our order as ib_async's, its client order id as `orderRef` (the lookup key at IB)."""
    action = "BUY" if order.side is OrderSide.BUY else "SELL"
    quantity = float(order.quantity)
    common: dict[str, Any] = {
        "orderRef": order.client_order_id,
        "tif": _TIF[order.time_in_force],
        "account": account,
    }
    if order.type is OrderType.MARKET:
        return MarketOrder(action, quantity, **common)
    if order.type is OrderType.LIMIT:
        return LimitOrder(action, quantity, float(order.limit_price or 0), **common)
    if order.type is OrderType.STOP:
        return StopOrder(action, quantity, float(order.stop_price or 0), **common)
    limit, stop = float(order.limit_price or 0), float(order.stop_price or 0)
    return StopLimitOrder(action, quantity, limit, stop, **common)


def domain_order(symbol: str, ib: IbOrder, strategy_id: str = "") -> Order | None:
    """IB's order as ours (None when it carries no orderRef: not placed through us)."""
    if not ib.orderRef or ib.orderType not in _TYPES:
        return None
    kind = _TYPES[ib.orderType]
    limit = decimal(ib.lmtPrice) if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    stop = decimal(ib.auxPrice) if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None
    return Order(
        symbol=symbol,
        side=OrderSide.BUY if ib.action == "BUY" else OrderSide.SELL,
        quantity=decimal(ib.totalQuantity),
        type=kind,
        limit_price=limit,
        stop_price=stop,
        time_in_force=_TIF_BACK.get(ib.tif, TimeInForce.DAY),
        client_order_id=ib.orderRef,
        strategy_id=strategy_id,
    )


def exec_base(exec_id: str) -> str:
    """An execution id without its last dotted part: a correction keeps this and changes that."""
    base, dot, _ = exec_id.rpartition(".")
    return base if dot else exec_id


def domain_fill(ib_fill: Any, strategy_id: str = "") -> Fill:
    """One ib_async Fill (execution + commission report) as ours; fill_id is IB's execId."""
    execution = ib_fill.execution
    at = execution.time if isinstance(execution.time, datetime) else datetime.now(UTC)
    return Fill(
        fill_id=execution.execId,
        client_order_id=execution.orderRef,
        symbol=ib_fill.contract.symbol,
        side=OrderSide.BUY if execution.side == "BOT" else OrderSide.SELL,
        quantity=decimal(execution.shares),
        price=decimal(execution.price),
        commission=decimal(abs(ib_fill.commissionReport.commission)),
        timestamp=at.astimezone(UTC),
        strategy_id=strategy_id,
    )


def account_values(rows: list[Any], account: str) -> dict[str, Decimal]:
    """USD account values by tag (TotalCashValue, NetLiquidation, BuyingPower, ...)."""
    values: dict[str, Decimal] = {}
    for row in rows:
        if row.account == account and row.currency in ("USD", "BASE", ""):
            try:
                values.setdefault(row.tag, Decimal(row.value))
            except ArithmeticError:  # AccountType and other words
                continue
    return values
