"""The OrderJournal port on PostgreSQL: a paper or live loop's orders written down before sending.

The trading loop is synchronous and runs in a worker thread; the database connections belong to
an asyncio event loop. Each journal call runs its store coroutine on that event loop
(`run_coroutine_threadsafe`) and waits for the commit, so when `pending` returns the order's row
is in PostgreSQL, and when it raises (the database is down, the wait timed out) the loop refuses
the order instead of sending it. Each report is stored in its own transaction as it arrives.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db import oms_store
from quant_domain import Order, OrderStatus
from quant_domain.events import (
    ExecutionReport,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatusUnknown,
)

_STATUS = {
    OrderAccepted: OrderStatus.ACCEPTED,
    OrderRejected: OrderStatus.REJECTED,
    OrderCancelled: OrderStatus.CANCELLED,
    OrderExpired: OrderStatus.EXPIRED,
    OrderStatusUnknown: OrderStatus.UNKNOWN,
}


class PostgresJournal:
    """quant_domain.ports.OrderJournal for one run (a paper or live session) on PostgreSQL."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        run_id: uuid.UUID,
        loop: asyncio.AbstractEventLoop,
        *,
        timeout: float = 5.0,
    ) -> None:
        """`loop` is the event loop that owns `sessions`' connections; calls come from another
        thread and wait at most `timeout` seconds for their commit."""
        self._sessions = sessions
        self._run_id = run_id
        self._loop = loop
        self._timeout = timeout

    def pending(self, order: Order, at: datetime) -> None:
        self._wait(self._pending(order, at))

    def report(self, report: ExecutionReport) -> None:
        self._wait(self._report(report))

    def _wait(self, work: Coroutine[Any, Any, None]) -> None:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            future.result(self._timeout)
        except TimeoutError:
            future.cancel()
            raise

    async def _pending(self, order: Order, at: datetime) -> None:
        async with self._sessions.begin() as session:
            await oms_store.record_pending(session, self._run_id, order, at=at)

    async def _report(self, report: ExecutionReport) -> None:
        async with self._sessions.begin() as session:
            if isinstance(report, OrderFilled):
                await oms_store.record_fill(
                    session,
                    self._run_id,
                    report.fill,
                    broker_order_id=report.broker_order_id or None,
                )
                return
            status = _STATUS[type(report)]
            reason = "" if isinstance(report, OrderAccepted) else report.reason
            await oms_store.record_transition(
                session,
                self._run_id,
                report.client_order_id,
                status,
                at=report.timestamp,
                idempotency_key=f"{report.client_order_id}:{status.value}:{report.timestamp.isoformat()}",
                reason=reason,
                code=report.code if isinstance(report, OrderRejected) else "",
                broker_order_id=(
                    report.broker_order_id if isinstance(report, OrderAccepted) else None
                ),
            )
