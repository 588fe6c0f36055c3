"""The long-running execution service: a strategy moved to PAPER starts trading on the feed's bars
(warmed up on stored history, every order written down first, an equity point per step), trades
as a backtest with the same warm-up does, and stops with its working orders cancelled when it
leaves PAPER. Real PostgreSQL and Valkey (embedded)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_backtest.runner import load_frames, run_engine
from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, dead_letter_stream
from quant_db.schema import EquityPoint, Order, Position, Run, Strategy
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_domain import OrderStatus
from quant_engine import BacktestConfig
from quant_engine.parity import parity_report
from quant_execution.service import ExecutionService
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource
from quant_strategy import StrategyConfig, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "strategies"
FEED = "replay:test"
OPEN = {OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED, OrderStatus.ACCEPTED}


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    yield redis_url
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    client.close()


def momentum() -> StrategyConfig:
    return load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        benchmark=None, start=None, end=None
    )


async def until(
    check: Callable[[], Awaitable[bool] | bool],
    timeout: float = 60.0,
    progress: Callable[[], object] | None = None,
) -> None:
    """Poll `check` until it holds, failing after `timeout` seconds without progress. Every
    step of a session waits on PostgreSQL a few times (the mode, the equity point, the step's
    mark), so a replay of 750 steps takes seconds alone and minutes on a loaded machine: with
    `progress` (the steps run so far) each change restarts the clock, so only a stuck session
    fails."""
    loop = asyncio.get_running_loop()
    last = progress() if progress is not None else None
    async with asyncio.timeout(timeout) as limit:
        while True:
            got = check()
            if got if isinstance(got, bool) else await got:
                return
            if progress is not None and (now := progress()) != last:
                last = now
                limit.reschedule(loop.time() + timeout)
            await asyncio.sleep(0.02)


def with_service(
    database_url: str,
    redis_url: str,
    scenario: Callable[
        [ExecutionService, async_sessionmaker[AsyncSession], RedisBus], Awaitable[Any]
    ],
) -> Any:
    async def main() -> Any:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        service = ExecutionService(
            sessions, bus, SampleSource(), feed=FEED, poll_s=0.05, block_ms=20
        )
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        try:
            await asyncio.wait_for(service.ready.wait(), timeout=30)
            return await scenario(service, sessions, bus)
        finally:
            stop.set()
            await running
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


async def register(
    sessions: async_sessionmaker[AsyncSession], config: StrategyConfig, mode: Mode
) -> None:
    async with sessions.begin() as db:
        db.add(
            Strategy(
                id=config.id,
                class_path=config.class_path,
                config=config.model_dump(mode="json", by_alias=True),
                mode=mode,
            )
        )


async def set_mode(sessions: async_sessionmaker[AsyncSession], strategy: str, mode: Mode) -> None:
    async with sessions.begin() as db:
        await db.execute(update(Strategy).where(Strategy.id == strategy).values(mode=mode))


def test_a_strategy_moved_to_paper_trades_the_feed_as_its_backtest_and_stops_when_it_leaves(
    database_url: str, url: str
) -> None:
    config = momentum()
    source = SampleSource()
    first, last = date(2014, 1, 1), date(2016, 12, 31)
    frames = {"SP500": source.get_bars("SP500").loc[str(first) : str(last)]}

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> dict[str, Any]:
        await register(sessions, config, Mode.BACKTEST)
        await asyncio.sleep(0.2)
        assert service.trading == {}  # BACKTEST mode: nothing trades
        await set_mode(sessions, config.id, Mode.PAPER)
        await until(lambda: config.id in service.trading)
        trading = service.trading[config.id]
        steps = await publish_replay(bus, frames, source=FEED)  # the data service
        await until(
            lambda: trading.runner.processed == steps, progress=lambda: trading.runner.processed
        )
        paper = trading.session.result()
        await until(lambda: points(sessions, trading.run_id, steps))
        async with sessions() as db:
            marked = await db.scalar(
                select(func.count())
                .select_from(Position)
                .where(Position.run_id == trading.run_id, Position.last_price.is_not(None))
            )
        await set_mode(sessions, config.id, Mode.BACKTEST)
        await until(lambda: config.id not in service.trading)
        async with sessions() as db:
            run = await db.get(Run, trading.run_id)
            statuses = (
                await db.scalars(select(Order.status).where(Order.run_id == trading.run_id))
            ).all()
        return {
            "paper": paper,
            "steps": steps,
            "marked": marked,
            "run": run,
            "statuses": statuses,
        }

    got = with_service(database_url, url, scenario)
    # `quant backtest` over the same bars, warmed up on the same stored bars before the start
    bt = BacktestConfig(start=first, end=last, warmup_bars=config.params["slow"])
    full, _ = load_frames(config, source, bt)
    backtest = run_engine(config, full, bt, calendar="XNYS", account="paper")
    report = parity_report(got["paper"], backtest)
    assert report.identical, report.summary()
    assert len(got["paper"].orders) > 3
    assert got["marked"] >= 1  # the positions page shows market values
    run = got["run"]
    assert run.type is RunType.PAPER
    assert run.status is RunStatus.COMPLETED
    assert run.message == "its strategy left PAPER mode"
    assert run.processed == got["steps"]
    assert not OPEN & {OrderStatus(s) for s in got["statuses"]}  # nothing left working


async def points(sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID, n: int) -> bool:
    async with sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(EquityPoint).where(EquityPoint.run_id == run_id)
        )
    return count == n


def test_a_paper_run_left_running_by_a_killed_service_is_closed_as_interrupted_at_start(
    database_url: str, url: str
) -> None:
    config = momentum()

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> Run | None:
        async with sessions() as db:
            return (await db.scalars(select(Run).where(Run.type == RunType.PAPER))).first()

    async def seed() -> None:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        await register(sessions, config, Mode.BACKTEST)
        async with sessions.begin() as db:
            db.add(
                Run(strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={})
            )
        await engine.dispose()

    asyncio.run(seed())
    run = with_service(database_url, url, scenario)
    assert run is not None
    assert run.status is RunStatus.FAILED
    assert "interrupted" in (run.error or "")


def test_strategies_share_the_account_within_their_budgets_and_one_that_does_not_fit_is_refused(
    database_url: str, url: str
) -> None:
    fits = [
        momentum().updated(budget=Decimal(60_000)),
        load_strategy_config(CONFIGS / "buy_and_hold.yaml").updated(
            benchmark=None, start=None, end=None, budget=Decimal(40_000)
        ),
    ]
    too_much = momentum().updated(id="momentum_big", budget=Decimal(1_000))
    frames = {"SP500": SampleSource().get_bars("SP500").loc["2015-01-01":"2015-12-31"]}

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> dict[str, Any]:
        for config in fits:
            await register(sessions, config, Mode.PAPER)
        await until(lambda: len(service.trading) == 2)
        await register(sessions, too_much, Mode.PAPER)
        await until(lambda: "momentum_big" in service.refused)
        steps = await publish_replay(bus, frames, source=FEED)
        await until(
            lambda: all(t.runner.processed == steps for t in service.trading.values()),
            progress=lambda: [t.runner.processed for t in service.trading.values()],
        )
        async with sessions() as db:
            rows = (await db.execute(select(Position.strategy_id, Position.quantity))).all()
        return {
            "refused": service.refused["momentum_big"],
            "positions": dict(rows),
            "summary": service.summary(),
        }

    got = with_service(database_url, url, scenario)
    assert "budgets add up to" in got["refused"] or "more than" in got["refused"]
    assert set(got["positions"]) == {"momentum_v1", "buy_and_hold"}  # attributed per strategy
    assert got["positions"]["buy_and_hold"] > 0
    books = {book["strategy_id"]: book for book in got["summary"]["books"]}
    assert Decimal(str(books["buy_and_hold"]["budget"])) == Decimal(40_000)
