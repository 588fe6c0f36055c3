"""Redis dies in the middle of a paper session: no order is sent while it is down, and the
session resumes by itself when it is back, still trading exactly as the backtest of the bars."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_backtest.runner import run_engine
from quant_bus.redis_bus import RedisBus
from quant_db.embedded import embedded_redis_url, revive_valkey
from quant_db.journal import PostgresJournal
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import RunStatus, RunType
from quant_engine import BacktestConfig
from quant_engine.paper import PaperSession
from quant_engine.parity import parity_report
from quant_execution.paper_runner import PaperRunner
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource
from quant_strategy import build_strategy, load_strategy_config
from tests.integration.test_outage_redis import _kill

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "strategies" / "momentum_v1.yaml"


def test_a_valkey_crash_mid_session_sends_nothing_and_the_session_resumes_by_itself(
    tmp_path: Path, database_url: str
) -> None:
    state = tmp_path / "valkey"
    redis_url = embedded_redis_url(state)  # this test's own server, killed as a crash would
    bars = SampleSource().get_bars("SP500").loc["2014-01-01":"2018-12-31"]
    first, second = {"SP500": bars.iloc[:600]}, {"SP500": bars.iloc[600:]}
    config = load_strategy_config(CONFIG).updated(
        universe=["SP500"], benchmark=None, start=None, end=None
    )
    bt = BacktestConfig()

    async def main() -> dict[str, Any]:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        try:
            async with sessions.begin() as db:
                db.add(Strategy(id=config.id, class_path=config.class_path, config={}))
                await db.flush()
                run = Run(
                    strategy_id=config.id, type=RunType.PAPER, status=RunStatus.RUNNING, config={}
                )
                db.add(run)
            session = PaperSession(
                build_strategy(config),
                bt,
                calendar="XNYS",
                account="paper",
                journal=PostgresJournal(sessions, run.id, asyncio.get_running_loop()),
            )
            runner = PaperRunner(bus, session, group="execution", name="runner", block_ms=50)
            done = await publish_replay(bus, first, source="test")
            await runner.run_until(done, timeout=60)
            sent = len(session.loop.orders)
            consuming = asyncio.create_task(runner.run_until(len(bars), timeout=60))
            await asyncio.to_thread(_kill, redis_url)
            await asyncio.sleep(0.5)  # the runner's reads fail meanwhile; it keeps trying
            during = len(session.loop.orders) - sent
            assert not consuming.done()
            assert await asyncio.to_thread(revive_valkey, state)
            await publish_replay(bus, second, source="test")
            await consuming  # resumed with no manual step
            return {"paper": runner.close(), "during": during}
        finally:
            await bus.close()
            await engine.dispose()

    got = asyncio.run(main())
    assert got["during"] == 0
    backtest = run_engine(config, {"SP500": bars}, bt, calendar="XNYS", account="paper")
    report = parity_report(got["paper"], backtest)
    assert report.identical, report.summary()
