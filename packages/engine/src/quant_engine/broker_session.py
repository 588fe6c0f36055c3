"""BrokerSession: a paper session whose orders go to an external (live) broker, not the simulator.

Everything that decides is the PaperSession's (the timeline, the ledger, the TradingLoop and its
risk gate); only where orders go and how their outcomes come back differ. A LiveBroker delivers
execution reports from its own thread, so they are put in a thread-safe inbox and applied on the
session's thread, in the order they arrived: the loop's state is only ever touched by one thread.

After a step the session waits (at most `settle_s` seconds) until every order it sent in that
step has an answer: a market order until it is done (filled, cancelled, rejected, expired), any
other order until it is done or working at the broker. So the step's fills are in the ledger
before the step is recorded, and the next decision sees them, as it would in a backtest. An order
still unanswered at the deadline is left as it is (never sent again) and named in `unsettled`.

The link: when the broker says it is down, the gate refuses every new order (fail closed; the
broker itself also rejects with BROKER_UNAVAILABLE). When it says it is back, the session
reconciles the broker with its own books (the loop's `reconcile`) before it trades again.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from quant_domain import Bar, BrokerUnavailable, KillSwitchMode, Order, OrderStatus, OrderType
from quant_domain.events import ExecutionReport
from quant_domain.instruments import Instrument
from quant_domain.ports import LiveBroker, OrderJournal
from quant_engine.backtest import EngineRun
from quant_engine.config import BacktestConfig
from quant_engine.oms import OrderRecord
from quant_engine.order_acks import TimedBroker
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import Reconciliation
from quant_engine.trading_loop import TradingLoop
from quant_strategy import Strategy

Answered = Callable[[OrderRecord], bool]

_WORKING = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
_OPEN = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.UNKNOWN,
    }
)
_UNANSWERED = frozenset({OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL, OrderStatus.UNKNOWN})


class _LinkChange:
    """The broker's link went down or came back (queued behind the reports before it)."""

    __slots__ = ("connected", "detail")

    def __init__(self, connected: bool, detail: str) -> None:
        self.connected = connected
        self.detail = detail


def _done(record: OrderRecord) -> bool:
    return record.status.is_final


def _answered(record: OrderRecord) -> bool:
    """The broker has said enough about this order for the step to be recorded."""
    status = record.status
    if status.is_final:
        return True
    return status in _WORKING and record.order.type is not OrderType.MARKET


class BrokerSession(PaperSession):
    """One strategy trading on bars as they close, through an external LiveBroker."""

    def __init__(
        self,
        strategy: Strategy[Any],
        config: BacktestConfig,
        broker: LiveBroker,
        *,
        calendar: str | None = None,
        daily: bool = True,
        account: str = "paper",
        instruments: Mapping[str, Instrument] | None = None,
        journal: OrderJournal | None = None,
        settle_s: float = 5.0,
    ) -> None:
        """As PaperSession, with `broker` connected (or about to be) and `settle_s` the longest
        a step waits for its orders' answers. The simulator the parent builds is left idle."""
        super().__init__(
            strategy,
            config,
            calendar=calendar,
            daily=daily,
            account=account,
            instruments=instruments,
            journal=journal,
        )
        self.live = broker
        self.settle_s = settle_s
        timed = TimedBroker(broker, self.acks)  # an answer is timed as it arrives
        self.loop = TradingLoop(
            strategy,
            self.ledger,
            timed,
            self.clock,
            sizing=config.sized_with_costs,
            account=account,
            instruments=instruments,
            tick_prices=True,  # a real broker refuses prices off the tick
            journal=journal,
        )
        self._inbox: queue.SimpleQueue[ExecutionReport | _LinkChange] = queue.SimpleQueue()
        self._thread_lock = threading.Lock()  # on_bars, set_mode and close never overlap
        self.link_up = broker.connected
        self.link_detail = ""
        self.unsettled: list[str] = []  # client order ids a step stopped waiting for
        self.reconnects = 0
        self._sent_from = 0  # the first order of the running step
        timed.set_report_handler(self._inbox.put)  # reports wait for the session's thread
        broker.set_connection_handler(self._link)
        if not self.link_up:
            self.loop.gate.blocked = True

    @property
    def broker_name(self) -> str:
        return self.live.name

    # -- the adapter's thread ----------------------------------------------------------------------
    def _link(self, connected: bool, detail: str) -> None:
        if not connected:
            self.loop.gate.blocked = True  # at once: a decision running now must not send
        self._inbox.put(_LinkChange(connected, detail))

    # -- the session's thread ----------------------------------------------------------------------
    def drain(self) -> int:
        """Apply every report and link change that has arrived, in order; the number applied."""
        applied = 0
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return applied
            self._apply(item)
            applied += 1

    def _apply(self, item: ExecutionReport | _LinkChange) -> None:
        if isinstance(item, _LinkChange):
            self.link_up = item.connected
            self.link_detail = item.detail
            if item.connected:
                self.reconnects += 1
                # unreadable: the gate stays blocked; the next link change tries again
                with contextlib.suppress(BrokerUnavailable, OSError, TimeoutError):
                    self.reconcile_own_books()
            else:
                self.loop.gate.blocked = True
            return
        self.loop.on_report(item)

    def reconcile_own_books(self) -> Reconciliation:
        """Compare the broker with this session's own books (working orders, ledger positions):
        the gate passes orders again only when they agree (after a reconnect)."""
        working = self.working_orders()
        positions = {s: p.quantity for s, p in self.ledger.positions.items() if p.quantity}
        at = self.timeline.times[-1] if self.timeline.times else datetime.now(UTC)
        return self.loop.reconcile(working, positions, at)

    def working_orders(self) -> dict[str, Order]:
        """What is left of each order this session holds as working, by client order id."""
        working: dict[str, Order] = {}
        for record in self.loop.orders:
            if record.status in _OPEN:
                left = record.remaining
                order = record.order
                working[order.client_order_id] = Order(
                    symbol=order.symbol,
                    side=order.side,
                    quantity=left,
                    type=order.type,
                    limit_price=order.limit_price,
                    stop_price=order.stop_price,
                    time_in_force=order.time_in_force,
                    client_order_id=order.client_order_id,
                    strategy_id=order.strategy_id,
                )
        return working

    def settle(self, records: Sequence[OrderRecord], answered: Answered = _answered) -> list[str]:
        """Apply reports until each of `records` is `answered` or `settle_s` has passed; the
        client order ids still unanswered (left as they are, never sent again)."""
        deadline = time.monotonic() + self.settle_s
        self.drain()
        waiting = [r for r in records if not answered(r)]
        while waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                item = self._inbox.get(timeout=left)
            except queue.Empty:
                break
            self._apply(item)
            self.drain()
            waiting = [r for r in waiting if not answered(r)]
        late = [r.order.client_order_id for r in waiting]
        self.unsettled.extend(late)
        return late

    def on_bars(self, now: datetime, bars: Sequence[Bar], *, final: bool = False) -> None:
        with self._thread_lock:
            self.drain()  # reports that arrived between steps (late fills, a reconnect)
            self._sent_from = len(self.loop.orders)
            super().on_bars(now, bars, final=final)

    def _mark(self) -> None:
        # the parent marks the step after its decisions (and a flatten): the answers first
        if self.loop.trading:
            self.settle(self.loop.orders[self._sent_from :])
        super()._mark()

    def _flatten(self, reason: str) -> None:
        # the parent flattens again at every step while anything is held; an earlier closing
        # order the broker has not answered may still fill, and closing again could trade twice
        if any(r.status in _UNANSWERED for r in self.loop.orders):
            return
        super()._flatten(reason)

    def set_mode(self, mode: KillSwitchMode) -> None:
        with self._thread_lock:
            self.drain()
            sent_from = len(self.loop.orders)
            self.loop.mode = mode
            if mode is KillSwitchMode.FLATTEN_AND_HALT and self.timeline.times:
                self._flatten("kill switch: flatten_and_halt")
                self.settle(self.loop.orders[sent_from:])

    def flatten(self, reason: str) -> None:
        """Cancel every working order and close every position (market orders), then wait for
        their answers."""
        with self._thread_lock:
            self.drain()
            sent_from = len(self.loop.orders)
            self.loop.flatten(reason)
            self.settle(self.loop.orders[sent_from:])

    def end_session(self) -> None:
        with self._thread_lock:
            self.drain()
            super().end_session()

    def close(self) -> EngineRun:
        """End the session: cancel what is still working at the broker, wait for the answers,
        return the result (the link stays open: its owner closes it)."""
        with self._thread_lock:
            self.drain()
            super().end_session()
            working = [r for r in self.loop.orders if r.status in _OPEN]
            for record in working:
                self.live.cancel(
                    record.order.client_order_id, "still working when the session ended"
                )
            self.settle(working, _done)
            return self.result()

    def positions(self) -> Mapping[str, Decimal]:
        """The session's own positions (its ledger), non-zero only."""
        return {s: p.quantity for s, p in self.ledger.positions.items() if p.quantity}
