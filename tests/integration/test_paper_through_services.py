"""Paper trading end to end: data service -> Redis Streams -> execution service -> paper broker ->
PostgreSQL trades exactly as a backtest of the same bars (orders, client order ids, fills)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_backtest.runner import run_engine
from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, dead_letter_stream
from quant_db.journal import PostgresJournal
from quant_db.schema import Fill, Order, Run, Strategy
from quant_db.schema.runs import RunStatus, RunType
from quant_engine import BacktestConfig, build_timeline
from quant_engine.paper import PaperSession
from quant_engine.parity import parity_report
from quant_execution.paper_runner import PaperRunner
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource, SyntheticSource
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "strategies"


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    yield redis_url
    client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
    client.close()


def _through_the_services(
    database_url: str,
    redis_url: str,
    config: StrategyConfig,
    frames: dict[str, pd.DataFrame],
    bt: BacktestConfig,
    calendar: str | None,
) -> dict[str, Any]:
    daily = build_timeline(frames, calendar).daily

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
            steps = await publish_replay(bus, frames, source="test")  # the data service
            journal = PostgresJournal(sessions, run.id, asyncio.get_running_loop())
            session = PaperSession(
                build_strategy(config),
                bt,
                calendar=calendar,
                daily=daily,
                account="paper",
                journal=journal,
            )
            runner = PaperRunner(bus, session, group="execution", name="execution-1", block_ms=50)
            await runner.run_until(steps, timeout=120)  # the execution service
            paper = runner.close()
            async with sessions() as db:
                orders = await db.scalar(
                    select(func.count()).select_from(Order).where(Order.run_id == run.id)
                )
                fills = await db.scalar(
                    select(func.count()).select_from(Fill).where(Fill.run_id == run.id)
                )
                pending = await bus.pending(BARS_CLOSED, "execution")
            return {"paper": paper, "orders": orders, "fills": fills, "pending": pending}
        finally:
            await bus.close()
            await engine.dispose()

    got = asyncio.run(main())
    got["backtest"] = run_engine(
        config, frames, bt, calendar=calendar, account="paper"
    )  # `quant backtest` over the same bars and config
    return got


def _config(name: str, universe: list[str], **risk: Any) -> StrategyConfig:
    config = load_strategy_config(CONFIGS / f"{name}.yaml").updated(
        universe=universe, benchmark=None, start=None, end=None
    )
    return config.updated(risk=config.risk.model_copy(update=risk)) if risk else config


def test_five_years_of_the_sp500_sample_trade_identically_through_the_services(
    database_url: str, url: str
) -> None:
    frames = {"SP500": SampleSource().get_bars("SP500").loc["2014-01-01":"2018-12-31"]}  # type: ignore[misc]
    got = _through_the_services(
        database_url, url, _config("momentum_v1", ["SP500"]), frames, BacktestConfig(), "XNYS"
    )
    report = parity_report(got["paper"], got["backtest"])
    assert report.identical, report.summary()
    assert got["orders"] == len(got["paper"].orders) > 5
    assert got["fills"] == len(got["paper"].fills)
    assert got["pending"] == 0  # every bar acknowledged after its commit


def test_a_five_symbol_daily_book_trades_identically_through_the_services(
    database_url: str, url: str
) -> None:
    source = SyntheticSource(seed=5, n_symbols=5, n_bars=1260)
    symbols = [f"SYN00{k}" for k in range(5)]
    frames = {s: source.get_bars(s) for s in symbols}
    bt = BacktestConfig(start=date(2000, 1, 1))
    got = _through_the_services(
        database_url,
        url,
        _config("momentum_v1", symbols, allow_short=True),
        frames,
        bt,
        None,
    )
    report = parity_report(got["paper"], got["backtest"])
    assert report.identical, report.summary()
    assert got["orders"] == len(got["paper"].orders) > 50
