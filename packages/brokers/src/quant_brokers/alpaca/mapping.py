"""Every translation between alpaca-py's trading models and the domain's orders and reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.trading import enums as alp
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position, TradeAccount
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)

from quant_domain import Fill, Order, OrderError, OrderSide, OrderType, TimeInForce
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from quant_domain.ports import AccountSnapshot, BrokerAccountSummary

DUPLICATE_MESSAGE = "client_order_id must be unique"
_WORKING = frozenset(
    {
        alp.OrderStatus.NEW,
        alp.OrderStatus.ACCEPTED,
        alp.OrderStatus.PENDING_NEW,
        alp.OrderStatus.PARTIALLY_FILLED,
        alp.OrderStatus.ACCEPTED_FOR_BIDDING,
        alp.OrderStatus.PENDING_CANCEL,
        alp.OrderStatus.PENDING_REPLACE,
        alp.OrderStatus.DONE_FOR_DAY,
        alp.OrderStatus.HELD,
        alp.OrderStatus.CALCULATED,
        alp.OrderStatus.PENDING_REVIEW,
        alp.OrderStatus.STOPPED,
        alp.OrderStatus.SUSPENDED,
    }
)
_TIF = {
    TimeInForce.DAY: alp.TimeInForce.DAY,
    TimeInForce.GTC: alp.TimeInForce.GTC,
    TimeInForce.IOC: alp.TimeInForce.IOC,
}


def decimal(value: Any) -> Decimal:
    """An SDK number (a string, or a float for stream fields) as the Decimal it was written as."""
    return Decimal(str(value)) if value is not None else Decimal(0)


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(slots=True)
class OrderProgress:
    """What the adapter has told the loop about one order, so no report goes out twice."""

    client_order_id: str
    strategy_id: str = ""
    broker_order_id: str = ""
    accepted: bool = False
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    final: bool = False
    cancel_reason: str = ""


def order_request(order: Order) -> OrderRequest:
    """The alpaca-py request for `order`, always carrying its client order id."""
    common: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": float(order.quantity),
        "side": alp.OrderSide.BUY if order.side is OrderSide.BUY else alp.OrderSide.SELL,
        "time_in_force": _TIF[order.time_in_force],
        "client_order_id": order.client_order_id,
    }
    if order.type is OrderType.MARKET:
        return MarketOrderRequest(**common)
    if order.type is OrderType.LIMIT:
        return LimitOrderRequest(**common, limit_price=float(order.limit_price or 0))
    if order.type is OrderType.STOP:
        return StopOrderRequest(**common, stop_price=float(order.stop_price or 0))
    return StopLimitOrderRequest(
        **common, limit_price=float(order.limit_price or 0), stop_price=float(order.stop_price or 0)
    )


def reports(
    seen: OrderProgress,
    snapshot: AlpacaOrder,
    at: datetime,
    execution: tuple[Decimal, Decimal, str] | None = None,
) -> list[ExecutionReport]:
    """The reports that bring the loop from `seen` to the broker's `snapshot` (and update `seen`).

    Fills are derived from the cumulative filled quantity, so an execution reported by the
    stream and the same one recovered later from the order's state carry one fill id
    ("<broker order id>:<cumulative quantity>"), and a fill older than what was reported is
    dropped. `execution` is the stream's (qty, price, execution id) for this update, used when
    it accounts for the whole new quantity; otherwise missed executions are reported as one
    fill at the price that makes the average come out as Alpaca's.
    """
    if seen.final:
        return []
    cid = seen.client_order_id
    seen.broker_order_id = seen.broker_order_id or str(snapshot.id)
    out: list[ExecutionReport] = []
    status = snapshot.status
    if status is alp.OrderStatus.REJECTED and not seen.accepted:
        seen.final = True
        return [OrderRejected(cid, at, "rejected by Alpaca", "BROKER_REJECTED")]
    if not seen.accepted:
        seen.accepted = True
        out.append(OrderAccepted(cid, seen.broker_order_id, at))
    cumulative = decimal(snapshot.filled_qty)
    if cumulative > seen.filled:
        out.append(_fill(seen, snapshot, cumulative, at, execution))
    if status is alp.OrderStatus.FILLED:
        seen.final = True
    elif status is alp.OrderStatus.CANCELED:
        seen.final = True
        out.append(OrderCancelled(cid, at, seen.cancel_reason or "cancelled at Alpaca"))
    elif status is alp.OrderStatus.EXPIRED:
        seen.final = True
        out.append(OrderExpired(cid, at, "expired at Alpaca"))
    elif status is alp.OrderStatus.REJECTED:
        seen.final = True
        out.append(OrderRejected(cid, at, "rejected by Alpaca", "BROKER_REJECTED"))
    elif status not in _WORKING:
        seen.final = True  # replaced: the order no longer trades as it was sent
        out.append(OrderCancelled(cid, at, f"{status.value} at Alpaca"))
    return out


def acceptance(seen: OrderProgress, snapshot: AlpacaOrder, at: datetime) -> list[ExecutionReport]:
    """Only whether Alpaca took the order (from the submit's answer): its executions are left
    to the stream, which reports each one, or to recovery when the stream stays silent."""
    seen.broker_order_id = seen.broker_order_id or str(snapshot.id)
    if seen.accepted or seen.final:
        return []
    if snapshot.status is alp.OrderStatus.REJECTED:
        seen.final = True
        return [OrderRejected(seen.client_order_id, at, "rejected by Alpaca", "BROKER_REJECTED")]
    seen.accepted = True
    return [OrderAccepted(seen.client_order_id, seen.broker_order_id, at)]


def _fill(
    seen: OrderProgress,
    snapshot: AlpacaOrder,
    cumulative: Decimal,
    at: datetime,
    execution: tuple[Decimal, Decimal, str] | None,
) -> OrderFilled:
    quantity = cumulative - seen.filled
    if execution is not None and execution[0] == quantity:
        price, note = execution[1], f"alpaca execution {execution[2]}"
    else:
        average = decimal(snapshot.filled_avg_price)
        price = (average * cumulative - seen.notional) / quantity
        note = "recovered from the order's state at Alpaca"
    seen.filled = cumulative
    seen.notional += quantity * price
    fill = Fill(
        fill_id=f"{seen.broker_order_id}:{_text(cumulative)}",
        client_order_id=seen.client_order_id,
        symbol=snapshot.symbol or "",
        side=OrderSide.BUY if snapshot.side is alp.OrderSide.BUY else OrderSide.SELL,
        quantity=quantity,
        price=price,
        commission=Decimal(0),
        timestamp=snapshot.filled_at or snapshot.updated_at or at,
        strategy_id=seen.strategy_id,
    )
    return OrderFilled(fill, seen.broker_order_id, note)


def domain_order(snapshot: AlpacaOrder) -> Order:
    """A working order at Alpaca as the domain's Order (for adoption after a restart)."""
    vendor_kind = snapshot.order_type or snapshot.type
    try:
        kind = OrderType(vendor_kind.value if vendor_kind else "market")
    except ValueError:
        raise OrderError(
            f"order {snapshot.client_order_id}: Alpaca order type {vendor_kind} has no domain "
            "equivalent"
        ) from None
    tif = {v: k for k, v in _TIF.items()}.get(snapshot.time_in_force, TimeInForce.DAY)
    limit = decimal(snapshot.limit_price) if snapshot.limit_price is not None else None
    stop = decimal(snapshot.stop_price) if snapshot.stop_price is not None else None
    return Order(
        symbol=snapshot.symbol or "",
        side=OrderSide.BUY if snapshot.side is alp.OrderSide.BUY else OrderSide.SELL,
        quantity=decimal(snapshot.qty),
        type=kind,
        limit_price=limit if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
        stop_price=stop if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
        time_in_force=tif,
        client_order_id=snapshot.client_order_id,
        created_at=snapshot.submitted_at,
    )


def progress_of(snapshot: AlpacaOrder) -> OrderProgress:
    """Progress for an order found at the broker, counted as reported up to its present state."""
    filled = decimal(snapshot.filled_qty)
    return OrderProgress(
        client_order_id=snapshot.client_order_id,
        broker_order_id=str(snapshot.id),
        accepted=True,
        filled=filled,
        notional=filled * decimal(snapshot.filled_avg_price),
    )


def positions(held: list[Position]) -> dict[str, Decimal]:
    """Signed quantity per symbol (shorts negative whatever sign Alpaca writes)."""
    out: dict[str, Decimal] = {}
    for position in held:
        quantity = abs(decimal(position.qty))
        if quantity:
            short = position.side is alp.PositionSide.SHORT
            out[position.symbol] = -quantity if short else quantity
    return out


def account_snapshot(account: TradeAccount, at: datetime) -> AccountSnapshot:
    return AccountSnapshot(
        cash=decimal(account.cash),
        equity=decimal(account.equity),
        buying_power=decimal(account.buying_power),
        timestamp=at,
    )


def account_summary(account: TradeAccount, endpoint: str, paper: bool) -> BrokerAccountSummary:
    blocked = bool(
        account.trading_blocked or account.account_blocked or account.trade_suspended_by_user
    )
    status = account.status.value if hasattr(account.status, "value") else str(account.status)
    return BrokerAccountSummary(
        broker="alpaca",
        endpoint=endpoint,
        account_id=account.account_number,
        status=status,
        cash=decimal(account.cash),
        equity=decimal(account.equity),
        buying_power=decimal(account.buying_power),
        can_trade=status == "ACTIVE" and not blocked,
        paper=paper,
    )


def error_text(error: APIError) -> str:
    """Alpaca's message from an error body, or the body itself when it is not JSON."""
    try:
        return str(json.loads(str(error))["message"])
    except (ValueError, KeyError, TypeError):
        return str(error)[:200]


def is_ambiguous(error: BaseException) -> bool:
    """True when a failed submit may still have created the order (look it up, never resend).

    Timeouts and dropped connections, any 5xx (504 included), a 429 the SDK gave up on after
    retrying (an earlier try may have passed), and 422 "client_order_id must be unique" (an
    earlier try did pass). Other 4xx answers are refusals.
    """
    if not isinstance(error, APIError):
        return True
    status = error.status_code or 0
    if status >= 500 or status == 429:
        return True
    return status == 422 and DUPLICATE_MESSAGE in error_text(error)


def describe_error(error: BaseException, endpoint: str) -> str:
    """What went wrong with a call to `endpoint`, naming it and never a key."""
    if isinstance(error, APIError):
        status = error.status_code
        if status in (401, 403):
            return (
                f"{endpoint} refused the API key (HTTP {status}: {error_text(error)}); "
                "check APCA_API_KEY_ID and APCA_API_SECRET_KEY"
            )
        return f"{endpoint} answered HTTP {status}: {error_text(error)}"
    return f"cannot reach {endpoint} ({type(error).__name__})"
