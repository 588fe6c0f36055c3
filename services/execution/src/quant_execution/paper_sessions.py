"""A paper session's run row (opened only for a strategy in PAPER mode, closed with its figures)
and its reconciliation with the paper broker before the first order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db import oms_store
from quant_db.reconciliation import save_reconciliation
from quant_db.schema import EquityPoint, Position, Run, Strategy
from quant_db.schema.execution import ReconciliationState as StoredState
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_domain import ConfigError, Order, OrderSide, OrderType, TimeInForce, to_decimal
from quant_engine import EngineRun
from quant_engine.broker_session import BrokerSession
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import Reconciliation, ReconciliationState
from quant_execution.restart import account_books


async def _require_paper(db: AsyncSession, strategy_id: str, mode: Mode = Mode.PAPER) -> None:
    strategy = await db.get(Strategy, strategy_id)
    if strategy is None or strategy.mode is not mode:
        where = "is not registered" if strategy is None else f"is in {strategy.mode.value} mode"
        raise ConfigError(
            f"{strategy_id} {where}: move it to {mode.value.upper()} first (its page on the "
            "dashboard, or POST /v1/controls/mode-transition)",
            field="mode",
        )


async def require_paper(
    sessions: async_sessionmaker[AsyncSession], strategy_ids: Sequence[str]
) -> None:
    """Raise ConfigError naming the first of `strategy_ids` not in PAPER mode (before any of
    their sessions is opened, so a refusal leaves nothing behind)."""
    async with sessions() as db:
        for strategy_id in strategy_ids:
            await _require_paper(db, strategy_id)


async def open_paper_session(
    sessions: async_sessionmaker[AsyncSession],
    strategy_id: str,
    config: dict[str, Any],
    *,
    mode: Mode = Mode.PAPER,
    repro: dict[str, Any] | None = None,
) -> uuid.UUID:
    """A new run for `strategy_id`, which must be in `mode` (a strategy trades on paper only
    after its recorded transition to PAPER, live only after LIVE): of type `paper`, or `live`
    for LIVE. `repro` starts the run's repro (the account and broker kind it trades on)."""
    async with sessions.begin() as db:
        await _require_paper(db, strategy_id, mode)
        run = Run(
            strategy_id=strategy_id,
            type=RunType.LIVE if mode is Mode.LIVE else RunType.PAPER,
            status=RunStatus.RUNNING,
            config=config,
            started_at=datetime.now(UTC),
            repro=dict(repro or {}),
        )
        db.add(run)
    return run.id


async def mark_positions(
    sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID, marks: Mapping[str, Decimal]
) -> None:
    """Value the session's positions at `marks` (the last close per symbol), so the positions
    page shows their market value and unrealised PnL."""
    async with sessions.begin() as db:
        for symbol, price in marks.items():
            await db.execute(
                update(Position)
                .where(Position.run_id == run_id, Position.symbol == symbol)
                .values(last_price=price)
            )


async def record_step(
    sessions: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    at: datetime,
    point: tuple[float, float, float, float],
    marks: Mapping[str, float],
) -> None:
    """One step of a running session, in one transaction: its equity point (the same columns a
    backtest stores, so the dashboard charts both alike), the positions valued at the step's
    closes, and the step counted on the run. A step stored already (run again after a crash
    before its mark) is left as it was: the call is idempotent."""
    equity, cash, positions_value, gross = point
    async with sessions.begin() as db:
        new = await db.scalar(
            pg_insert(EquityPoint)
            .values(
                run_id=run_id,
                ts=at,
                equity=to_decimal(equity),
                cash=to_decimal(cash),
                positions_value=to_decimal(positions_value),
                gross_exposure=gross,
            )
            .on_conflict_do_nothing(index_elements=["run_id", "ts"])
            .returning(EquityPoint.ts)
        )
        for symbol, price in marks.items():
            await db.execute(
                update(Position)
                .where(Position.run_id == run_id, Position.symbol == symbol)
                .values(last_price=to_decimal(price))
            )
        if new is not None:  # a step run again after a crash is counted once
            await db.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(processed=Run.processed + 1, message=f"last bar {at.isoformat()}")
            )


async def close_paper_session(
    sessions: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    result: EngineRun | None,
    *,
    message: str = "",
) -> None:
    """Mark the session completed with its final figures (orders and fills are stored already);
    `result` is None for a session that ended before its first bar."""
    async with sessions.begin() as db:
        run = await db.get(Run, run_id)
        assert run is not None
        run.status = RunStatus.COMPLETED
        run.finished_at = datetime.now(UTC)
        run.message = message
        if result is None:
            run.progress = 1.0
            return
        run.processed = len(result.index)
        run.total = len(result.index)
        run.progress = 1.0
        run.metrics = {
            "final_equity": float(result.final_equity),
            "orders": len(result.orders),
            "fills": len(result.fills),
            "total_fees": float(result.total_fees),
        }


async def stored_books(
    sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID
) -> tuple[dict[str, Order], dict[str, Decimal]]:
    """The run's working orders (what is left of each, by client order id) and its non-zero net
    positions, as PostgreSQL holds them."""
    async with sessions() as db:
        rows = await oms_store.open_orders(db, run_id)
        book = await oms_store.positions(db, run_id)
    working = {
        row.client_order_id: Order(
            symbol=row.symbol,
            side=OrderSide(row.side),
            quantity=row.quantity - row.filled_quantity,
            type=OrderType(row.type),
            limit_price=row.limit_price,
            stop_price=row.stop_price,
            time_in_force=TimeInForce(row.time_in_force),
            client_order_id=row.client_order_id,
            strategy_id=row.strategy_id,
        )
        for row in rows
    }
    return working, {p.symbol: p.quantity for p in book.net if p.quantity}


async def reconcile_at_start(
    sessions: async_sessionmaker[AsyncSession],
    run_id: uuid.UUID,
    account: str,
    session: PaperSession,
    *,
    rebuilt: bool = False,
    broker: str | None = None,
    attempts: int = 3,
    pause_s: float = 0.5,
) -> Reconciliation:
    """Compare the paper broker with what PostgreSQL holds for this run, before the first
    order: the session's gate refuses every order until the outcome is CLEAN, and the outcome
    is stored as the account's reconciliation (what `GET /v1/reconciliation` shows).

    `rebuilt`: the session was rebuilt after a crash (ADR 0032) by replaying its finished steps,
    every write of which had to match the store, so its broker holds what PostgreSQL held after
    the last finished step. The store may be ahead of that (the step that did not finish wrote
    some of its orders and fills before the crash, and runs again to write the same): the
    comparison is then the broker with itself, which the replay already proved.

    `broker`: the session trades a real broker's account of that kind, which other sessions may
    trade too: the account is compared with the books of every session on it (ADR 0042). Their
    books may lag the account by a report in flight (an order filled a moment ago, stored a
    moment later), so a difference is compared again up to `attempts` times, `pause_s` apart,
    before it blocks."""
    working: Mapping[str, Order]
    positions: Mapping[str, Decimal]
    for attempt in range(1, attempts + 1):
        if rebuilt:
            broker_side = session.loop.broker
            working = {o.client_order_id or "": o for o in broker_side.open_orders()}
            positions = {s: q for s, q in broker_side.positions().items() if q}
        elif broker is not None:
            if isinstance(session, BrokerSession):  # reports in flight reach the store first
                await asyncio.to_thread(session.settle, [], timeout=0)
            working, positions = await account_books(sessions, account, broker)
        else:
            working, positions = await stored_books(sessions, run_id)
        # a real broker is read over the network: off the event loop (the runner has not
        # started)
        outcome = await asyncio.to_thread(
            session.loop.reconcile, working, positions, datetime.now(UTC)
        )
        if broker is None or outcome.state is ReconciliationState.CLEAN or attempt == attempts:
            break
        await asyncio.sleep(pause_s)
    payload = outcome.to_json()
    async with sessions.begin() as db:
        await save_reconciliation(
            db,
            account=account,
            state=StoredState(outcome.state.value),
            diff={} if not outcome.differences else {"differences": payload["differences"]},
            at=outcome.checked_at,
            run_id=run_id,
        )
    return outcome
