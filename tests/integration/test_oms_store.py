"""The OMS store on a real PostgreSQL: write-ahead orders, status history, fills, positions per
strategy, processed event keys and the reconciliation state."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_db import oms_store
from quant_db.oms_store import OrderClosed, OrderNotFound
from quant_db.reconciliation import (
    NothingToResolve,
    reconciliation_state,
    resolve_reconciliation,
    save_reconciliation,
)
from quant_db.schema import (
    AuditEntry,
    Fill,
    Order,
    OrderEvent,
    ReconciliationState,
    Resolution,
    Run,
    Strategy,
    User,
)
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import ConfigError, OrderError, OrderSide, OrderStatus
from quant_domain import Fill as DomainFill
from quant_domain import Order as DomainOrder
from quant_domain import Position as Book

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
D = Decimal


def _run(url: str, body: Callable[[Sessions, uuid.UUID], Awaitable[T]]) -> T:
    """Seed two strategies, a paper session and an admin, then run `body` on a session maker."""

    async def main() -> T:
        engine = create_async_engine(url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            async with sessions.begin() as session:
                for sid in ("alpha", "beta"):
                    session.add(Strategy(id=sid, class_path="m:C", config={}))
                await session.flush()
                run = Run(
                    strategy_id="alpha", type=RunType.PAPER, status=RunStatus.RUNNING, config={}
                )
                session.add(run)
                session.add(User(username="root", password_hash="x", role=Role.ADMIN))
            return await body(sessions, run.id)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _order(
    coid: str,
    side: OrderSide = OrderSide.BUY,
    quantity: str = "10",
    strategy: str = "alpha",
    symbol: str = "AAPL",
) -> DomainOrder:
    return DomainOrder(
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        client_order_id=coid,
        strategy_id=strategy,
        reason="momentum entry",
    )


def _fill(
    fill_id: str,
    coid: str,
    quantity: str,
    price: str,
    side: OrderSide = OrderSide.BUY,
    minutes: int = 1,
    symbol: str = "AAPL",
) -> DomainFill:
    return DomainFill(
        fill_id=fill_id,
        client_order_id=coid,
        symbol=symbol,
        side=side,
        quantity=D(quantity),
        price=D(price),
        commission=D("1"),
        timestamp=T0 + timedelta(minutes=minutes),
    )


async def _submit(session: AsyncSession, run_id: uuid.UUID, order: DomainOrder) -> None:
    """Write ahead, then the broker's acceptance: an order working at the broker."""
    assert await oms_store.record_pending(session, run_id, order, at=T0)
    coid = order.client_order_id
    for status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED):
        await oms_store.record_transition(
            session, run_id, coid, status, at=T0, idempotency_key=f"{coid}:{status.value}"
        )


async def _trade(
    session: AsyncSession, run_id: uuid.UUID, order: DomainOrder, price: str, minutes: int
) -> None:
    """Submit `order` and fill it whole at `price`."""
    await _submit(session, run_id, order)
    coid = order.client_order_id
    fill = _fill(f"f-{coid}", coid, str(order.quantity), price, order.side, minutes, order.symbol)
    assert await oms_store.record_fill(session, run_id, fill)


def test_write_ahead_of_one_client_order_id_twice_keeps_one_row_in_pending_submit(
    database_url: str,
) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            assert await oms_store.record_pending(session, run_id, _order("a-1"), at=T0)
        async with sessions.begin() as session:  # the decision replayed after a restart
            later = T0 + timedelta(seconds=5)
            assert not await oms_store.record_pending(session, run_id, _order("a-1"), at=later)
        async with sessions() as session:
            rows = list(await session.scalars(select(Order).where(Order.run_id == run_id)))
            assert [(r.client_order_id, r.status, r.submitted_at) for r in rows] == [
                ("a-1", "pending_submit", T0)
            ]
            history = await oms_store.order_history(session, run_id, "a-1")
            assert [(e.status, e.reason) for e in history] == [("pending_submit", "momentum entry")]
            assert [o.client_order_id for o in await oms_store.open_orders(session, run_id)] == [
                "a-1"
            ]

    _run(database_url, body)


def test_write_ahead_refuses_a_client_order_id_reused_for_a_different_order(
    database_url: str,
) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await oms_store.record_pending(session, run_id, _order("a-1"), at=T0)
        async with sessions() as session:
            with pytest.raises(OrderError, match=r"a-1: run .* different order"):
                await oms_store.record_pending(session, run_id, _order("a-1", quantity="11"), at=T0)
            with pytest.raises(OrderError, match="strategy_id is empty"):
                await oms_store.record_pending(session, run_id, _order("a-2", strategy=""), at=T0)

    _run(database_url, body)


def test_a_terminal_order_refuses_further_transitions_and_a_repeated_report_is_a_no_op(
    database_url: str,
) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await _submit(session, run_id, _order("a-1"))
            later = T0 + timedelta(minutes=3)
            assert await oms_store.record_transition(
                session,
                run_id,
                "a-1",
                OrderStatus.CANCELLED,
                at=later,
                idempotency_key="evt-9",
                reason="strategy stopped",
            )
            # the same cancel report delivered again: nothing changes, no error
            assert not await oms_store.record_transition(
                session, run_id, "a-1", OrderStatus.CANCELLED, at=later, idempotency_key="evt-9"
            )
        async with sessions() as session:
            with pytest.raises(OrderClosed, match="a-1 is cancelled; it cannot become accepted"):
                await oms_store.record_transition(
                    session, run_id, "a-1", OrderStatus.ACCEPTED, at=later, idempotency_key="x"
                )
            with pytest.raises(OrderClosed, match="fill f-1 cannot apply"):
                await oms_store.record_fill(session, run_id, _fill("f-1", "a-1", "1", "100"))
            with pytest.raises(OrderNotFound, match="no order zz"):
                await oms_store.record_transition(
                    session, run_id, "zz", OrderStatus.ACCEPTED, at=later, idempotency_key="y"
                )
        async with sessions() as session:
            row = await session.scalar(select(Order).where(Order.client_order_id == "a-1"))
            assert row is not None
            assert (row.status, row.closed_at, row.reason) == (
                "cancelled",
                later,
                "strategy stopped",
            )
            history = await oms_store.order_history(session, run_id, "a-1")
            assert [e.status for e in history] == [
                "pending_submit",
                "submitted",
                "accepted",
                "cancelled",
            ]
            assert await oms_store.open_orders(session, run_id) == []

    _run(database_url, body)


def test_a_repeated_fill_id_returns_false_and_changes_nothing(database_url: str) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await _submit(session, run_id, _order("a-1"))
            assert await oms_store.record_fill(session, run_id, _fill("f-1", "a-1", "4", "100"))
        async with sessions.begin() as session:
            assert not await oms_store.record_fill(session, run_id, _fill("f-1", "a-1", "4", "100"))
        async with sessions() as session:
            order = await session.scalar(select(Order).where(Order.client_order_id == "a-1"))
            assert order is not None
            assert (order.filled_quantity, order.status) == (D(4), "partially_filled")
            assert await session.scalar(select(func.count()).select_from(Fill)) == 1
            book = await oms_store.positions(session, run_id)
            assert [(p.quantity, p.commission) for p in book.per_strategy] == [(D(4), D(1))]

    _run(database_url, body)


def test_partial_fills_average_their_prices_exactly_and_the_last_one_fills_the_order(
    database_url: str,
) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await _submit(session, run_id, _order("a-1", quantity="7"))
            for n, (qty, price) in enumerate((("3", "100.01"), ("3", "100.02"), ("1", "99.5"))):
                fill = _fill(f"f-{n}", "a-1", qty, price, minutes=n + 1)
                assert await oms_store.record_fill(session, run_id, fill, broker_order_id="B-7")
                if n == 0:
                    assert [o.status for o in await oms_store.open_orders(session, run_id)] == [
                        "partially_filled"
                    ]
            with pytest.raises(OrderClosed):  # filled: no more fills
                await oms_store.record_fill(session, run_id, _fill("f-9", "a-1", "1", "100"))
        async with sessions() as session:
            order = await session.scalar(select(Order).where(Order.client_order_id == "a-1"))
            assert order is not None
            notional = D(3) * D("100.01") + D(3) * D("100.02") + D("99.5")
            assert order.fill_price == notional / D(7)
            assert (order.filled_quantity, order.status, order.broker_order_id) == (
                D(7),
                "filled",
                "B-7",
            )
            assert order.closed_at == T0 + timedelta(minutes=3)
            fills = await oms_store.order_fills(session, run_id, "a-1")
            assert [f.fill_id for f in fills] == ["f-0", "f-1", "f-2"]
            history = await oms_store.order_history(session, run_id, "a-1")
            assert [e.status for e in history][-3:] == [
                "partially_filled",
                "partially_filled",
                "filled",
            ]

    _run(database_url, body)


def test_a_fill_beyond_the_order_quantity_or_of_another_side_is_refused(
    database_url: str,
) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await _submit(session, run_id, _order("a-1", quantity="5"))
        async with sessions() as session:
            with pytest.raises(OrderError, match="would fill 6 of 5"):
                await oms_store.record_fill(session, run_id, _fill("f-1", "a-1", "6", "100"))
            with pytest.raises(OrderError, match="does not belong to order a-1"):
                await oms_store.record_fill(
                    session, run_id, _fill("f-2", "a-1", "1", "100", side=OrderSide.SELL)
                )

    _run(database_url, body)


def test_two_strategies_on_one_symbol_keep_their_own_positions_and_a_netted_view(
    database_url: str,
) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await _trade(session, run_id, _order("a-1", quantity="10"), "100", 1)
            short = _order("b-1", side=OrderSide.SELL, quantity="4", strategy="beta")
            await _trade(session, run_id, short, "101", 2)
            # alpha sells 3 at 110 (realises 30); beta buys 1 back at 96 (realises 5)
            await _trade(session, run_id, _order("a-2", OrderSide.SELL, "3"), "110", 3)
            await _trade(session, run_id, _order("b-2", OrderSide.BUY, "1", "beta"), "96", 4)
        async with sessions() as session:
            book = await oms_store.positions(session, run_id)
            rows = [
                (p.strategy_id, p.symbol, p.quantity, p.avg_price, p.realized_pnl, p.commission)
                for p in book.per_strategy
            ]
            assert rows == [
                ("alpha", "AAPL", D(7), D(100), D(30), D(2)),
                ("beta", "AAPL", D(-3), D(101), D(5), D(2)),
            ]
            assert book.net == [oms_store.NetPosition("AAPL", D(4), D(35), D(4), ("alpha", "beta"))]

    _run(database_url, body)


def test_a_flip_from_long_to_short_realises_the_long_and_opens_the_rest_at_the_fill_price(
    database_url: str,
) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await _trade(session, run_id, _order("a-1", quantity="10"), "100", 1)
            await _trade(session, run_id, _order("a-2", quantity="10"), "103", 2)
            await _trade(session, run_id, _order("a-3", OrderSide.SELL, "25"), "104", 3)
        async with sessions() as session:
            [row] = (await oms_store.positions(session, run_id)).per_strategy
            # long 20 at 101.5, sold 25 at 104: 20 close for 2.5 each, 5 open short at 104
            assert (row.quantity, row.avg_price, row.realized_pnl) == (D(-5), D(104), D(50))

    _run(database_url, body)


def test_a_processed_event_key_is_claimed_only_when_its_transaction_commits(
    database_url: str,
) -> None:
    class Crash(Exception):
        pass

    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async def consume_then_die() -> None:
            async with sessions.begin() as session:
                assert await oms_store.mark_processed(session, "execution", "evt-1")
                await oms_store.record_pending(session, run_id, _order("a-1"), at=T0)
                raise Crash  # died before the commit: the event must come again

        with pytest.raises(Crash):
            await consume_then_die()
        async with sessions.begin() as session:
            assert await oms_store.mark_processed(session, "execution", "evt-1")
            await oms_store.record_pending(session, run_id, _order("a-1"), at=T0)
        async with sessions.begin() as session:  # redelivered after the commit, before the ack
            assert not await oms_store.mark_processed(session, "execution", "evt-1")
            assert await oms_store.mark_processed(session, "monitoring", "evt-1")
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Order)) == 1

    _run(database_url, body)


def test_reconciliation_blocks_on_a_difference_and_an_admin_resolution_is_audited(
    database_url: str,
) -> None:
    diff = {"positions": [{"symbol": "AAPL", "broker": "10", "database": "0"}]}

    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions() as session:
            assert await reconciliation_state(session, "paper-1") is None
            with pytest.raises(ConfigError, match="diff"):
                await save_reconciliation(
                    session, account="paper-1", state=ReconciliationState.CLEAN, diff=diff, at=T0
                )
            with pytest.raises(ConfigError, match="account"):
                await save_reconciliation(
                    session, account=" ", state=ReconciliationState.PENDING, diff={}, at=T0
                )
        async with sessions.begin() as session:
            row = await save_reconciliation(
                session,
                account="paper-1",
                state=ReconciliationState.BLOCKED,
                diff=diff,
                at=T0,
                run_id=run_id,
            )
            assert row.state is ReconciliationState.BLOCKED
        async with sessions.begin() as session:
            admin = await session.scalar(select(User).where(User.username == "root"))
            assert admin is not None
            with pytest.raises(ConfigError, match="resolution: 'ignore' is not a resolution"):
                await resolve_reconciliation(
                    session,
                    account="paper-1",
                    user=admin,
                    resolution="ignore",
                    reason="x",
                    request_id="r-0",
                )
            resolved = await resolve_reconciliation(
                session,
                account="paper-1",
                user=admin,
                resolution="adopt",
                reason="the broker is right",
                request_id="r-1",
            )
            assert (resolved.state, resolved.resolution) == (
                ReconciliationState.PENDING,
                Resolution.ADOPT,
            )
            with pytest.raises(NothingToResolve, match="pending, not blocked"):
                await resolve_reconciliation(
                    session,
                    account="paper-1",
                    user=admin,
                    resolution=Resolution.FLATTEN,
                    reason="again",
                    request_id="r-2",
                )
        async with sessions.begin() as session:  # the runner adopted, then checks again
            await save_reconciliation(
                session,
                account="paper-1",
                state=ReconciliationState.CLEAN,
                diff={},
                at=T0 + timedelta(minutes=1),
                run_id=run_id,
            )
        async with sessions() as session:
            latest = await reconciliation_state(session, "paper-1")
            assert latest is not None
            assert (latest.state, latest.diff, latest.resolution, latest.reason) == (
                ReconciliationState.CLEAN,
                {},
                Resolution.ADOPT,
                "the broker is right",
            )
            [entry] = list(await session.scalars(select(AuditEntry)))
            assert (entry.action, entry.target_type, entry.target_id, entry.request_id) == (
                "reconciliation.resolve",
                "reconciliation",
                "paper-1",
                "r-1",
            )
            assert entry.detail == {
                "username": "root",
                "before": {"state": "blocked", "diff": diff},
                "after": {"state": "pending", "resolution": "adopt"},
                "reason": "the broker is right",
                "via": "api",
            }

    _run(database_url, body)


def test_order_history_rows_go_with_their_order(database_url: str) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        async with sessions.begin() as session:
            await _submit(session, run_id, _order("a-1"))
            await session.execute(delete(Order))
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OrderEvent)) == 0

    _run(database_url, body)


def test_one_fill_reported_to_two_consumers_at_once_is_booked_once(database_url: str) -> None:
    async def body(sessions: Sessions, run_id: uuid.UUID) -> list[bool]:
        async with sessions.begin() as session:
            await _submit(session, run_id, _order("a-1"))
        first_booked = asyncio.Event()

        async def first() -> bool:
            async with sessions.begin() as session:
                booked = await oms_store.record_fill(
                    session, run_id, _fill("f-1", "a-1", "4", "100")
                )
                first_booked.set()
                await asyncio.sleep(0.3)  # the other consumer waits on the order's row meanwhile
                return booked

        async def second() -> bool:
            await first_booked.wait()
            async with sessions.begin() as session:
                return await oms_store.record_fill(session, run_id, _fill("f-1", "a-1", "4", "100"))

        outcomes = list(await asyncio.gather(first(), second()))
        async with sessions() as session:
            [row] = (await oms_store.positions(session, run_id)).per_strategy
            assert row.quantity == D(4)
            assert await session.scalar(select(func.count()).select_from(Fill)) == 1
        return outcomes

    assert _run(database_url, body) == [True, False]


def test_stored_positions_equal_the_fills_booked_one_by_one_per_strategy(
    database_url: str,
) -> None:
    rng = random.Random(27)
    trades = [
        (
            rng.choice(("alpha", "beta")),
            rng.choice(("AAPL", "MSFT")),
            rng.choice((OrderSide.BUY, OrderSide.SELL)),
            str(rng.randint(1, 9)),
            f"{rng.randint(9000, 11000) / 100:.2f}",
        )
        for _ in range(40)
    ]
    expected: dict[tuple[str, str], Book] = {}
    for strategy, symbol, side, qty, price in trades:
        book = expected.setdefault((strategy, symbol), Book(symbol))
        book.apply(_fill("x", "x", qty, price, side, symbol=symbol))

    async def body(sessions: Sessions, run_id: uuid.UUID) -> None:
        for n, (strategy, symbol, side, qty, price) in enumerate(trades):
            async with sessions.begin() as session:
                order = _order(f"o-{n}", side, qty, strategy, symbol)
                await _trade(session, run_id, order, price, n)
        async with sessions() as session:
            book = await oms_store.positions(session, run_id)
            stored = {
                (p.strategy_id, p.symbol): (p.quantity, p.avg_price, p.realized_pnl)
                for p in book.per_strategy
            }
            assert stored == {
                key: (b.quantity, b.avg_price, b.realized_pnl) for key, b in expected.items()
            }
            for net in book.net:
                assert net.quantity == sum(
                    (b.quantity for (_, s), b in expected.items() if s == net.symbol), D(0)
                )

    _run(database_url, body)
