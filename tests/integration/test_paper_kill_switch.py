"""The kill switch stops a paper session's orders through the services: read before every step,
and applied at once when its change is broadcast.

Every step waits on PostgreSQL a few times (the mode, the journal), so on a loaded machine a
replay of 1,760 steps takes minutes where it takes seconds alone: the waits below bound the time
without progress (no step in a minute, no subscriber, no flatten), never the replay's total.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import KILL_SWITCH, KillSwitchChanged
from quant_db import controls
from quant_db.journal import PostgresJournal
from quant_db.schema import Run, Strategy, User
from quant_db.schema.identity import Role
from quant_db.schema.runs import RunStatus, RunType
from quant_domain import KillSwitchMode, OrderSide, OrderStatus
from quant_engine import BacktestConfig
from quant_engine.paper import PaperSession
from quant_execution.paper_runner import PaperRunner
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource
from quant_strategy import build_strategy, load_strategy_config
from tests.integration.test_paper_through_services import url  # noqa: F401 - the fixture

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "strategies" / "momentum_v1.yaml"
FRAMES = {"SP500": SampleSource().get_bars("SP500").loc["2012-01-01":"2018-12-31"]}  # type: ignore[misc]
STALL_S = 60.0  # the longest a wait may go without progress before the test fails
SLICE = 100  # steps run per call of run_until: each slice has STALL_S


async def run_through(runner: PaperRunner, steps: int) -> None:
    """Run the session up to `steps` in slices, each of which must finish within STALL_S: a
    stuck runner fails within a minute, a slow machine's long replay does not."""
    while runner.processed < steps:
        await runner.run_until(min(runner.processed + SLICE, steps), timeout=STALL_S)


async def within(seconds: float, done: Callable[[], bool]) -> None:
    """Poll `done()` until it is true, at most `seconds`."""
    async with asyncio.timeout(seconds):
        while not done():
            await asyncio.sleep(0.02)


async def subscribed(redis_url: str, channel: str) -> None:
    """Wait until someone listens on `channel` (the watcher's SUBSCRIBE has reached the server):
    a broadcast sent before that reaches nobody."""
    client = Redis.from_url(redis_url)
    try:
        async with asyncio.timeout(STALL_S):
            while not dict(await client.pubsub_numsub(channel)).get(channel.encode()):
                await asyncio.sleep(0.02)
    finally:
        await client.aclose()


async def _set_mode(
    sessions: async_sessionmaker[AsyncSession], mode: KillSwitchMode, reason: str
) -> None:
    async with sessions.begin() as db:
        user = await db.get(User, 1)
        assert user is not None
        await controls.set_kill_switch_mode(
            db, user=user, mode=mode, reason=reason, request_id="test", via="test"
        )


async def _mode(sessions: async_sessionmaker[AsyncSession]) -> KillSwitchMode:
    async with sessions() as db:
        return KillSwitchMode((await controls.kill_switch(db)).mode)


def _scenario(database_url: str, redis_url: str, body: Any) -> Any:
    config = load_strategy_config(CONFIG).updated(benchmark=None, start=None, end=None)

    async def main() -> Any:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        try:
            async with sessions.begin() as db:
                db.add(Strategy(id=config.id, class_path=config.class_path, config={}))
                db.add(User(id=1, username="admin", password_hash="x", role=Role.ADMIN))
                await db.flush()
                run = Run(
                    strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={}
                )
                db.add(run)
            steps = await publish_replay(bus, FRAMES, source="test")
            journal = PostgresJournal(sessions, run.id, asyncio.get_running_loop())
            session = PaperSession(
                build_strategy(config), BacktestConfig(), calendar="XNYS", journal=journal
            )
            runner = PaperRunner(
                bus,
                session,
                group="execution",
                name="execution-1",
                kill_switch=lambda: _mode(sessions),
                block_ms=50,
            )
            return await body(bus, sessions, runner, steps)
        finally:
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


def test_halt_entries_set_in_the_database_holds_from_the_next_step(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def body(bus: Any, sessions: Any, runner: PaperRunner, steps: int) -> Any:
        await run_through(runner, 600)
        await _set_mode(sessions, KillSwitchMode.HALT_ENTRIES, "broker outage")
        halted_at = runner.session.timeline.times[-1]
        await run_through(runner, steps)
        return halted_at, runner.close()

    halted_at, run = _scenario(database_url, url, body)
    later = [r for r in run.orders if r.submitted_at > halted_at]
    buys = [r for r in later if r.order.side is OrderSide.BUY]
    sells = [r for r in later if r.order.side is OrderSide.SELL]
    assert buys
    assert all((r.status, r.code) == (OrderStatus.REJECTED, "HALT_ENTRIES") for r in buys)
    assert all(r.status is OrderStatus.FILLED for r in sells)  # reductions still pass


def test_a_broadcast_flatten_and_halt_closes_the_position_without_waiting_for_a_bar(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def body(bus: Any, sessions: Any, runner: PaperRunner, steps: int) -> Any:
        stop = asyncio.Event()
        watcher = asyncio.create_task(runner.watch_kill_switch(stop))
        await subscribed(url, KILL_SWITCH)
        while not runner.session.ledger.held:  # run until a position is open
            await runner.run_until(runner.processed + 1, timeout=STALL_S)
        await _set_mode(sessions, KillSwitchMode.FLATTEN_AND_HALT, "drawdown")
        await bus.broadcast(
            KILL_SWITCH,
            KillSwitchChanged(
                idempotency_key="ks-1",
                mode=KillSwitchMode.FLATTEN_AND_HALT,
                previous=KillSwitchMode.ACTIVE,
                changed_by="admin",
                reason="drawdown",
                timestamp=datetime.now(UTC),
            ),
        )
        # nothing consumes bars meanwhile (run_until is not running): a flat book here was
        # flattened by the broadcast alone; on a loaded machine its orders take a while
        with contextlib.suppress(TimeoutError):
            await within(STALL_S, lambda: not runner.session.ledger.held)
        flat_between_bars = not runner.session.ledger.held
        await run_through(runner, steps)
        stop.set()
        await watcher
        return flat_between_bars, runner.close()

    flat_between_bars, run = _scenario(database_url, url, body)
    assert flat_between_bars
    assert run.final_positions == {}
    flattened = [r for r in run.orders if r.order.reason == "kill switch: flatten_and_halt"]
    assert [r.status for r in flattened] == [OrderStatus.FILLED]
    after = run.orders[run.orders.index(flattened[0]) + 1 :]
    assert after
    assert all(r.code == "FLATTEN_AND_HALT" for r in after)
