"""What IbBroker learns from IB's state: live status changes, executions, lookups by orderRef.

`sweep` reads every execution ib_async holds (live, replayed at connect, or answered to
reqExecutions), whether or not ib_async matched it to a trade: an execDetails that arrives before
its order's openOrder is kept by ib_async without a trade after a reconnect, and would otherwise
never reach us. `recover` runs after every (re)connect and 1101/1102: executions first, then the
orders whose answer was lost are looked up by orderRef. Part of IbBroker; runs on its thread.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from decimal import Decimal
from typing import Any

from ib_async import IB

from quant_brokers.ib import mapping
from quant_brokers.ib.order_reports import OrderReports
from quant_brokers.ib.settings import IbSettings
from quant_domain import Order

log = logging.getLogger(__name__)
NOT_AT_BROKER = "NOT_AT_BROKER"
SUMMARY_TAGS = "AccountType,NetLiquidation,TotalCashValue,BuyingPower,AvailableFunds"


class Recovery:
    """The part of IbBroker that turns IB's state into reports (a mixin over its attributes)."""

    settings: IbSettings
    reports: OrderReports
    client_id: int
    account_id: str
    _ib: IB | None
    _mine: set[str]
    _unacked: dict[str, asyncio.TimerHandle]
    _ids: dict[str, int]
    _swept: int
    _order_requests: asyncio.Lock | None  # ib_async keys these requests by name: one at a time

    def _orders_lock(self) -> asyncio.Lock:
        if self._order_requests is None:
            self._order_requests = asyncio.Lock()
        return self._order_requests

    def _ib_client(self) -> IB:
        assert self._ib is not None
        return self._ib

    def on_status(self, trade: Any) -> None:
        """orderStatus / openOrder: acceptance and ends of orders carrying an orderRef."""
        coid = trade.order.orderRef
        if not coid:
            return
        self.sweep()
        status = trade.orderStatus.status
        if status in mapping.WORKING:
            self._acknowledged(coid)
            if coid in self._mine:
                broker_id = trade.order.orderId or self._ids.get(coid, 0)
                self.reports.accepted(coid, str(broker_id))
        elif status in mapping.CANCELLED or status == "Inactive":
            self._acknowledged(coid)
            self._ended(coid, trade)
        self.reports.flush()

    def _ended(self, coid: str, trade: Any) -> None:
        entry = trade.log[-1] if trade.log else None
        code = entry.errorCode if entry is not None else 0
        text = entry.message if entry is not None and entry.message else trade.orderStatus.status
        if code and code != mapping.CANCELLED_CODE:
            self.reports.rejected(coid, f"IB {code}: {text}")
        elif trade.orderStatus.status == "Inactive":
            self.reports.rejected(coid, f"IB marked the order inactive: {text}")
        else:
            self.reports.cancelled(coid, f"cancelled at IB: {text}")

    def _acknowledged(self, coid: str) -> None:
        timer = self._unacked.pop(coid, None)
        if timer is not None:
            timer.cancel()

    def sweep(self) -> None:
        """Report executions ib_async received since the last sweep (ours: orderRef, client id)."""
        fills = self._ib_client().wrapper.fills
        if len(fills) < self._swept:  # ib_async cleared its state on a disconnect
            self._swept = 0
        fresh = list(itertools.islice(fills.values(), self._swept, None))
        self._swept = len(fills)
        for ib_fill in fresh:
            execution = ib_fill.execution
            if execution.orderRef and execution.clientId == self.client_id:
                self._acknowledged(execution.orderRef)
                self.reports.fill(ib_fill)
        if fresh and self.reports.pending_fills():
            asyncio.get_running_loop().call_later(
                self.settings.commission_wait + 0.01, self.reports.flush
            )
        self.reports.flush()

    async def recover(self) -> None:
        """Executions first (IB keeps today's), then every order whose answer is outstanding."""
        ib = self._ib_client()
        try:
            await asyncio.wait_for(ib.reqExecutionsAsync(), self.settings.request_timeout)
        except TimeoutError:  # ib_async #54: execDetailsEnd sometimes never comes
            log.warning("ib executions request timed out; relying on those replayed at connect")
        self.sweep()
        deadline = time.monotonic() + self.settings.commission_wait
        while self.reports.pending_fills() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            self.reports.flush()
        self.reports.flush()
        outstanding = [
            coid
            for coid, trail in self.reports.trails.items()
            if coid in self._mine and trail.unknown
        ]
        if outstanding:
            await self.look_up(outstanding)

    async def look_up(self, coids: list[str]) -> None:
        """Find each order at IB by orderRef (open, then completed) and report what IB holds."""
        ib = self._ib_client()
        timeout = self.settings.request_timeout
        try:
            async with self._orders_lock():
                working = await asyncio.wait_for(ib.reqOpenOrdersAsync(), timeout)
                done = await asyncio.wait_for(ib.reqCompletedOrdersAsync(False), timeout)
            await asyncio.wait_for(ib.reqExecutionsAsync(), timeout)
        except (TimeoutError, ConnectionError) as exc:
            log.warning("ib lookup of %s failed (%s); they stay unknown", coids, exc)
            return
        self.sweep()
        for coid in coids:
            self._mine.add(coid)
            trade = next((t for t in [*working, *done] if t.order.orderRef == coid), None)
            if trade is None:
                reason = f"IB holds no order with orderRef {coid}: it was never placed"
                self.reports.rejected(coid, reason, NOT_AT_BROKER)
            else:
                self.report_state(coid, trade)
        self.reports.flush()

    def report_state(self, coid: str, trade: Any) -> None:
        """Report an order's state as IB holds it (a lookup, or a submit IB already has)."""
        status = trade.orderStatus.status
        if status in mapping.WORKING or status in ("PendingSubmit", "PendingCancel"):
            broker_id = trade.order.orderId or self._ids.get(coid, 0)
            self.reports.accepted(coid, str(broker_id))
        elif status in mapping.CANCELLED or status == "Inactive":
            self._ended(coid, trade)
        self.reports.flush()

    def trade_by_ref(self, coid: str) -> Any:
        """ib_async's trade for our client order id (live first), or None."""
        trades = self._ib_client().wrapper.trades.values()
        found = [t for t in trades if t.order.orderRef == coid]
        live = [t for t in found if t.orderStatus.status not in ("Cancelled", "Filled", "Inactive")]
        if live:
            return live[0]
        return found[0] if found else None

    async def working_orders(self) -> list[Order]:
        ib = self._ib_client()
        async with self._orders_lock():
            request = ib.reqOpenOrdersAsync()
            trades = await asyncio.wait_for(request, self.settings.request_timeout)
        orders = []
        for trade in trades:
            trail = self.reports.trails.get(trade.order.orderRef)
            strategy = trail.strategy_id if trail is not None else ""
            order = mapping.domain_order(trade.contract.symbol, trade.order, strategy)
            if order is not None and trade.orderStatus.status not in mapping.CANCELLED:
                orders.append(order)
        return orders

    async def account_values(self) -> dict[str, Decimal]:
        """A fresh account summary, its subscription cancelled after (IB allows two at a time)."""
        ib = self._ib_client()
        client: Any = ib.client  # parts of ib_async's client are untyped
        wrapper: Any = ib.wrapper
        req_id = client.getReqId()
        answered = wrapper.startReq(req_id)
        client.reqAccountSummary(req_id, "All", SUMMARY_TAGS)
        try:
            await asyncio.wait_for(answered, self.settings.request_timeout)
        finally:
            client.cancelAccountSummary(req_id)
        rows = list(ib.wrapper.acctSummary.values())
        return mapping.account_values(rows, self.account_id)
