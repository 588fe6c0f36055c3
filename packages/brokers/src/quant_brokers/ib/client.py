"""IbBroker: the LiveBroker port on Interactive Brokers through ib_async (ADR 0035).

ib_async runs on this adapter's own thread and asyncio loop; `submit` and `cancel` hand their
work to that loop and return at once, and every report reaches the installed handler from that
thread. `connect`, `close` and the read methods block the caller until the loop answers.

Rules kept here (the port's docstring is the contract):
- One client id per runner, given by the caller. Order ids come from nextValidId but never at
  or below `order_id_floor` (the highest id the caller persisted) nor an id used before: a
  gateway restart can roll nextValidId back. OrderAccepted carries IB's orderId as a string.
- Our client order id is IB's `orderRef`; a submit whose orderRef IB already holds sends nothing
  and reports what IB holds. An order IB did not answer within `ack_timeout`, or whose link went
  down before the answer, is reported OrderStatusUnknown and looked up by orderRef among open
  and completed orders; if IB holds none it is reported rejected (NOT_AT_BROKER), never resent.
- 1100 pauses: submit sends nothing and reports OrderRejected(BROKER_UNAVAILABLE). 1101 (data
  lost) resubscribes positions and account values; 1101 and 1102 then recover executions and
  resume, and only then is the connection handler told connected=True. A dropped socket is
  reconnected with Backoff; 326 (client id in use) is retried with Backoff the same way.
- Executions are reported once by execId, after every reconnect too (order_reports.py holds
  the sequencing and the treatment of corrections).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from ib_async import IB

from quant_brokers.base import Backoff
from quant_brokers.ib import mapping
from quant_brokers.ib.link import Link
from quant_brokers.ib.order_reports import Correction, OrderReports
from quant_brokers.ib.settings import IbSettings
from quant_domain import BrokerUnavailable, ConfigError, Order
from quant_domain.events import ExecutionReport, OrderRejected
from quant_domain.ports import (
    AccountSnapshot,
    BrokerAccountSummary,
    ConnectionHandler,
    ReportHandler,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
UNAVAILABLE = "BROKER_UNAVAILABLE"


def _now() -> datetime:
    return datetime.now(UTC)


class IbBroker(Link):
    """quant_domain.ports.LiveBroker on IB Gateway / TWS through ib_async."""

    name = "ib"

    def __init__(
        self,
        settings: IbSettings | None = None,
        *,
        client_id: int | None = None,
        order_id_floor: int = 0,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings or IbSettings()
        chosen = client_id if client_id is not None else self.settings.client_id
        if chosen is None:
            raise ConfigError(
                "IB needs a client id per runner: pass client_id or QUANT_IB_CLIENT_ID"
            )
        self.client_id = chosen
        self.highest_order_id = order_id_floor
        """The highest IB order id used or forbidden; the caller persists it as the next floor."""
        self.backoff = backoff or Backoff(self.settings.backoff_base, self.settings.backoff_cap)
        self.connect_attempts = 0
        self.account_id = self.settings.account
        self.reports = OrderReports(self._deliver, _now, self.settings.commission_wait)
        self._report_handler: ReportHandler | None = None
        self._connection_handler: ConnectionHandler | None = None
        self._backlog: list[ExecutionReport] = []
        self._ib: IB | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._up = False
        self._paused = False
        self._closing = False
        self._connecting = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._losses = 0
        self._mine: set[str] = set()  # client order ids this instance sent or resolved
        self._unacked: dict[str, asyncio.TimerHandle] = {}
        self._ids: dict[str, int] = {}
        self._swept = 0
        self._order_requests: asyncio.Lock | None = None

    # -- the port: link ------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._up and not self._paused

    @property
    def corrections(self) -> list[Correction]:
        return list(self.reports.corrections)

    def set_connection_handler(self, handler: ConnectionHandler) -> None:
        self._connection_handler = handler

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._report_handler = handler
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._drain_backlog)
        else:
            self._drain_backlog()

    def connect(self, timeout: float = 10.0) -> None:
        """Connect (retrying 326 and refused connections with Backoff until `timeout`)."""
        if self._up:
            return
        self._closing = False
        self._start_thread()
        try:
            self._call(self._connect_until(timeout), timeout + self.settings.request_timeout)
        except (OSError, TimeoutError, ConnectionError) as exc:
            raise BrokerUnavailable(
                f"IB at {self.settings.endpoint} (client id {self.client_id}) is unreachable: "
                f"{exc or type(exc).__name__}"
            ) from exc

    def close(self) -> None:
        self._closing = True
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            self._call(self._shutdown(), self.settings.request_timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    # -- the port: orders ----------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        """Hand `order` to the adapter's thread; the outcome arrives as reports."""
        loop = self._loop
        if loop is None or not loop.is_running():
            self._deliver(self._unavailable(order.client_order_id, "the adapter is not connected"))
            return
        loop.call_soon_threadsafe(self._submit_now, order)

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            log.warning("ib cancel of %s not sent: the adapter is not connected", client_order_id)
            return
        loop.call_soon_threadsafe(self._cancel_now, client_order_id, reason)

    def resolve(
        self, client_order_id: str, filled: Decimal = Decimal(0), notional: Decimal = Decimal(0)
    ) -> None:
        """Look `client_order_id` up at IB by orderRef and report what IB holds (never resend).
        `filled` and `notional` (what the caller's books hold of it) are not needed: IB's
        executions carry their own ids, which the caller already holds for the fills it has."""
        del filled, notional
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._spawn, self.look_up([client_order_id]))

    # -- the port: reads (block the caller briefly) ----------------------------------------------
    def open_orders(self) -> list[Order]:
        return self._read(self.working_orders())

    def positions(self) -> Mapping[str, Decimal]:
        async def read() -> dict[str, Decimal]:
            rows = self._ib_client().positions(self.account_id)
            return {p.contract.symbol: mapping.decimal(p.position) for p in rows if p.position}

        return self._read(read())

    def account(self) -> AccountSnapshot:
        values = self._read(self.account_values())
        return AccountSnapshot(
            cash=values.get("TotalCashValue", Decimal(0)),
            equity=values.get("NetLiquidation", Decimal(0)),
            buying_power=values.get("BuyingPower", Decimal(0)),
            timestamp=_now(),
        )

    def summary(self) -> BrokerAccountSummary:
        """The account as IB reports it (account summary request; no order is placed)."""
        values = self._read(self.account_values())
        return BrokerAccountSummary(
            broker=self.name,
            endpoint=self.settings.endpoint,
            account_id=self.account_id,
            status="connected" if self.connected else "paused",
            cash=values.get("TotalCashValue", Decimal(0)),
            equity=values.get("NetLiquidation", Decimal(0)),
            buying_power=values.get("BuyingPower", Decimal(0)),
            can_trade=self.connected,
            paper=self.account_id.startswith("D"),  # IB paper accounts are DU... / DF...
        )

    # -- the adapter's thread ------------------------------------------------------------------
    def _start_thread(self) -> None:
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"ib-{self.client_id}", daemon=True)
        self._thread.start()
        started.wait(10)
        self._call(self._create_client(), 10)

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _read(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coroutine.close()  # waiting here for our own loop would never return
            raise RuntimeError(
                "IbBroker reads block: call them from another thread than the adapter's "
                "(not from inside a report or connection handler)"
            )
        if not self.connected or self._loop is None:
            coroutine.close()
            raise BrokerUnavailable(f"IB at {self.settings.endpoint} is not connected")
        try:
            return self._call(coroutine, self.settings.request_timeout + 1)
        except (TimeoutError, ConnectionError) as exc:
            raise BrokerUnavailable(
                f"IB at {self.settings.endpoint} did not answer: {exc}"
            ) from exc

    async def _create_client(self) -> None:
        ib = IB()
        ib.orderStatusEvent += self.on_status
        ib.openOrderEvent += self.on_status
        ib.errorEvent += self._on_error
        ib.updateEvent += self.sweep
        ib.disconnectedEvent += self._on_disconnected
        self._ib = ib
        self._order_requests = None  # a lock belongs to the loop it was first used on

    async def _shutdown(self) -> None:
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        for timer in self._unacked.values():
            timer.cancel()
        self._up = False
        self._ib_client().disconnect()

    # -- orders on the adapter's thread ----------------------------------------------------------
    def _unavailable(self, client_order_id: str, why: str) -> OrderRejected:
        reason = f"not sent: IB at {self.settings.endpoint} is unavailable ({why})"
        return OrderRejected(client_order_id, _now(), reason, UNAVAILABLE)

    def _submit_now(self, order: Order) -> None:
        coid = order.client_order_id
        if coid in self._mine:
            return  # a repeated submit: IB holds it (or will say why not)
        if not self.connected:
            self._deliver(self._unavailable(coid, "link down"))
            return
        self.reports.trail(coid, order.strategy_id)
        known = self.trade_by_ref(coid)
        self._mine.add(coid)
        if known is not None:
            self.report_state(coid, known)
            return
        ib = self._ib_client()
        client: Any = ib.client  # untyped in ib_async
        order_id = max(client.getReqId(), self.highest_order_id + 1)
        client.updateReqId(order_id + 1)
        self.highest_order_id = order_id
        self._ids[coid] = order_id
        self.reports.trail(coid).broker_order_id = str(order_id)
        wire = mapping.ib_order(order, self.account_id)
        wire.orderId = order_id
        try:
            ib.placeOrder(mapping.contract(order.symbol), wire)
        except ConnectionError:  # ib_async raises before writing anything: nothing was sent
            self._mine.discard(coid)
            self.reports.trails.pop(coid, None)
            self._deliver(self._unavailable(coid, "socket closed"))
            return
        loop = asyncio.get_running_loop()
        self._unacked[coid] = loop.call_later(self.settings.ack_timeout, self._ack_expired, coid)

    def _ack_expired(self, coid: str) -> None:
        self._unacked.pop(coid, None)
        self.reports.unknown(coid, f"IB did not answer within {self.settings.ack_timeout} s")
        self._spawn(self.look_up([coid]))

    def _cancel_now(self, coid: str, reason: str) -> None:
        trade = self.trade_by_ref(coid)
        if trade is None or trade.orderStatus.status not in mapping.WORKING | {"PendingSubmit"}:
            log.warning("ib cancel of %s not sent: IB holds no working order with that ref", coid)
            return
        if not self.connected:
            log.warning("ib cancel of %s not sent: link down (%s)", coid, reason)
            return
        self._ib_client().cancelOrder(trade.order)

    # -- reports ---------------------------------------------------------------------------------
    def _deliver(self, report: ExecutionReport) -> None:
        handler = self._report_handler
        if handler is None:
            self._backlog.append(report)
            return
        try:
            handler(report)
        except Exception:  # the runner's problem to alert on; the adapter keeps running
            log.exception("ib report handler failed on %s", type(report).__name__)

    def _drain_backlog(self) -> None:
        backlog, self._backlog = self._backlog, []
        for report in backlog:
            self._deliver(report)
