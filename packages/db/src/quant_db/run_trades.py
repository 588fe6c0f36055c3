"""A stored run's orders, fills, steps and final equity, read whole for a parity comparison.

Any run type reads the same way: a backtest's rows come from the worker's save (one transaction
at its end), a paper session's from the OMS store as it traded. Its steps are the timestamps of
its equity points; a run that stored none (a paper session before its equity series was kept)
has steps None, and its final equity then comes from its figures (`final_equity` or
`end_equity` in `runs.metrics`) when they hold one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_db.schema import EquityPoint, Fill, Order, Run
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import to_decimal


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """One stored order with its fills: (quantity, price) each in the order stored, and the
    commission they paid in all."""

    client_order_id: str
    submitted_at: datetime
    symbol: str
    side: str
    quantity: Decimal
    type: str
    status: str
    filled_quantity: Decimal
    fill_price: Decimal | None
    code: str
    reason: str
    fills: tuple[tuple[Decimal, Decimal], ...]
    commission: Decimal


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run's identity and what a parity comparison reads of it."""

    id: uuid.UUID
    type: RunType
    strategy_id: str
    status: RunStatus
    created_at: datetime
    orders: tuple[StoredOrder, ...]
    steps: frozenset[datetime] | None
    final_equity: Decimal | None

    @property
    def name(self) -> str:
        """How a report names the run: its type and the start of its id."""
        return f"{self.type.value} {str(self.id)[:8]}"


async def load_run_trades(session: AsyncSession, run_id: uuid.UUID) -> StoredRun | None:
    """The run's orders (by submission time, then id), fills, steps and final equity; None when
    there is no such run, or it is a training run (it trades nothing, so has nothing to compare)."""
    run = await session.get(Run, run_id)
    if run is None or run.strategy_id is None:
        return None
    fills: dict[str, list[tuple[Decimal, Decimal]]] = {}
    fees: dict[str, Decimal] = {}
    for cid, quantity, price, commission in await session.execute(
        select(Fill.client_order_id, Fill.quantity, Fill.price, Fill.commission)
        .where(Fill.run_id == run_id)
        .order_by(Fill.ts, Fill.id)
    ):
        fills.setdefault(cid, []).append((quantity, price))
        fees[cid] = fees.get(cid, Decimal(0)) + commission
    rows = await session.scalars(
        select(Order).where(Order.run_id == run_id).order_by(Order.submitted_at, Order.id)
    )
    orders = tuple(
        StoredOrder(
            client_order_id=o.client_order_id,
            submitted_at=o.submitted_at,
            symbol=o.symbol,
            side=o.side,
            quantity=o.quantity,
            type=o.type,
            status=o.status,
            filled_quantity=o.filled_quantity,
            fill_price=o.fill_price,
            code=o.code,
            reason=o.reason,
            fills=tuple(fills.get(o.client_order_id, ())),
            commission=fees.get(o.client_order_id, Decimal(0)),
        )
        for o in rows
    )
    points = (
        await session.execute(
            select(EquityPoint.ts, EquityPoint.equity)
            .where(EquityPoint.run_id == run_id)
            .order_by(EquityPoint.ts)
        )
    ).all()
    steps = frozenset(ts for ts, _ in points) if points else None
    final = points[-1][1] if points else _figure(run.metrics)
    return StoredRun(
        id=run.id,
        type=run.type,
        strategy_id=run.strategy_id,
        status=run.status,
        created_at=run.created_at,
        orders=orders,
        steps=steps,
        final_equity=final,
    )


def _figure(metrics: dict[str, object]) -> Decimal | None:
    for key in ("final_equity", "end_equity"):
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return to_decimal(value)
    return None


async def default_counterpart(session: AsyncSession, run: StoredRun) -> uuid.UUID | None:
    """The run a parity check of `run` is against by default: for a paper or live session the
    latest completed backtest of its strategy, for a backtest its strategy's latest paper
    session; None when there is none."""
    wanted = RunType.PAPER if run.type is RunType.BACKTEST else RunType.BACKTEST
    found: uuid.UUID | None = await session.scalar(
        select(Run.id)
        .where(
            Run.strategy_id == run.strategy_id,
            Run.type == wanted,
            Run.status == RunStatus.COMPLETED,
            Run.id != run.id,
        )
        .order_by(Run.created_at.desc(), Run.id)
        .limit(1)
    )
    return found
