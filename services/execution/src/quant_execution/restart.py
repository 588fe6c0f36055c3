"""A session on a real broker after the execution service was killed: taken up, never replayed.

A session on the simulated broker is rebuilt by replaying its steps (ADR 0032): its broker lives
in the session. A real broker lives outside, has seen every order already and must not see one
again, so such a session is taken up instead (ADR 0042), in the same run:

1. **The books from the store.** A fresh session (same strategy config and settings) takes in
   the run's orders and fills as PostgreSQL holds them (`BrokerSession.restore`): the ledger's
   positions and cash, each order's record, and client order ids carrying on after the highest
   stored one. Nothing is sent, nothing is written.
2. **The broker's word on each order in doubt.** Every order the store left working or
   unanswered is looked up at the broker by its client order id (`LooksUp.resolve`), never
   sent again: a fill that happened while the service was down comes back as a report and is
   stored by the journal like any other (deduplicated by fill id); an order the broker never
   received ends rejected; one still working stays working and is watched.
3. **Reconciled before anything trades.** The account's working orders and positions are
   compared with the books of every session trading it (`account_books`): CLEAN and the session
   trades on from the next bar; any difference blocks it for an admin, as at any start.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db import oms_store
from quant_db.schema import Fill as FillRow
from quant_db.schema import Order as OrderRow
from quant_db.schema import Run
from quant_db.schema.runs import RunStatus
from quant_domain import Fill, Order, OrderSide, OrderStatus, OrderType, TimeInForce
from quant_engine.broker_session import Books, BrokerSession, StoredOrder

log = logging.getLogger("quant.execution")
TAKEN_UP = "taken_up"
"""runs.repro key: when a session on a real broker was taken up after a restart."""


@runtime_checkable
class LooksUp(Protocol):
    """An adapter that can look an order placed by an earlier process up by its client order
    id and report what the broker holds of it (never sending it again). `filled` and
    `notional` are what our books hold of it already, so only the rest is reported."""

    def resolve(
        self, client_order_id: str, filled: Decimal = Decimal(0), notional: Decimal = Decimal(0)
    ) -> None: ...


def _order(row: OrderRow, quantity: Decimal) -> Order:
    return Order(
        symbol=row.symbol,
        side=OrderSide(row.side),
        quantity=quantity,
        type=OrderType(row.type),
        limit_price=row.limit_price,
        stop_price=row.stop_price,
        time_in_force=TimeInForce(row.time_in_force),
        client_order_id=row.client_order_id,
        strategy_id=row.strategy_id,
    )


async def stored_run(
    sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID
) -> tuple[list[StoredOrder], list[tuple[Fill, str]]]:
    """The run's orders (oldest first, full quantity) and fills (as stored, with their order's
    broker id), what `BrokerSession.restore` takes in."""
    async with sessions() as db:
        rows = (
            await db.scalars(
                select(OrderRow)
                .where(OrderRow.run_id == run_id)
                .order_by(OrderRow.submitted_at, OrderRow.id)
            )
        ).all()
        fill_rows = (
            await db.scalars(select(FillRow).where(FillRow.run_id == run_id).order_by(FillRow.id))
        ).all()
    orders = [
        StoredOrder(
            _order(row, row.quantity),
            OrderStatus(row.status),
            row.submitted_at,
            row.broker_order_id,
            row.reason,
            row.code,
            row.closed_at,
        )
        for row in rows
    ]
    by_cid = {row.client_order_id: row for row in rows}
    fills = [
        (
            Fill(
                fill_id=f.fill_id,
                client_order_id=f.client_order_id,
                symbol=f.symbol,
                side=OrderSide(f.side),
                quantity=f.quantity,
                price=f.price,
                commission=f.commission,
                timestamp=f.ts,
                slippage=f.slippage,
                strategy_id=by_cid[f.client_order_id].strategy_id,
            ),
            by_cid[f.client_order_id].broker_order_id or "",
        )
        for f in fill_rows
    ]
    return orders, fills


async def account_books(
    sessions: async_sessionmaker[AsyncSession],
    account: str,
    broker: str,
    *,
    exclude: uuid.UUID | None = None,
) -> Books:
    """What PostgreSQL holds for every session trading `account` through `broker` (the runs
    still RUNNING on it, but `exclude`): their working orders by client order id (each id is
    its strategy's own, `<strategy>-<hash of account and strategy>-...`, so they never collide)
    and their positions summed per symbol. A broker account shared by several strategies is
    compared with this sum, never with one strategy's books (ADR 0042)."""
    working: dict[str, Order] = {}
    positions: dict[str, Decimal] = {}
    async with sessions() as db:
        runs = (
            await db.scalars(
                select(Run.id).where(
                    Run.status == RunStatus.RUNNING,
                    Run.repro["account"].as_string() == account,
                    Run.repro["broker"].as_string() == broker,
                )
            )
        ).all()
        for run_id in runs:
            if run_id == exclude:
                continue
            for row in await oms_store.open_orders(db, run_id):
                working[row.client_order_id] = _order(row, row.quantity - row.filled_quantity)
            for net in (await oms_store.positions(db, run_id)).net:
                positions[net.symbol] = positions.get(net.symbol, Decimal(0)) + net.quantity
    return working, {s: q for s, q in positions.items() if q}


def _notional(session: BrokerSession) -> Mapping[str, tuple[Decimal, Decimal]]:
    """What the session's books hold filled of each order, by client order id: (quantity,
    quantity times price)."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for fill in session.loop.fills:
        quantity, notional = out.get(fill.client_order_id, (Decimal(0), Decimal(0)))
        out[fill.client_order_id] = (quantity + fill.quantity, notional + fill.notional)
    return out


async def take_up(
    sessions: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    session: BrokerSession,
    *,
    wait_s: float,
) -> list[str]:
    """Restore run `run_id`'s books into `session` and look every order in doubt up at the
    broker, waiting at most `wait_s` for the answers (applied and stored by the session's
    journal). Returns the client order ids still unanswered (the reconciliation that follows
    says what that means for the books). Sends no order."""
    orders, fills = await stored_run(sessions, run_id)
    await asyncio.to_thread(session.restore, orders, fills)
    doubtful = session.in_doubt()
    if not doubtful:
        return []
    live = session.live
    held = _notional(session)
    if isinstance(live, LooksUp):
        for record in doubtful:
            cid = record.order.client_order_id
            filled, notional = held.get(cid, (Decimal(0), Decimal(0)))
            await asyncio.to_thread(live.resolve, cid, filled, notional)
    else:
        log.warning("the %s adapter cannot look orders up: they stay as stored", live.name)
        return [r.order.client_order_id for r in doubtful]
    # an order the broker still holds is watched by the adapter from now on; any other one
    # must end (filled, cancelled, rejected as never received) before the books are compared
    working = {o.client_order_id for o in await asyncio.to_thread(live.open_orders)}
    return await asyncio.to_thread(
        session.settle,
        doubtful,
        lambda r: r.order.client_order_id in working or r.status.is_final,
        wait_s,
    )


async def mark_taken_up(sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID) -> int:
    """Record on the run that it is taken up after a restart (when, in `repro`, and in its
    message); how many times it has been, this one included."""
    async with sessions.begin() as db:
        run = await db.get(Run, run_id)
        assert run is not None
        taken = [*run.repro.get(TAKEN_UP, []), datetime.now(UTC).isoformat()]
        run.repro = {**run.repro, TAKEN_UP: taken}
        run.message = f"taken up after a restart ({len(taken)})"
        return len(taken)


def other_books(
    sessions: async_sessionmaker[AsyncSession],
    account: str,
    broker: str,
    run_id: uuid.UUID,
    timeout: float,
) -> Callable[[], Books]:
    """What the other sessions on `account` hold (all but run `run_id`'s), for a session's
    thread to read when a reconnect makes it reconcile (`BrokerSession.others`). Made on the
    event loop that owns `sessions`; the read runs there, asked from the session's thread (never
    call it on the loop's own thread: it would wait out `timeout` and raise TimeoutError)."""
    loop = asyncio.get_running_loop()

    def books() -> Books:
        read = account_books(sessions, account, broker, exclude=run_id)
        return asyncio.run_coroutine_threadsafe(read, loop).result(timeout)

    return books
