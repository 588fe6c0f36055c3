"""What the IbBroker tests share: a FakeTws, a broker with short timeouts, a report recorder."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from quant_brokers.base import Backoff
from quant_brokers.ib.client import IbBroker
from quant_brokers.ib.settings import IbSettings
from quant_domain import Order, OrderSide, OrderStatus, OrderType
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)
from quant_engine.oms import OrderRecord
from tests.fakes.tws import FakeTws

CLIENT_ID = 11


class Recorder:
    """The report and connection handlers: keeps what arrived, lets a test wait for it."""

    def __init__(self) -> None:
        self.reports: list[ExecutionReport] = []
        self.links: list[tuple[bool, str]] = []
        self.threads: set[str] = set()
        self._changed = threading.Condition()

    def report(self, report: ExecutionReport) -> None:
        with self._changed:
            self.reports.append(report)
            self.threads.add(threading.current_thread().name)
            self._changed.notify_all()

    def link(self, connected: bool, detail: str) -> None:
        with self._changed:
            self.links.append((connected, detail))
            self._changed.notify_all()

    def wait(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(check, timeout):
                raise AssertionError(f"not seen in {timeout} s; reports: {self.reports}")

    def of(self, kind: type, client_order_id: str) -> list[ExecutionReport]:
        return [r for r in self.reports if isinstance(r, kind) and coid_of(r) == client_order_id]

    def kinds(self, client_order_id: str) -> list[str]:
        return [type(r).__name__ for r in self.reports if coid_of(r) == client_order_id]


def coid_of(report: ExecutionReport) -> str:
    if isinstance(report, OrderFilled):
        return report.fill.client_order_id
    return report.client_order_id


def replay(order: Order, reports: list[ExecutionReport]) -> OrderRecord:
    """Apply `order`'s reports to the OMS's own order record, as the trading loop does: an
    order of reports the OMS refuses raises IllegalTransition here."""
    record = OrderRecord(order=order, submitted_at=datetime.now(UTC), status=OrderStatus.SUBMITTED)
    statuses = {
        OrderAccepted: OrderStatus.ACCEPTED,
        OrderCancelled: OrderStatus.CANCELLED,
        OrderExpired: OrderStatus.EXPIRED,
        OrderRejected: OrderStatus.REJECTED,
        OrderStatusUnknown: OrderStatus.UNKNOWN,
    }
    for report in reports:
        if coid_of(report) != order.client_order_id:
            continue
        if isinstance(report, OrderFilled):
            record.apply_fill(report.fill)
        else:
            record.to(statuses[type(report)], report.timestamp)
    return record


def settings(tws: FakeTws, **overrides: float) -> IbSettings:
    values: dict[str, float] = {
        "connect_timeout": 2.0,
        "request_timeout": 2.0,
        "ack_timeout": 2.0,
        "commission_wait": 0.5,
    }
    values.update(overrides)
    return IbSettings(host="127.0.0.1", port=tws.port, **values)


def fast_backoff() -> Backoff:
    return Backoff(base=0.02, cap=0.1, rng=random.Random(7))


@contextmanager
def broker(
    tws: FakeTws, client_id: int = CLIENT_ID, floor: int = 0, **overrides: float
) -> Iterator[tuple[IbBroker, Recorder]]:
    """A connected IbBroker with a Recorder installed; closed after."""
    ib = IbBroker(
        settings(tws, **overrides),
        client_id=client_id,
        order_id_floor=floor,
        backoff=fast_backoff(),
    )
    recorder = Recorder()
    ib.set_report_handler(recorder.report)
    ib.set_connection_handler(recorder.link)
    ib.connect(timeout=5)
    try:
        yield ib, recorder
    finally:
        ib.close()


def buy(quantity: int, coid: str, limit: str | None = None, symbol: str = "AAPL") -> Order:
    return Order(
        symbol=symbol,
        side=OrderSide.BUY,
        quantity=Decimal(quantity),
        type=OrderType.LIMIT if limit else OrderType.MARKET,
        limit_price=Decimal(limit) if limit else None,
        client_order_id=coid,
        strategy_id="s1",
    )


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
