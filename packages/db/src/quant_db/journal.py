"""The OrderJournal port on PostgreSQL: a paper or live loop's orders written down before sending.

The trading loop is synchronous and runs in a worker thread; the database connections belong to
an asyncio event loop. Each journal call runs its store coroutine on that event loop
(`run_coroutine_threadsafe`) and waits for the commit, so when `pending` returns the order's row
is in PostgreSQL, and when it raises (the database is down, the wait timed out) the loop refuses
the order instead of sending it. Each report is stored in its own transaction as it arrives.

Every write is idempotent: an order row, a status change or a fill the run holds already, with
the same content, is left as it is (a decision made again after a restart); different content
under the same client order id or fill id is a `JournalMismatch`. In `recovering` mode (a
session rebuilt by replaying the steps it had processed, quant_execution.recovery) every write
must already be stored: a new one means the replay decided differently, which is also a
mismatch. The first write that fails is kept in `failure` and every later call raises at once:
from that point the session in memory and the store may disagree, so the session must be thrown
away and rebuilt rather than carry on (a refused order would break the parity with a backtest).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db import oms_store
from quant_domain import Fill, Order, OrderError, OrderStatus
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


class JournalMismatch(OrderError):
    """A write differs from what the run stored, or is missing from it while recovering: the
    session does not decide as it did before, and must not trade."""


class JournalBroken(Exception):
    """An earlier write of this journal failed; nothing more is written through it."""


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
        self.recovering = False
        """True while a rebuilt session replays its processed steps: every write must exist."""
        self.failure: Exception | None = None
        """The first write that failed (None: none has)."""
        self.written = 0  # rows and reports stored by this journal
        self.skipped = 0  # writes found stored already (same content)

    def pending(self, order: Order, at: datetime) -> None:
        self._wait(self._pending(order, at))

    def report(self, report: ExecutionReport) -> None:
        self._wait(self._report(report))

    def _wait(self, work: Coroutine[Any, Any, None]) -> None:
        if self.failure is not None:
            work.close()
            raise JournalBroken(f"an earlier write failed ({self.failure!r}); restore the session")
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            future.result(self._timeout)
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                future.cancel()
            self.failure = exc
            raise

    def _counted(self, new: bool, what: str) -> None:
        if new and self.recovering:  # raised inside the transaction: the write rolls back
            raise JournalMismatch(
                f"run {self._run_id}: replaying its steps wrote {what}, which it never stored; "
                "the session no longer decides as it did"
            )
        if new:
            self.written += 1
        else:
            self.skipped += 1

    async def _pending(self, order: Order, at: datetime) -> None:
        async with self._sessions.begin() as session:
            new = await oms_store.record_pending(session, self._run_id, order, at=at)
            self._counted(new, f"order {order.client_order_id}")

    async def _fill(self, session: AsyncSession, report: OrderFilled) -> None:
        fill = report.fill
        new = await oms_store.record_fill(
            session, self._run_id, fill, broker_order_id=report.broker_order_id or None
        )
        if not new:
            stored = await oms_store.stored_fill(session, self._run_id, fill.fill_id)
            assert stored is not None  # record_fill found it
            if _fill_content(fill) != (
                stored.client_order_id,
                stored.symbol,
                stored.side,
                stored.quantity,
                stored.price,
                stored.commission,
            ):
                raise JournalMismatch(
                    f"run {self._run_id}: fill {fill.fill_id} ({fill.side.value} {fill.quantity} "
                    f"{fill.symbol} at {fill.price}) differs from the stored one ({stored.side} "
                    f"{stored.quantity} {stored.symbol} at {stored.price})"
                )
        self._counted(new, f"fill {fill.fill_id}")

    async def _report(self, report: ExecutionReport) -> None:
        async with self._sessions.begin() as session:
            if isinstance(report, OrderFilled):
                await self._fill(session, report)
                return
            status = _STATUS[type(report)]
            reason = "" if isinstance(report, OrderAccepted) else report.reason
            new = await oms_store.record_transition(
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
            self._counted(new, f"{status.value} of {report.client_order_id}")


def _fill_content(fill: Fill) -> tuple[Any, ...]:
    return (
        fill.client_order_id,
        fill.symbol,
        fill.side.value,
        fill.quantity,
        fill.price,
        fill.commission,
    )
