"""Carrying out an admin's resolution of a reconciliation, and what needs no admin (ADR 0029).

A difference between the broker and PostgreSQL blocks every submit until an admin chooses
(`POST /v1/reconciliation/{account}/resolve`, `quant reconcile adopt|flatten`). The API and
the CLI only record the choice; the runner that owns the broker connection carries it out,
between two steps, with `carry_out`:

- adopt: our books take the broker's state. Its working orders we lack become our order rows
  (attributed to the session's strategy unless the broker names one) and our loop's records, so
  they can be cancelled later; our working orders it neither holds nor reported on are closed in
  our books; each position that differs is moved to the broker's quantity at its average price.
  No order is sent, no fill is invented, every change is audited.
- flatten: the same adoption first (so each cancel and close is recorded against a row we hold),
  then every working order is cancelled and every position closed at the last step's close
  through the session's broker, written ahead like any order (they only reduce).

Either way the runner then compares again and saves the check; the row keeps who resolved it.

What the broker reports of an order we know needs no decision: a fill (or an end) that happened
while the runner's store was away is recorded from the broker's report (`recover_missed`), and
`carry_out` does that first every time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db import oms_store
from quant_db.reconciliation import (
    Adopter,
    adopt_order,
    adopt_position,
    carried_out,
    drop_order,
    reconciliation_state,
)
from quant_db.schema import User
from quant_db.schema.execution import Resolution
from quant_domain import Order, OrderStatus
from quant_domain.events import OrderCancelled, OrderExpired, OrderFilled, OrderRejected
from quant_engine.backtest import flatten_at_close
from quant_engine.broker_session import BrokerSession
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import Reconciliation, adoption, reported
from quant_execution.paper_sessions import reconcile_at_start, stored_books
from quant_execution.restart import account_books

_ENDS = {
    OrderCancelled: OrderStatus.CANCELLED,
    OrderExpired: OrderStatus.EXPIRED,
    OrderRejected: OrderStatus.REJECTED,
}


async def recover_missed(
    sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID, session: PaperSession
) -> list[str]:
    """Record what the broker reported of our working orders that it holds no more (their
    fills, then how they ended) and PostgreSQL lacks, exactly as the journal would have stored
    the reports (deduplicated by fill id and report key). Needs no admin: it is the broker's
    own account of our orders. Returns the client order ids whose rows changed."""
    async with sessions() as db:
        working = [row.client_order_id for row in await oms_store.open_orders(db, run_id)]
    at_broker = {order.client_order_id for order in session.loop.broker.open_orders()}
    changed: list[str] = []
    for cid in working:
        if cid in at_broker:
            continue
        reports = reported(session.loop, cid)
        if not reports:
            continue  # the broker says nothing of it: a difference for an admin
        wrote = False
        async with sessions.begin() as db:
            for report in reports:
                if isinstance(report, OrderFilled):
                    wrote |= await oms_store.record_fill(
                        db, run_id, report.fill, broker_order_id=report.broker_order_id or None
                    )
                    continue
                status = _ENDS[type(report)]
                wrote |= await oms_store.record_transition(
                    db,
                    run_id,
                    cid,
                    status,
                    at=report.timestamp,
                    idempotency_key=f"{cid}:{status.value}:{report.timestamp.isoformat()}",
                    reason=report.reason,
                    code=report.code if isinstance(report, OrderRejected) else "",
                )
        if wrote:
            changed.append(cid)
    return changed


async def carry_out(
    sessions: async_sessionmaker[AsyncSession],
    account: str,
    run_id: uuid.UUID,
    session: PaperSession,
    *,
    broker: str | None = None,
) -> Reconciliation | None:
    """Carry out the admin's resolution waiting for `account` on `session` (the paper session
    of run `run_id` trading that account), then compare again and save the check. `broker`:
    the account is a real broker's (of that kind), compared with the books of every session
    trading it (ADR 0042); an adopt then moves this session's books by what the account holds
    beyond all of them.

    Call it between steps, never while a step runs (the runner's one-at-a-time lock), on the
    event loop that owns `sessions` and the session's journal. Returns the new check (CLEAN
    once the books agree), or None when nothing was waiting and nothing was recovered. A
    flatten waits for the session's first bar (it closes at a step's close).
    """
    recovered = await recover_missed(sessions, run_id, session)
    async with sessions() as db:
        row = await reconciliation_state(db, account)
        choice = row.resolution if row is not None and row.waiting else None
        resolver = None if row is None else row.resolved_by
    if choice is None:
        if not recovered:
            return None
        return await reconcile_at_start(sessions, run_id, account, session, broker=broker)
    if choice is Resolution.FLATTEN and not session.timeline.times:
        return None
    done = _Done(run_id, account, datetime.now(UTC), f"runner-{uuid.uuid4().hex[:16]}")
    done.detail["recovered_orders"] = recovered
    await _adopt(sessions, session, done, resolver, mark=choice is Resolution.ADOPT, broker=broker)
    if choice is Resolution.FLATTEN:
        if not done.detail["not_adopted"]:  # every working order is ours now
            await _flatten(session, done)
        async with sessions.begin() as db:
            await carried_out(
                db, account=account, at=done.at, detail=done.detail, request_id=done.request_id
            )
    return await reconcile_at_start(sessions, run_id, account, session, broker=broker)


@dataclass
class _Done:
    """One carrying out: where, when, its audit request id, and what it did (audited)."""

    run_id: uuid.UUID
    account: str
    at: datetime
    request_id: str
    detail: dict[str, Any] = field(default_factory=dict)


async def _adopt(
    sessions: async_sessionmaker[AsyncSession],
    session: PaperSession,
    done: _Done,
    resolver: int | None,
    *,
    mark: bool,
    broker: str | None = None,
) -> None:
    """Our books take the broker's state, in one transaction (marked carried out with it when
    `mark`); the loop then records the orders taken in. On a real broker's account (`broker`)
    "our books" are every session's on it: this one takes in only what none of them holds."""
    loop = session.loop
    strategy_id = loop.strategy.config.id
    working: Mapping[str, Order]
    positions: Mapping[str, Decimal]
    if broker is None:
        working, positions = await stored_books(sessions, done.run_id)
    else:
        working, positions = await account_books(sessions, done.account, broker)
    cost = {s: p.avg_price for s, p in session.ledger.positions.items() if p.quantity}
    plan = adoption(session.loop.broker, working, positions, strategy_id=strategy_id, cost=cost)
    detail = done.detail
    detail["adopted_positions"] = [
        {"symbol": p.symbol, "before": str(p.ours), "after": str(p.broker)} for p in plan.positions
    ]
    adopted: list[Order] = []
    refused: list[str] = []  # the run holds the id for an order that ended: an admin must look
    dropped: list[str] = []
    async with sessions.begin() as db:
        user = None if resolver is None else await db.get(User, resolver)
        who = Adopter(done.run_id, done.account, user, done.request_id)
        for order in plan.orders:
            if await adopt_order(db, who, order, at=done.at):
                adopted.append(order)
            else:
                refused.append(order.client_order_id)
        for cid in plan.dropped:
            if await drop_order(db, who, cid, at=done.at):
                dropped.append(cid)
        for taken in plan.positions:
            await adopt_position(
                db,
                who,
                strategy_id=strategy_id,
                symbol=taken.symbol,
                change=taken.change,
                cost=taken.cost,
                at=done.at,
            )
        detail["adopted_orders"] = [order.client_order_id for order in adopted]
        detail["not_adopted"] = refused
        detail["dropped_orders"] = dropped
        if mark:
            await carried_out(
                db, account=done.account, at=done.at, detail=detail, request_id=done.request_id
            )
    for order in adopted:  # stored first: the loop records the orders our books now hold
        loop.adopt(order, done.at)


async def _flatten(session: PaperSession, done: _Done) -> None:
    """Cancel every working order and close every position at the last step's close, through
    the session's broker and journal (in a worker thread: the journal waits on this loop)."""
    broker = session.loop.broker
    done.detail["cancelled_orders"] = [o.client_order_id for o in broker.open_orders()]
    done.detail["closed_positions"] = {s: str(q) for s, q in broker.positions().items()}
    reason = f"reconciliation of {done.account}: flatten"
    if isinstance(session, BrokerSession):  # market orders at the real broker, answers awaited
        await asyncio.to_thread(session.flatten, reason)
    else:
        await asyncio.to_thread(
            flatten_at_close,
            session.loop,
            session.broker,
            session.timeline,
            len(session.timeline) - 1,
            reason,
        )
    # a symbol without a bar at this step keeps its position (no price to close it at)
    done.detail["kept_positions"] = {s: str(q) for s, q in broker.positions().items()}
