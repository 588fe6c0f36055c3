"""The OMS's orders, fills, positions and processed event keys in PostgreSQL (ADR 0027).

Every function works inside the caller's transaction (an AsyncSession) and never commits: the
execution service commits an order's row before it calls the broker (write-ahead), and stores a
report's effects together with its processed-event key, then acknowledges the bus entry. The
store records what the engine's OMS decided (quant_engine.oms holds the transition table); it
refuses only what would corrupt the record whatever the table says: changing a terminal order,
a fill beyond the order's quantity, a fill that is another order's, and a client order id reused
for a different order. Rows are locked (SELECT ... FOR UPDATE) in one order, the order's row
first and then its strategy's position, so concurrent reports for one order serialise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.schema import Fill as FillRow
from quant_db.schema import Order as OrderRow
from quant_db.schema import OrderEvent, Position, ProcessedEvent
from quant_domain import Fill, Order, OrderError, OrderStatus
from quant_domain import Position as Book
from quant_domain.orders import TERMINAL_STATUSES

ZERO = Decimal(0)
_TERMINAL = tuple(s.value for s in TERMINAL_STATUSES)


class OrderNotFound(OrderError):
    """A report names a client order id the run has no row for."""


class OrderClosed(OrderError):
    """A status change or fill for an order already in a terminal status."""


@dataclass(frozen=True, slots=True)
class NetPosition:
    """One symbol across the strategies of a session: what the broker's account holds."""

    symbol: str
    quantity: Decimal
    realized_pnl: Decimal
    commission: Decimal
    strategies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PositionBook:
    """A session's positions per (strategy, symbol) and netted per symbol, by symbol."""

    per_strategy: list[Position]
    net: list[NetPosition]


def _pending_key(client_order_id: str) -> str:
    return f"{client_order_id}:{OrderStatus.PENDING_SUBMIT.value}"


def _fill_key(fill_id: str) -> str:
    return f"fill:{fill_id}"


async def _locked_order(session: AsyncSession, run_id: uuid.UUID, client_order_id: str) -> OrderRow:
    row = await session.scalar(
        select(OrderRow)
        .where(OrderRow.run_id == run_id, OrderRow.client_order_id == client_order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise OrderNotFound(f"run {run_id} has no order {client_order_id}")
    return row


def _history(
    run_id: uuid.UUID,
    client_order_id: str,
    status: OrderStatus,
    at: datetime,
    key: str,
    reason: str = "",
    code: str = "",
) -> OrderEvent:
    return OrderEvent(
        run_id=run_id,
        client_order_id=client_order_id,
        status=status.value,
        reason=reason,
        code=code,
        at=at,
        idempotency_key=key,
    )


async def insert_order_row(
    session: AsyncSession,
    run_id: uuid.UUID,
    order: Order,
    status: OrderStatus,
    *,
    at: datetime,
    reason: str,
) -> int | None:
    """Insert the run's row for `order` in `status` (nothing filled yet); None, writing
    nothing, when the run holds this client order id already."""
    return await session.scalar(
        insert(OrderRow)
        .values(
            run_id=run_id,
            strategy_id=order.strategy_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side.value,
            type=order.type.value,
            time_in_force=order.time_in_force.value,
            quantity=order.quantity,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            status=status.value,
            submitted_at=at,
            filled_quantity=ZERO,
            reason=reason,
            code="",
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=["run_id", "client_order_id"])
        .returning(OrderRow.id)
    )


async def record_pending(
    session: AsyncSession, run_id: uuid.UUID, order: Order, *, at: datetime
) -> bool:
    """Write `order` ahead of its broker call: its row in PENDING_SUBMIT and the first history
    row (whose reason is the order's). The caller commits, then calls the broker.

    Returns False, writing nothing, when the run holds this client order id already (a decision
    replayed after a restart): submission is idempotent by client order id.

    Raises:
        OrderError: the order has no strategy_id (paper and live orders are attributed to one),
            or the client order id is stored for a different order (symbol, side, quantity,
            type or prices differ): the id derivation is broken and nothing may be sent.
    """
    coid = order.client_order_id
    if not order.strategy_id:
        raise OrderError(f"order {coid}: strategy_id is empty; every order needs its strategy")
    new_id = await insert_order_row(
        session, run_id, order, OrderStatus.PENDING_SUBMIT, at=at, reason=""
    )
    if new_id is None:
        stored = await session.scalar(
            select(OrderRow).where(OrderRow.run_id == run_id, OrderRow.client_order_id == coid)
        )
        assert stored is not None  # the conflict says it exists
        mine = (order.strategy_id, order.symbol, order.side.value, order.type.value)
        theirs = (stored.strategy_id, stored.symbol, stored.side, stored.type)
        prices = (order.quantity, order.limit_price, order.stop_price)
        if mine != theirs or prices != (stored.quantity, stored.limit_price, stored.stop_price):
            raise OrderError(
                f"order {coid}: run {run_id} holds this client order id for a different order "
                f"({stored.side} {stored.quantity} {stored.symbol}); ids must never be reused"
            )
        return False
    session.add(
        _history(
            run_id, coid, OrderStatus.PENDING_SUBMIT, at, _pending_key(coid), reason=order.reason
        )
    )
    await session.flush()
    return True


async def record_transition(
    session: AsyncSession,
    run_id: uuid.UUID,
    client_order_id: str,
    status: OrderStatus,
    *,
    at: datetime,
    idempotency_key: str,
    reason: str = "",
    code: str = "",
    broker_order_id: str | None = None,
) -> bool:
    """Move a stored order to `status` as the OMS decided, with a history row keyed by the
    report's `idempotency_key`. A terminal status sets `closed_at`; a non-empty reason, code or
    broker order id replaces the stored one.

    Returns False, changing nothing, when this run recorded `idempotency_key` already (the same
    report delivered again).

    Raises:
        OrderNotFound: the run has no such order.
        OrderClosed: the order is filled, cancelled, rejected or expired; nothing moves it on.
    """
    row = await _locked_order(session, run_id, client_order_id)
    seen = await session.scalar(
        select(
            exists().where(
                OrderEvent.run_id == run_id, OrderEvent.idempotency_key == idempotency_key
            )
        )
    )
    if seen:
        return False
    current = OrderStatus(row.status)
    if current.is_final:
        raise OrderClosed(
            f"order {client_order_id} is {current.value}; it cannot become {status.value}"
        )
    row.status = status.value
    row.updated_at = at
    if status.is_final:
        row.closed_at = at
    if reason:
        row.reason = reason
    if code:
        row.code = code
    if broker_order_id:
        row.broker_order_id = broker_order_id
    session.add(_history(run_id, client_order_id, status, at, idempotency_key, reason, code))
    await session.flush()
    return True


async def record_fill(
    session: AsyncSession, run_id: uuid.UUID, fill: Fill, *, broker_order_id: str | None = None
) -> bool:
    """Store one execution with all it changes: the fill row, its order's filled quantity,
    average price and status (PARTIALLY_FILLED or FILLED, with a history row), and the position
    of the order's strategy in the symbol (average cost, realised PnL on a reduction, a flip
    through zero reopening at the fill price, as quant_domain.Position books it).

    Returns False, changing nothing, when the run holds `fill.fill_id` already (dedup on the
    broker's execution id).

    Raises:
        OrderNotFound: the run has no order `fill.client_order_id`.
        OrderClosed: the order is in a terminal status.
        OrderError: the fill's symbol, side or strategy is not its order's, or it would fill
            more than the order's quantity (an overfill is an alert, never absorbed).
    """
    coid = fill.client_order_id
    order = await _locked_order(session, run_id, coid)
    duplicate = await session.scalar(
        select(exists().where(FillRow.run_id == run_id, FillRow.fill_id == fill.fill_id))
    )
    if duplicate:
        return False
    if OrderStatus(order.status).is_final:
        raise OrderClosed(f"order {coid} is {order.status}; fill {fill.fill_id} cannot apply")
    if (fill.symbol, fill.side.value) != (order.symbol, order.side):
        raise OrderError(
            f"fill {fill.fill_id} ({fill.side.value} {fill.symbol}) does not belong to order "
            f"{coid} ({order.side} {order.symbol})"
        )
    if fill.strategy_id and fill.strategy_id != order.strategy_id:
        raise OrderError(
            f"fill {fill.fill_id} names strategy {fill.strategy_id}; order {coid} is "
            f"{order.strategy_id}'s"
        )
    filled = order.filled_quantity + fill.quantity
    if filled > order.quantity:
        raise OrderError(
            f"order {coid}: fill {fill.fill_id} of {fill.quantity} would fill {filled} of "
            f"{order.quantity} (overfill)"
        )

    if order.filled_quantity == 0:
        order.fill_price = fill.price
    else:
        # the exact notional of the earlier fills (a NUMERIC sum), as the engine's OMS keeps it,
        # rather than the stored average times quantity, which carries the division's rounding
        before = await session.scalar(
            select(func.sum(FillRow.quantity * FillRow.price)).where(
                FillRow.run_id == run_id, FillRow.client_order_id == coid
            )
        )
        if before is None:  # filled without stored fills (adopted from a broker): its average
            before = order.filled_quantity * (order.fill_price or ZERO)
        order.fill_price = (before + fill.notional) / filled
    session.add(
        FillRow(
            run_id=run_id,
            fill_id=fill.fill_id,
            client_order_id=coid,
            symbol=fill.symbol,
            side=fill.side.value,
            quantity=fill.quantity,
            price=fill.price,
            commission=fill.commission,
            slippage=fill.slippage,
            ts=fill.timestamp,
        )
    )
    status = OrderStatus.FILLED if filled == order.quantity else OrderStatus.PARTIALLY_FILLED
    order.filled_quantity = filled
    order.status = status.value
    order.updated_at = fill.timestamp
    if status is OrderStatus.FILLED:
        order.closed_at = fill.timestamp
    if broker_order_id:
        order.broker_order_id = broker_order_id
    session.add(_history(run_id, coid, status, fill.timestamp, _fill_key(fill.fill_id)))
    await _book(session, run_id, order.strategy_id, fill)
    await session.flush()
    return True


async def _book(session: AsyncSession, run_id: uuid.UUID, strategy_id: str, fill: Fill) -> None:
    """Apply `fill` to the strategy's position in its symbol, creating the row when flat."""
    await session.execute(
        insert(Position)
        .values(
            run_id=run_id,
            strategy_id=strategy_id,
            symbol=fill.symbol,
            quantity=ZERO,
            avg_price=ZERO,
            realized_pnl=ZERO,
            commission=ZERO,
            updated_at=fill.timestamp,
        )
        .on_conflict_do_nothing(index_elements=["run_id", "strategy_id", "symbol"])
    )
    row = await session.scalar(
        select(Position)
        .where(
            Position.run_id == run_id,
            Position.strategy_id == strategy_id,
            Position.symbol == fill.symbol,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None  # inserted above or already there
    book = Book(fill.symbol, row.quantity, row.avg_price, row.realized_pnl)
    book.apply(fill)
    row.quantity = book.quantity
    row.avg_price = book.avg_price
    row.realized_pnl = book.realized_pnl
    row.commission = row.commission + fill.commission
    row.updated_at = fill.timestamp


async def mark_processed(session: AsyncSession, group: str, key: str) -> bool:
    """Claim event `key` for consumer `group` in the caller's transaction.

    True: first time, go on and apply the event, then commit and acknowledge. False: the group
    committed this event before (a redelivery); acknowledge it and apply nothing. A rolled-back
    transaction leaves the key unclaimed, so the event is processed when it comes again.
    """
    claimed = await session.scalar(
        insert(ProcessedEvent)
        .values(consumer_group=group, idempotency_key=key)
        .on_conflict_do_nothing(index_elements=["consumer_group", "idempotency_key"])
        .returning(ProcessedEvent.idempotency_key)
    )
    return claimed is not None


async def processed_keys(session: AsyncSession, group: str, prefix: str = "") -> list[str]:
    """The keys consumer `group` has claimed that start with `prefix`, in key order."""
    rows = await session.scalars(
        select(ProcessedEvent.idempotency_key)
        .where(
            ProcessedEvent.consumer_group == group,
            ProcessedEvent.idempotency_key.startswith(prefix, autoescape=True),
        )
        .order_by(ProcessedEvent.idempotency_key)
    )
    return list(rows)


async def stored_fill(session: AsyncSession, run_id: uuid.UUID, fill_id: str) -> FillRow | None:
    """The run's fill `fill_id` (None: not stored), to compare a fill reported again with it."""
    row: FillRow | None = await session.scalar(
        select(FillRow).where(FillRow.run_id == run_id, FillRow.fill_id == fill_id)
    )
    return row


async def open_orders(session: AsyncSession, run_id: uuid.UUID) -> list[OrderRow]:
    """The run's orders not in a terminal status, oldest first (what a restart must resolve)."""
    rows = await session.scalars(
        select(OrderRow)
        .where(OrderRow.run_id == run_id, OrderRow.status.not_in(_TERMINAL))
        .order_by(OrderRow.submitted_at, OrderRow.id)
    )
    return list(rows)


async def positions(session: AsyncSession, run_id: uuid.UUID) -> PositionBook:
    """The run's positions per strategy (flat rows kept: they carry realised PnL) and netted
    per symbol, both ordered by symbol (then strategy)."""
    rows = list(
        await session.scalars(
            select(Position)
            .where(Position.run_id == run_id)
            .order_by(Position.symbol, Position.strategy_id)
        )
    )
    return PositionBook(per_strategy=rows, net=_net(rows))


def _net(rows: Sequence[Position]) -> list[NetPosition]:
    by_symbol: dict[str, list[Position]] = {}
    for row in rows:
        by_symbol.setdefault(row.symbol, []).append(row)
    return [
        NetPosition(
            symbol=symbol,
            quantity=sum((r.quantity for r in group), ZERO),
            realized_pnl=sum((r.realized_pnl for r in group), ZERO),
            commission=sum((r.commission for r in group), ZERO),
            strategies=tuple(r.strategy_id for r in group),
        )
        for symbol, group in by_symbol.items()
    ]


async def order_history(
    session: AsyncSession, run_id: uuid.UUID, client_order_id: str
) -> list[OrderEvent]:
    """Every status the order took, in the order they were recorded."""
    rows = await session.scalars(
        select(OrderEvent)
        .where(OrderEvent.run_id == run_id, OrderEvent.client_order_id == client_order_id)
        .order_by(OrderEvent.id)
    )
    return list(rows)


async def order_fills(
    session: AsyncSession, run_id: uuid.UUID, client_order_id: str
) -> list[FillRow]:
    """The order's fills in the order they were stored."""
    rows = await session.scalars(
        select(FillRow)
        .where(FillRow.run_id == run_id, FillRow.client_order_id == client_order_id)
        .order_by(FillRow.id)
    )
    return list(rows)
