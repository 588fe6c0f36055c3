"""Reconciliation scenarios on the real PostgreSQL: the paper broker's state is seeded directly
(it lives in memory), the runner compares it with the database, an admin resolves, and
`carry_out` does what was chosen; a fill made while the runner's store was away needs no admin."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_db import oms_store
from quant_db.journal import PostgresJournal
from quant_db.reconciliation import reconciliation_state, resolve_reconciliation
from quant_db.schema import AuditEntry, Strategy, User
from quant_db.schema import Fill as FillRow
from quant_db.schema import Order as OrderRow
from quant_db.schema.execution import Reconciliation as Row
from quant_db.schema.execution import ReconciliationState as Stored
from quant_db.schema.execution import Resolution
from quant_db.schema.identity import Role
from quant_db.schema.runs import Mode
from quant_domain import Fill, Order, OrderSide, OrderType, TimeInForce
from quant_engine import BacktestConfig
from quant_engine.paper import PaperSession
from quant_engine.reconciliation import DifferenceKind, Reconciliation, ReconciliationState
from quant_execution.paper_sessions import open_paper_session, reconcile_at_start
from quant_execution.resolution import carry_out
from quant_marketdata.replay import replay_steps
from quant_strategy import build_strategy
from tests.factories import frame, strategy_config

ACCOUNT = "paper"
STRATEGY = "recon_test"
BARS = list(replay_steps({"TEST": frame([100.0, 101, 102, 103, 104], start="2024-01-02")}))
CONFIG = BacktestConfig(slippage_bps=Decimal(0), commission_per_trade=Decimal(0))


@dataclass
class Desk:
    """One paper session on the real database, and the hands that stage and resolve."""

    sessions: async_sessionmaker[AsyncSession]
    run_id: uuid.UUID
    session: PaperSession
    admin_id: int
    at: int = 0  # the next bar to play

    async def bar(self, *, warm: bool = False) -> None:
        """The next bar through the session, as the runner plays it (in a worker thread)."""
        now, bars = BARS[self.at]
        self.at += 1
        play = self.session.warm_up if warm else self.session.on_bars
        await asyncio.to_thread(play, now, bars)

    def broker_holds(self, quantity: int, price: str) -> None:
        """The paper broker's account holds a position our books never heard of."""
        now: datetime = self.session.timeline.times[-1]
        held = Decimal(quantity)
        fill = Fill(
            "prev-f1", "prev-o1", "TEST", OrderSide.BUY, held, Decimal(price), Decimal(0), now
        )
        self.session.ledger.apply(fill)

    def left_working(self, order: Order) -> None:
        """The paper broker holds a working order sent by an earlier session (not to us)."""
        broker = self.session.broker
        broker.set_report_handler(lambda report: None)
        broker.submit(order)
        broker.set_report_handler(self.session.loop.on_report)

    async def send(self, order: Order) -> str:
        """An order of ours, written ahead and sent (ungated, as the engine's own orders go)."""
        record = await asyncio.to_thread(self.session.loop.send, order)
        return record.order.client_order_id

    async def check(self) -> Reconciliation:
        return await reconcile_at_start(self.sessions, self.run_id, ACCOUNT, self.session)

    async def resolve(self, action: str, reason: str = "the broker is right") -> None:
        """An admin's choice, recorded as the API and the CLI record it."""
        async with self.sessions.begin() as db:
            admin = await db.get(User, self.admin_id)
            assert admin is not None
            await resolve_reconciliation(
                db,
                account=ACCOUNT,
                user=admin,
                resolution=action,
                reason=reason,
                request_id="req-1",
            )

    async def carry_out(self) -> Reconciliation | None:
        return await carry_out(self.sessions, ACCOUNT, self.run_id, self.session)

    async def row(self) -> Row:
        async with self.sessions() as db:
            row = await reconciliation_state(db, ACCOUNT)
        assert row is not None
        return row

    async def order(self, cid: str) -> OrderRow:
        async with self.sessions() as db:
            row = await db.scalar(
                select(OrderRow).where(
                    OrderRow.run_id == self.run_id, OrderRow.client_order_id == cid
                )
            )
        assert row is not None
        return row

    async def orders(self) -> list[OrderRow]:
        async with self.sessions() as db:
            rows = await db.scalars(
                select(OrderRow).where(OrderRow.run_id == self.run_id).order_by(OrderRow.id)
            )
            return list(rows)

    async def positions(self) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
        async with self.sessions() as db:
            book = await oms_store.positions(db, self.run_id)
        return {(p.strategy_id, p.symbol): (p.quantity, p.avg_price) for p in book.per_strategy}

    async def audit(self) -> list[AuditEntry]:
        async with self.sessions() as db:
            return list(await db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _scenario(
    database_url: str, body: Callable[[Desk], Awaitable[None]], script: dict[int, str] | None = None
) -> None:
    async def main() -> None:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            async with sessions.begin() as db:
                db.add(Strategy(id=STRATEGY, class_path="x:Y", config={}, mode=Mode.PAPER))
                admin = User(username="root", password_hash="x", role=Role.ADMIN)
                db.add(admin)
            run_id = await open_paper_session(sessions, STRATEGY, {})
            config = strategy_config(id=STRATEGY, params={"script": script or {}})
            session = PaperSession(
                build_strategy(config),
                CONFIG,
                account=ACCOUNT,
                journal=PostgresJournal(sessions, run_id, asyncio.get_running_loop()),
            )
            await body(Desk(sessions, run_id, session, admin.id))
        finally:
            await engine.dispose()

    asyncio.run(main())


def _limit_buy(quantity: int, price: str, cid: str | None = None, **extra: Any) -> Order:
    fields: dict[str, Any] = {"strategy_id": STRATEGY, **extra}
    if cid is not None:
        fields["client_order_id"] = cid
    return Order(
        "TEST",
        OrderSide.BUY,
        Decimal(quantity),
        type=OrderType.LIMIT,
        limit_price=Decimal(price),
        time_in_force=TimeInForce.GTC,
        **fields,
    )


def test_a_working_order_left_by_the_previous_session_is_adopted_and_can_be_cancelled(
    database_url: str,
) -> None:
    async def body(desk: Desk) -> None:
        await desk.bar(warm=True)
        desk.left_working(_limit_buy(5, "50", "prev-session-000001", strategy_id=""))
        blocked = await desk.check()
        assert blocked.state is ReconciliationState.BLOCKED
        assert [(d.kind, d.key) for d in blocked.differences] == [
            (DifferenceKind.UNKNOWN_BROKER_ORDER, "prev-session-000001")
        ]
        await desk.resolve("adopt", "an order of ours from yesterday")
        outcome = await desk.carry_out()
        assert outcome is not None
        assert outcome.state is ReconciliationState.CLEAN
        adopted = await desk.order("prev-session-000001")
        assert (adopted.status, adopted.strategy_id, adopted.quantity, adopted.limit_price) == (
            "accepted",
            STRATEGY,
            Decimal(5),
            Decimal(50),
        )
        row = await desk.row()
        assert (row.state, row.resolution, row.resolved_by, row.reason) == (
            Stored.CLEAN,
            Resolution.ADOPT,
            desk.admin_id,
            "an order of ours from yesterday",
        )
        assert row.carried_out_at is not None
        audit = await desk.audit()
        assert [(e.action, e.target_id, e.user_id) for e in audit] == [
            ("reconciliation.resolve", ACCOUNT, desk.admin_id),
            ("reconciliation.adopt_order", "prev-session-000001", desk.admin_id),
            ("reconciliation.carried_out", ACCOUNT, desk.admin_id),
        ]
        assert audit[2].detail["adopted_orders"] == ["prev-session-000001"]
        # adopted, it is an order like ours: cancelling it is recorded
        await asyncio.to_thread(desk.session.broker.cancel, "prev-session-000001", "not wanted")
        cancelled = await desk.order("prev-session-000001")
        assert (cancelled.status, cancelled.reason) == ("cancelled", "not wanted")
        assert desk.session.broker.open_orders() == []
        assert (await desk.check()).state is ReconciliationState.CLEAN

    _scenario(database_url, body)


def test_a_position_the_database_lacks_blocks_submits_but_not_cancels_until_adopted(
    database_url: str,
) -> None:
    async def body(desk: Desk) -> None:
        await desk.bar(warm=True)
        ours = await desk.send(_limit_buy(1, "50"))
        desk.broker_holds(10, "100")
        blocked = await desk.check()
        assert blocked.state is ReconciliationState.BLOCKED
        assert [(d.kind, d.key, d.broker, d.ours) for d in blocked.differences] == [
            (DifferenceKind.POSITION_MISMATCH, "TEST", "10", "0")
        ]
        await desk.bar()  # the script goes long here: refused, recorded, never sent
        refused = [o for o in await desk.orders() if o.client_order_id != ours]
        assert [(o.side, o.status, o.code) for o in refused] == [
            ("buy", "rejected", "RECONCILIATION_PENDING")
        ]
        assert [o.client_order_id for o in desk.session.broker.open_orders()] == [ours]
        await asyncio.to_thread(desk.session.broker.cancel, ours, "changed my mind")
        assert (await desk.order(ours)).status == "cancelled"  # cancels pass

        await desk.resolve("adopt")
        assert (await desk.row()).state is Stored.PENDING
        again = await desk.check()  # a check meanwhile: the admin's decision still stands
        assert again.state is ReconciliationState.BLOCKED
        assert (await desk.row()).state is Stored.PENDING
        assert desk.session.loop.gate.blocked

        outcome = await desk.carry_out()
        assert outcome is not None
        assert outcome.state is ReconciliationState.CLEAN
        assert not desk.session.loop.gate.blocked
        assert await desk.positions() == {(STRATEGY, "TEST"): (Decimal(10), Decimal(100))}
        assert (await desk.row()).state is Stored.CLEAN
        actions = [(e.action, e.target_id) for e in await desk.audit()]
        assert actions == [
            ("reconciliation.resolve", ACCOUNT),
            ("reconciliation.adopt_position", f"{STRATEGY}:TEST"),
            ("reconciliation.carried_out", ACCOUNT),
        ]
        async with desk.sessions() as db:  # nothing was traded to make them agree
            assert list(await db.scalars(select(FillRow))) == []
        assert await desk.carry_out() is None  # carried out once: nothing waits now

    _scenario(database_url, body, script={1: "long"})


def test_flatten_cancels_the_brokers_orders_and_closes_its_positions_then_is_clean(
    database_url: str,
) -> None:
    async def body(desk: Desk) -> None:
        await desk.bar(warm=True)
        desk.broker_holds(10, "100")
        desk.left_working(_limit_buy(3, "60", "prev-session-000002"))
        assert (await desk.check()).state is ReconciliationState.BLOCKED
        await desk.resolve("flatten", "start from nothing")
        outcome = await desk.carry_out()
        assert outcome is not None
        assert outcome.state is ReconciliationState.CLEAN
        assert desk.session.broker.positions() == {}
        assert desk.session.broker.open_orders() == []
        assert await desk.positions() == {(STRATEGY, "TEST"): (Decimal(0), Decimal(0))}
        statuses = {(o.client_order_id, o.side, o.status) for o in await desk.orders()}
        closing = next(cid for cid, side, _ in statuses if side == "sell")
        assert statuses == {
            ("prev-session-000002", "buy", "cancelled"),
            (closing, "sell", "filled"),
        }
        row = await desk.row()
        assert (row.state, row.resolution) == (Stored.CLEAN, Resolution.FLATTEN)
        done = (await desk.audit())[-1]
        assert done.action == "reconciliation.carried_out"
        assert done.detail["cancelled_orders"] == ["prev-session-000002"]
        assert done.detail["closed_positions"] == {"TEST": "10"}
        assert done.detail["kept_positions"] == {}

    _scenario(database_url, body)


def test_a_fill_made_while_the_runner_was_away_is_recovered_without_an_admin(
    database_url: str,
) -> None:
    async def body(desk: Desk) -> None:
        await desk.bar(warm=True)
        cid = await desk.send(_limit_buy(5, "105"))
        assert (await desk.order(cid)).status == "accepted"
        journal, desk.session.loop.journal = desk.session.loop.journal, None
        await desk.bar(warm=True)  # the broker fills it; nothing reaches the database
        desk.session.loop.journal = journal
        [fill] = desk.session.loop.fills
        assert (await desk.order(cid)).status == "accepted"

        blocked = await desk.check()
        assert {d.kind for d in blocked.differences} == {
            DifferenceKind.ORDER_NOT_AT_BROKER,
            DifferenceKind.POSITION_MISMATCH,
        }
        outcome = await desk.carry_out()  # the runner's call between steps, no admin asked
        assert outcome is not None
        assert outcome.state is ReconciliationState.CLEAN
        stored = await desk.order(cid)
        assert (stored.status, stored.filled_quantity, stored.fill_price) == (
            "filled",
            Decimal(5),
            fill.price,
        )
        async with desk.sessions() as db:
            fills = list(await db.scalars(select(FillRow)))
        assert [(f.fill_id, f.quantity, f.price) for f in fills] == [
            (fill.fill_id, Decimal(5), fill.price)
        ]
        assert await desk.positions() == {(STRATEGY, "TEST"): (Decimal(5), fill.price)}
        row = await desk.row()
        assert (row.state, row.resolution) == (Stored.CLEAN, None)
        assert await desk.audit() == []
        assert await desk.carry_out() is None  # recorded once: nothing more to do

    _scenario(database_url, body)
