"""A paper order round trip through the services' parts: a bar on Redis Streams -> the paper
runner -> the order written ahead to PostgreSQL -> filled by the paper broker and stored."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pandas as pd
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, BarClosedEvent
from quant_db.journal import PostgresJournal
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_domain import Bar, MarketState, Signal, SignalDirection
from quant_domain.events import ExecutionReport, OrderFilled
from quant_engine import BacktestConfig
from quant_engine.paper import PaperSession
from quant_execution.paper_runner import PaperRunner
from quant_strategy import Strategy as StrategyBase
from quant_strategy import StrategyConfig, StrategyParams, build_strategy


class Flip(StrategyBase[StrategyParams]):
    """Every step, long then flat in turn: one order per step."""

    def on_market_data(self, bar: Bar) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        symbol = self.symbols[0]
        held = state.portfolio.position(symbol)
        direction = SignalDirection.FLAT if held else SignalDirection.LONG
        return [Signal(symbol, direction, state.timestamp, strength=0.01)]


async def round_trips(url: str, cache: str, steps: int, interval: float) -> list[float]:
    """Seconds from each step's bar handed to XADD to its order filled and stored."""
    config = StrategyConfig.model_validate(
        {"id": "flip", "class": f"{__name__}:Flip", "universe": ["SPY"]}
    )
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = RedisBus.from_url(cache)
    try:
        async with sessions.begin() as db:
            if await db.get(Strategy, config.id) is None:
                db.add(Strategy(id=config.id, class_path="x:Y", config={}, mode=Mode.PAPER))
                await db.flush()
            run = Run(
                strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={}
            )
            db.add(run)
        published: dict[datetime, float] = {}
        latencies: list[float] = []
        journal = PostgresJournal(sessions, run.id, asyncio.get_running_loop())
        stored = journal.report

        def timed(report: ExecutionReport) -> None:
            stored(report)
            if isinstance(report, OrderFilled):
                latencies.append(time.perf_counter() - published[report.fill.timestamp])

        journal.report = timed  # type: ignore[method-assign]
        session = PaperSession(
            build_strategy(config),
            BacktestConfig(initial_capital=1_000_000),
            daily=False,
            account=f"iso-{run.id}",
            journal=journal,
        )
        feed = f"iso:{run.id}"
        runner = PaperRunner(
            bus, session, group=f"iso-{run.id}", name="r", source=feed, block_ms=5, new_only=True
        )
        index = pd.date_range("2024-03-04 14:30", periods=steps, freq="min", tz="UTC")

        async def publish() -> None:
            for stamp in index.to_pydatetime():
                published[stamp] = time.perf_counter()
                await bus.publish(
                    BARS_CLOSED,
                    BarClosedEvent(
                        idempotency_key=f"{feed}:SPY:{stamp.isoformat()}",
                        symbol="SPY",
                        timeframe="1m",
                        timestamp=stamp,
                        open=100.0,
                        high=100.0,
                        low=100.0,
                        close=100.0,
                        volume=1.0,
                        source=feed,
                        bars_in_step=1,
                    ),
                )
                await asyncio.sleep(interval)

        await bus.join(runner.consumer)  # the group exists before the first bar: none is missed
        publisher = asyncio.create_task(publish())
        await runner.run_until(steps, timeout=steps * (interval + 1.0) + 30)
        await publisher
        return latencies
    finally:
        await bus.close()
        await engine.dispose()
