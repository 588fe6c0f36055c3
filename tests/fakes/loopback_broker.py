"""LoopbackBroker: our own LiveBroker port over a tiny matching engine, answering from its thread.

Not a vendor's protocol (tests/fakes/alpaca_broker.py and tests/fakes/tws.py are those): it keeps
the threading contract of quant_domain.ports.LiveBroker so the session's inbox, settling and link
handling run for real. `submit` and `cancel` only queue; a worker thread answers after `delay`
seconds (prices and link changes at once, in order). A market order fills whole at the symbol's price (`set_price`, a bar's close); a limit
order rests until the price reaches it. No commission. Knobs: `drop_link`/`restore_link`,
`refuse_connect`, `mute` (the thread stops answering).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal

from quant_domain import BrokerUnavailable, Fill, Order, OrderSide, OrderType
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
)
from quant_domain.ports import (
    AccountSnapshot,
    BrokerAccountSummary,
    ConnectionHandler,
    ReportHandler,
)


def _ignore_report(report: ExecutionReport) -> None:
    del report


def _ignore_link(connected: bool, detail: str) -> None:
    del connected, detail


class LoopbackBroker:
    """A LiveBroker whose exchange is in this process (one worker thread answers)."""

    name = "loopback"

    def __init__(
        self, *, cash: Decimal = Decimal(1_000_000), delay: float = 0.002, account_id: str = "LB1"
    ) -> None:
        self.delay = delay
        self.account_id = account_id
        self.endpoint = "loopback://in-process"
        self.refuse_connect = False
        self.mute = False
        self.cash = cash
        self.prices: dict[str, Decimal] = {}
        self.now = datetime.now(UTC)
        self.submitted: list[Order] = []  # every order the exchange took, in arrival order
        self._held: dict[str, Decimal] = {}
        self._working: dict[str, Order] = {}
        self._seen: set[str] = set()
        self._ids = itertools.count(1)
        self._report: ReportHandler = _ignore_report
        self._link: ConnectionHandler = _ignore_link
        self._connected = False
        self._jobs: queue.SimpleQueue[tuple[bool, Callable[[], None]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # the exchange's books: the worker and readers share them
        self._thread: threading.Thread | None = None

    # -- the link ----------------------------------------------------------------------------------
    def connect(self, timeout: float = 10.0) -> None:
        if self.refuse_connect:
            raise BrokerUnavailable(f"{self.endpoint} refused the connection")
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="loopback", daemon=True)
            self._thread.start()
        self._connected = True

    def close(self) -> None:
        self._connected = False
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def connected(self) -> bool:
        return self._connected

    def set_connection_handler(self, handler: ConnectionHandler) -> None:
        self._link = handler

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._report = handler

    def drop_link(self) -> None:
        self._connected = False
        self._jobs.put((False, lambda: self._link(False, "loopback link dropped")))

    def restore_link(self) -> None:
        self._connected = True
        self._jobs.put((False, lambda: self._link(True, "loopback link restored")))

    # -- the exchange ------------------------------------------------------------------------------
    def set_price(self, symbol: str, price: Decimal, at: datetime | None = None) -> None:
        """The symbol's price from now on (resting limits that it reaches fill, in order)."""
        with self._lock:
            self.prices[symbol] = price
            if at is not None:
                self.now = at
        self._jobs.put((False, lambda: self._match(symbol)))

    def submit(self, order: Order) -> None:
        if not self._connected:
            cid = order.client_order_id
            self._jobs.put(
                (
                    True,
                    lambda: self._report(
                        OrderRejected(cid, self.now, "the link is down", "BROKER_UNAVAILABLE")
                    ),
                )
            )
            return
        self._jobs.put((True, lambda: self._take(order)))

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        self._jobs.put((True, lambda: self._cancel(client_order_id, reason)))

    def open_orders(self) -> list[Order]:
        with self._lock:
            return list(self._working.values())

    def positions(self) -> Mapping[str, Decimal]:
        with self._lock:
            return {s: q for s, q in self._held.items() if q}

    def account(self) -> AccountSnapshot:
        with self._lock:
            value = sum(
                (q * self.prices.get(s, Decimal(0)) for s, q in self._held.items()), Decimal(0)
            )
            return AccountSnapshot(self.cash, self.cash + value, self.cash, datetime.now(UTC))

    def summary(self) -> BrokerAccountSummary:
        if not self._connected:
            raise BrokerUnavailable(f"{self.endpoint} is not connected")
        snapshot = self.account()
        return BrokerAccountSummary(
            broker=self.name,
            endpoint=self.endpoint,
            account_id=self.account_id,
            status="ACTIVE",
            cash=snapshot.cash,
            equity=snapshot.equity,
            buying_power=snapshot.buying_power,
            can_trade=True,
            paper=True,
        )

    # -- the worker thread -------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            delayed, job = item
            while self.mute:
                time.sleep(0.01)
            if delayed and self.delay:  # an answer to an order takes a moment, a price does not
                time.sleep(self.delay)
            job()

    def _take(self, order: Order) -> None:
        cid = order.client_order_id
        with self._lock:
            if cid in self._seen:
                return  # the same client order id again: a no-op, as at a real broker
            self._seen.add(cid)
            self.submitted.append(order)
            price = self.prices.get(order.symbol)
        if price is None:
            self._report(OrderRejected(cid, self.now, f"no price for {order.symbol}", "NO_QUOTE"))
            return
        with self._lock:
            self._working[cid] = order
        self._report(OrderAccepted(cid, f"LB-{next(self._ids)}", self.now))
        self._match(order.symbol)

    def _match(self, symbol: str) -> None:
        with self._lock:
            price = self.prices.get(symbol)
            due = [
                o
                for o in self._working.values()
                if o.symbol == symbol and price is not None and self._reaches(o, price)
            ]
        for order in due:
            assert price is not None
            self._fill(order, price)

    @staticmethod
    def _reaches(order: Order, price: Decimal) -> bool:
        if order.type is OrderType.MARKET:
            return True
        limit = order.limit_price
        if order.type is not OrderType.LIMIT or limit is None:
            return False  # stops rest here until cancelled: the harness sends none
        return price <= limit if order.side is OrderSide.BUY else price >= limit

    def _fill(self, order: Order, price: Decimal) -> None:
        cid = order.client_order_id
        signed = order.quantity if order.side is OrderSide.BUY else -order.quantity
        with self._lock:
            self._working.pop(cid, None)
            self._held[order.symbol] = self._held.get(order.symbol, Decimal(0)) + signed
            self.cash -= signed * price
        fill = Fill(
            fill_id=f"{cid}-x1",
            client_order_id=cid,
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            price=price,
            commission=Decimal(0),
            timestamp=self.now,
            strategy_id=order.strategy_id,
        )
        self._report(OrderFilled(fill))

    def _cancel(self, client_order_id: str, reason: str) -> None:
        with self._lock:
            order = self._working.pop(client_order_id, None)
        if order is not None:
            self._report(OrderCancelled(client_order_id, self.now, reason or "cancelled"))
