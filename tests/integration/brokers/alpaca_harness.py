"""Shared pieces of the Alpaca adapter tests: fast timings, a report recorder, a broker factory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from quant_brokers.alpaca import AlpacaBroker, AlpacaBrokerSettings, AlpacaTimings
from quant_domain import Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from quant_engine.oms import OrderRecord
from tests.fakes.alpaca_broker import FakeAlpacaBroker

FAST = AlpacaTimings(
    request_timeout=2.0,
    sdk_retries=3,
    sdk_retry_wait=0.01,
    open_timeout=2.0,
    reconnect_base=0.02,
    reconnect_cap=0.1,
    lookup_interval=0.05,
    not_found_window=0.2,
    echo_timeout=0.4,
)

Event = ExecutionReport | tuple[str, bool]


class Recorder:
    """Collects reports and connection changes, in arrival order, from the adapter's thread.

    It also applies each report to the engine's own order records (quant_engine.oms) the way
    the trading loop does, so a report the loop would refuse (an illegal transition, an
    overfill) shows up in `errors` instead of vanishing in the adapter's thread.
    """

    def __init__(self) -> None:
        self.items: list[Event] = []
        self.errors: list[str] = []
        self.records: dict[str, OrderRecord] = {}
        self._changed = threading.Condition()

    def send(self, broker: AlpacaBroker, order: Order) -> None:
        """What TradingLoop.send does: record the order as SUBMITTED, then hand it over."""
        at = datetime.now(UTC)
        self.records[order.client_order_id] = OrderRecord(order, at, OrderStatus.SUBMITTED)
        broker.submit(order)

    def adopt(self, order: Order) -> None:
        self.records[order.client_order_id] = OrderRecord(
            order, datetime.now(UTC), OrderStatus.ACCEPTED
        )

    def status(self, client_order_id: str) -> OrderStatus:
        return self.records[client_order_id].status

    def report(self, report: ExecutionReport) -> None:
        with self._changed:
            self.items.append(report)
            try:
                _apply(self.records, report)
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._changed.notify_all()

    def connection(self, connected: bool, detail: str) -> None:
        with self._changed:
            self.items.append(("connected", connected))
            self._changed.notify_all()

    def wait_for(self, done: Callable[[list[Event]], bool], timeout: float = 5.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.items):
                left = deadline - time.monotonic()
                assert left > 0, f"timed out; got {self.items}"
                self._changed.wait(left)
            return list(self.items)

    def of(self, kind: type) -> list[ExecutionReport]:
        return [item for item in self.items if isinstance(item, kind)]

    def kinds(self) -> list[str]:
        return [
            type(i).__name__ if not isinstance(i, tuple) else f"connected={i[1]}"
            for i in self.items
        ]


def _apply(records: dict[str, OrderRecord], report: ExecutionReport) -> None:
    if isinstance(report, OrderFilled):
        records[report.fill.client_order_id].apply_fill(report.fill)
        return
    record = records[report.client_order_id]
    if isinstance(report, OrderAccepted):
        record.to(OrderStatus.ACCEPTED, report.timestamp)
    elif isinstance(report, OrderRejected):
        record.to(OrderStatus.REJECTED, report.timestamp, report.reason, report.code)
    elif isinstance(report, OrderCancelled):
        record.to(OrderStatus.CANCELLED, report.timestamp, report.reason)
    elif isinstance(report, OrderExpired):
        record.to(OrderStatus.EXPIRED, report.timestamp, report.reason)
    else:
        record.to(OrderStatus.UNKNOWN, report.timestamp, report.reason)


def settings_for(fake: FakeAlpacaBroker) -> AlpacaBrokerSettings:
    return AlpacaBrokerSettings(
        api_key_id=fake.key_id,
        api_secret_key=fake.secret_key,
        trading_url=fake.url,
        stream_url=fake.stream_url,
    )


def start(fake: FakeAlpacaBroker, recorder: Recorder) -> AlpacaBroker:
    broker = AlpacaBroker(settings_for(fake), FAST)
    broker.set_report_handler(recorder.report)
    broker.set_connection_handler(recorder.connection)
    broker.connect(timeout=5)
    return broker


def buy(cid: str, qty: int = 10, limit: str | None = None, symbol: str = "AAPL") -> Order:
    return Order(
        symbol=symbol,
        side=OrderSide.BUY,
        quantity=Decimal(qty),
        type=OrderType.LIMIT if limit else OrderType.MARKET,
        limit_price=Decimal(limit) if limit else None,
        time_in_force=TimeInForce.DAY,
        client_order_id=cid,
        strategy_id="s1",
    )


def posts(fake: FakeAlpacaBroker) -> int:
    return sum(1 for method, path in fake.requests if (method, path) == ("POST", "/v2/orders"))
