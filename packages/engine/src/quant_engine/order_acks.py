"""How long a broker takes to answer an order: wall-clock seconds from handing it over to the
broker's first report of it (accepted, or filled, rejected or cancelled when that comes first).

`TimedBroker` sits between a session's TradingLoop and its broker (the simulator or a live
adapter) and notes two instants per order: just before `submit` reaches the broker, and when the
first report of that order arrives (for a live adapter: on the adapter's thread, as it arrives,
not when the session gets round to applying it). The difference goes into `AckTimes`, a plain
queue of floats; whoever exports metrics drains it after the step (`take`), so nothing on the
order path touches a metric, a log or a lock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from quant_domain import Order
from quant_domain.events import ExecutionReport, OrderFilled, OrderRejected, OrderStatusUnknown
from quant_domain.ports import AccountSnapshot, Broker, ReportHandler

NOT_THE_BROKER = "BROKER_UNAVAILABLE"
"""An adapter's own refusal while its link is down: the broker never saw the order."""


class AckTimes:
    """Seconds from sending each order to its first report, waiting to be taken.

    `sent` runs on the session's thread, `reported` on the broker's (a live adapter's own);
    both only set or pop one dict key and append to a deque, which are atomic in CPython.
    """

    def __init__(
        self, clock: Callable[[], float] = time.perf_counter, *, keep: int = 10_000
    ) -> None:
        """`clock` is monotonic seconds; at most `keep` orders wait for an answer and at most
        `keep` measurements wait to be taken (the oldest go first)."""
        self._clock = clock
        self._keep = keep
        self._waiting: dict[str, float] = {}
        self._measured: deque[float] = deque(maxlen=keep)

    def sent(self, client_order_id: str) -> None:
        """The order is about to reach the broker (a repeated submit keeps the first instant)."""
        waiting = self._waiting
        if client_order_id in waiting:
            return
        if len(waiting) >= self._keep:  # never answered: stop waiting for the oldest
            waiting.pop(next(iter(waiting)), None)
        waiting[client_order_id] = self._clock()

    def reported(self, report: ExecutionReport) -> None:
        """A report arrived: the first one of an order we sent ends its wait."""
        if isinstance(report, OrderStatusUnknown):
            return  # the adapter does not know yet: the broker's answer is still to come
        if isinstance(report, OrderRejected) and report.code == NOT_THE_BROKER:
            self._waiting.pop(report.client_order_id, None)
            return
        if isinstance(report, OrderFilled):
            cid = report.fill.client_order_id
        else:
            cid = report.client_order_id
        started = self._waiting.pop(cid, None)
        if started is not None:
            self._measured.append(self._clock() - started)

    def take(self) -> list[float]:
        """Every measurement since the last take, oldest first."""
        taken: list[float] = []
        measured = self._measured
        while measured:
            taken.append(measured.popleft())
        return taken

    @property
    def waiting(self) -> int:
        """Orders sent and not answered yet."""
        return len(self._waiting)


class TimedBroker:
    """A Broker that passes everything to `inner` and times each order's first answer.

    Attributes it does not define (a live adapter's `name`, `connected`, ...) are `inner`'s.
    """

    def __init__(self, inner: Broker, acks: AckTimes) -> None:
        self.inner = inner
        self.acks = acks

    def set_report_handler(self, handler: ReportHandler) -> None:
        reported = self.acks.reported

        def timed(report: ExecutionReport) -> None:
            reported(report)
            handler(report)

        self.inner.set_report_handler(timed)

    def submit(self, order: Order) -> None:
        self.acks.sent(order.client_order_id)  # before: the simulator answers inside submit
        self.inner.submit(order)

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        self.inner.cancel(client_order_id, reason)

    def open_orders(self) -> list[Order]:
        return self.inner.open_orders()

    def positions(self) -> Mapping[str, Decimal]:
        return self.inner.positions()

    def account(self) -> AccountSnapshot:
        return self.inner.account()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
