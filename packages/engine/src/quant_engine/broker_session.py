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
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from quant_domain import Bar, BrokerUnavailable, Fill, KillSwitchMode, Order, OrderStatus, OrderType
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from quant_domain.instruments import Instrument
from quant_domain.ports import LiveBroker, OrderJournal
from quant_engine.backtest import EngineRun
from quant_engine.config import BacktestConfig
from quant_engine.oms import ClientOrderIds, OrderRecord
from quant_engine.order_acks import TimedBroker
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import Reconciliation
from quant_engine.trading_loop import TradingLoop
from quant_strategy import Strategy

log = logging.getLogger("quant.engine")

Answered = Callable[[OrderRecord], bool]
Books = tuple[Mapping[str, Order], Mapping[str, Decimal]]
"""Working orders by client order id and non-zero positions by symbol."""

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


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """One order of the run as PostgreSQL holds it, for rebuilding a session after a restart."""

    order: Order  # its full quantity
    status: OrderStatus
    submitted_at: datetime
    broker_order_id: str | None = None
    reason: str = ""
    code: str = ""
    closed_at: datetime | None = None


_ENDS: dict[OrderStatus, Callable[[str, datetime, str, str], ExecutionReport]] = {
    OrderStatus.CANCELLED: lambda cid, at, why, code: OrderCancelled(cid, at, why),
    OrderStatus.EXPIRED: lambda cid, at, why, code: OrderExpired(cid, at, why),
    OrderStatus.REJECTED: OrderRejected,
}


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
        self.restored: frozenset[str] = frozenset()  # client order ids taken from the store
        # the other sessions' books on the same broker account (None: this session is alone):
        # a reconnect compares the account with all of them, not with this session alone
        self.others: Callable[[], Books] | None = None
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
        if self._repeats_the_store(item):
            return
        self.loop.on_report(item)

    def _repeats_the_store(self, report: ExecutionReport) -> bool:
        """A report on an order restored from the store that only says what the store holds
        already (a new adapter reports what it finds: an acceptance, an end, today's fills):
        dropped, as the journal would drop it, instead of failing as an illegal transition."""
        cid = report.fill.client_order_id if isinstance(report, OrderFilled) else ""
        cid = cid or getattr(report, "client_order_id", "")
        record = next(
            (r for r in reversed(self.loop.orders) if r.order.client_order_id == cid), None
        )
        if record is None:  # a new adapter may replay today's executions of an earlier session
            log.warning(
                "%s: %s for an order this session does not hold; not applied",
                cid,
                type(report).__name__,
            )
            return True
        if cid not in self.restored:
            return False
        if isinstance(report, OrderFilled):
            repeat = report.fill.fill_id in record.fill_ids or record.status.is_final
        elif isinstance(report, OrderAccepted):
            repeat = record.status not in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN)
        else:
            repeat = record.status.is_final
        if repeat:
            log.info("%s: %s repeats what the store holds; not applied", cid, type(report).__name__)
        return repeat

    def reconcile_own_books(self) -> Reconciliation:
        """Compare the broker with this session's own books (working orders, ledger positions):
        the gate passes orders again only when they agree (after a reconnect)."""
        working: dict[str, Order] = dict(self.working_orders())
        positions = {s: p.quantity for s, p in self.ledger.positions.items() if p.quantity}
        if self.others is not None:  # the account is shared: compare it with every session's
            their_orders, their_positions = self.others()
            working.update(their_orders)
            for symbol, quantity in their_positions.items():
                positions[symbol] = positions.get(symbol, Decimal(0)) + quantity
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

    def settle(
        self,
        records: Sequence[OrderRecord],
        answered: Answered = _answered,
        timeout: float | None = None,
    ) -> list[str]:
        """Apply reports until each of `records` is `answered` or `timeout` (default
        `settle_s`) has passed; the client order ids still unanswered (left as they are, never
        sent again)."""
        deadline = time.monotonic() + (self.settle_s if timeout is None else timeout)
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

    # -- after a restart -------------------------------------------------------------------------
    def restore(self, orders: Sequence[StoredOrder], fills: Sequence[tuple[Fill, str]]) -> None:
        """Take in the run's orders and fills as PostgreSQL holds them (a restart of the
        service: ADR 0042), before the first step. Nothing is sent and nothing is written: each
        order becomes the loop's record (a working one counted by the gate as pending), each
        fill moves the ledger as it did, and client order ids carry on after the highest one
        stored, so no new order reuses an id the broker has seen. `fills` are (fill, broker
        order id), in the order they were stored."""
        with self._thread_lock:
            loop = self.loop
            journal, loop.journal = loop.journal, None  # the store holds all of it already
            try:
                for stored in orders:
                    record = loop.adopt(stored.order, stored.submitted_at)
                    record.broker_order_id = stored.broker_order_id
                    if stored.status in _UNANSWERED - {OrderStatus.PENDING_CANCEL}:
                        record.status = OrderStatus.SUBMITTED  # in doubt: looked up at the broker
                for fill, broker_order_id in fills:
                    loop.on_report(OrderFilled(fill, broker_order_id))
                for stored in orders:
                    end = _ENDS.get(stored.status)
                    if end is not None:
                        at = stored.closed_at or stored.submitted_at
                        loop.on_report(
                            end(stored.order.client_order_id, at, stored.reason, stored.code)
                        )
            finally:
                loop.journal = journal
            self.restored = frozenset(s.order.client_order_id for s in orders)
            last = _last_id(loop._ids, [s.order.client_order_id for s in orders])
            if last is not None:
                loop._ids = ClientOrderIds(
                    loop._ids.account, loop._ids.strategy_id, session=last[0], last_sequence=last[1]
                )

    def in_doubt(self) -> list[OrderRecord]:
        """The restored orders the store left working or unanswered: to be looked up."""
        return [
            r
            for r in self.loop.orders
            if r.order.client_order_id in self.restored and r.status in _OPEN
        ]

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


def _last_id(ids: ClientOrderIds, client_order_ids: Sequence[str]) -> tuple[date, int] | None:
    """The latest (session, sequence) among the ids `ids` hands out, or None."""
    stem = ids._stem
    found: list[tuple[date, int]] = []
    for cid in client_order_ids:
        if not cid.startswith(f"{stem}-"):
            continue
        day, _, sequence = cid.removeprefix(f"{stem}-").partition("-")
        with contextlib.suppress(ValueError):
            found.append((datetime.strptime(day, "%Y%m%d").date(), int(sequence)))
    return max(found) if found else None
