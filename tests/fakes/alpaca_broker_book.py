"""The fake Alpaca broker's account: orders, matching, positions and the trade_updates it emits.

Pure state behind one lock, so the test thread (`set_price`) and the server's event loop (REST
handlers) can both move it. Every trade update is appended to `events` and handed to `publish`;
whether it reaches a websocket is the server's business, so fills made while the stream is down
are still on the books and recoverable through GET /v2/orders.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

Row = dict[str, Any]
OPEN_STATUSES = frozenset({"new", "accepted", "pending_new", "partially_filled"})
SIDES = frozenset({"buy", "sell"})
TYPES = frozenset({"market", "limit"})
TIFS = frozenset({"day", "gtc", "ioc", "fok", "opg", "cls"})


class BookError(Exception):
    """An order the fake refuses: HTTP status plus Alpaca's {code, message} body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "message": message}


def stamp(at: datetime | None = None) -> str:
    """RFC 3339 with a Z, as Alpaca writes times."""
    return (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(slots=True)
class FakeOrder:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    type: str
    time_in_force: str
    limit_price: Decimal | None
    created_at: datetime
    status: str = "new"
    filled_qty: Decimal = Decimal(0)
    notional_filled: Decimal = Decimal(0)
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    filled_at: datetime | None = None
    canceled_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_json(self) -> Row:
        avg = self.notional_filled / self.filled_qty if self.filled_qty else None
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": stamp(self.created_at),
            "updated_at": stamp(self.updated_at),
            "submitted_at": stamp(self.created_at),
            "filled_at": stamp(self.filled_at) if self.filled_at else None,
            "expired_at": None,
            "canceled_at": stamp(self.canceled_at) if self.canceled_at else None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.symbol)),
            "symbol": self.symbol,
            "asset_class": "us_equity",
            "notional": None,
            "qty": _text(self.qty),
            "filled_qty": _text(self.filled_qty),
            "filled_avg_price": _text(avg) if avg is not None else None,
            "order_class": "simple",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "time_in_force": self.time_in_force,
            "limit_price": _text(self.limit_price) if self.limit_price is not None else None,
            "stop_price": None,
            "status": self.status,
            "extended_hours": False,
            "legs": None,
        }


class Book:
    """One paper account: cash, positions, orders; fills at the prices `set_price` gives."""

    def __init__(self, publish: Callable[[Row], None], cash: Decimal = Decimal(100_000)) -> None:
        self.publish = publish
        self.cash = cash
        self.account_id = str(uuid.uuid4())
        self.partial_fills = 1
        self.reject_symbols: set[str] = set()
        self.orders: dict[str, FakeOrder] = {}
        self.by_client_id: dict[str, FakeOrder] = {}
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (qty, cost)
        self.prices: dict[str, Decimal] = {}
        self.events: list[Row] = []
        self.lock = threading.RLock()

    # -- orders ------------------------------------------------------------------------------
    def submit(self, body: Row) -> FakeOrder:
        with self.lock:
            order = self._validated(body)
            self.orders[order.id] = order
            self.by_client_id[order.client_order_id] = order
            if order.symbol in self.reject_symbols:
                order.status = "rejected"
                self._emit("rejected", order)
                return order
            self._emit("new", order)
            self._match(order)
            return order

    def _validated(self, body: Row) -> FakeOrder:
        symbol = str(body.get("symbol") or "")
        if not symbol:
            raise BookError(422, 40010001, "symbol is required")
        side, kind, tif = body.get("side"), body.get("type"), body.get("time_in_force")
        if side not in SIDES:
            raise BookError(422, 40010001, f"invalid side {side!r}")
        if kind not in TYPES:
            raise BookError(422, 40010001, f"order type {kind!r} is not supported here")
        if tif not in TIFS:
            raise BookError(422, 40010001, f"invalid time_in_force {tif!r}")
        try:
            qty = Decimal(str(body.get("qty")))
        except ArithmeticError:
            raise BookError(422, 40010001, "qty must be a number") from None
        if not qty.is_finite() or qty <= 0:
            raise BookError(422, 40010001, "qty must be > 0")
        limit = body.get("limit_price")
        if (kind == "limit") != (limit is not None):
            raise BookError(422, 40010001, "limit_price is required for limit orders only")
        client_id = str(body.get("client_order_id") or uuid.uuid4())
        if client_id in self.by_client_id:
            raise BookError(422, 40010001, "client_order_id must be unique")
        if len(client_id) > 128:
            raise BookError(422, 40010001, "client_order_id must be at most 128 characters")
        return FakeOrder(
            id=str(uuid.uuid4()),
            client_order_id=client_id,
            symbol=symbol,
            side=str(side),
            qty=qty,
            type=str(kind),
            time_in_force=str(tif),
            limit_price=Decimal(str(limit)) if limit is not None else None,
            created_at=datetime.now(UTC),
        )

    def cancel(self, order_id: str) -> FakeOrder:
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                raise BookError(404, 40410000, "order not found")
            if not order.is_open:
                raise BookError(422, 42210000, f"order is not cancelable (status {order.status})")
            order.status = "canceled"
            order.canceled_at = order.updated_at = datetime.now(UTC)
            self._emit("canceled", order)
            return order

    def set_price(self, symbol: str, price: Decimal) -> None:
        with self.lock:
            self.prices[symbol] = price
            for order in list(self.orders.values()):
                if order.symbol == symbol and order.is_open:
                    self._match(order)

    # -- matching ----------------------------------------------------------------------------
    def _match(self, order: FakeOrder) -> None:
        price = self.prices.get(order.symbol)
        if price is None or not order.is_open:
            return
        if order.type == "limit" and order.limit_price is not None:
            crossed = (
                price <= order.limit_price if order.side == "buy" else price >= order.limit_price
            )
            if not crossed:
                return
        remaining = order.qty - order.filled_qty
        parts = max(1, self.partial_fills)
        piece = (remaining / parts).to_integral_value(ROUND_FLOOR)
        if piece <= 0:
            parts, piece = 1, remaining
        for _ in range(parts - 1):
            self._execute(order, piece, price)
        self._execute(order, remaining - piece * (parts - 1), price)

    def _execute(self, order: FakeOrder, qty: Decimal, price: Decimal) -> None:
        now = datetime.now(UTC)
        order.filled_qty += qty
        order.notional_filled += qty * price
        order.updated_at = now
        done = order.filled_qty >= order.qty
        order.status = "filled" if done else "partially_filled"
        if done:
            order.filled_at = now
        signed = qty if order.side == "buy" else -qty
        held, cost = self.positions.get(order.symbol, (Decimal(0), Decimal(0)))
        self.positions[order.symbol] = (held + signed, cost + signed * price)
        if self.positions[order.symbol][0] == 0:
            del self.positions[order.symbol]
        self.cash -= signed * price
        self._emit(
            "fill" if done else "partial_fill",
            order,
            execution_id=str(uuid.uuid4()),
            qty=_text(qty),
            price=_text(price),
            position_qty=_text(held + signed),
        )

    def _emit(self, event: str, order: FakeOrder, **extra: str) -> None:
        data: Row = {"event": event, "timestamp": stamp(), "order": order.to_json(), **extra}
        message = {"stream": "trade_updates", "data": data}
        self.events.append(message)
        self.publish(message)

    # -- views -------------------------------------------------------------------------------
    def equity(self) -> Decimal:
        marked = sum(
            (qty * self.prices.get(sym, cost / qty) for sym, (qty, cost) in self.positions.items()),
            Decimal(0),
        )
        return self.cash + marked

    def position_json(self, symbol: str) -> Row:
        qty, cost = self.positions[symbol]
        price = self.prices.get(symbol, cost / qty)
        return {
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)),
            "symbol": symbol,
            "exchange": "NASDAQ",
            "asset_class": "us_equity",
            "avg_entry_price": _text(cost / qty),
            "qty": _text(qty),
            "qty_available": _text(qty),
            "side": "long" if qty > 0 else "short",
            "market_value": _text(qty * price),
            "cost_basis": _text(cost),
            "current_price": _text(price),
        }

    def account_json(self) -> Row:
        equity = self.equity()
        return {
            "id": self.account_id,
            "account_number": "PA" + self.account_id[:10].replace("-", "").upper(),
            "status": "ACTIVE",
            "currency": "USD",
            "cash": _text(self.cash),
            "equity": _text(equity),
            "last_equity": _text(equity),
            "portfolio_value": _text(equity),
            "buying_power": _text(max(self.cash, Decimal(0)) * 2),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "shorting_enabled": True,
            "multiplier": "2",
            "created_at": stamp(),
        }
