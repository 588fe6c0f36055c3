"""A paper runner in a process of its own, for the crash specs (test_paper_crash.py).

It composes the real pieces as the execution service does (RedisBus, PostgresJournal,
`PaperRunner.resume` with a `Recovery` reading the stream's history) and trades the scenario's
feed to its end, then writes what it did as JSON. Told `--crash POINT:N`, it wraps the journal
or the session (never production code) and SIGKILLs itself at that point:

- `pending:N`  right after the N-th order row committed, before the paper broker sees it;
- `accepted:N` right after the N-th acceptance by the broker was stored, before the step is
  marked and its bars acknowledged;
- `step:N`     as the N-th step starts, in the middle of the bus batch that holds it.

Run as `python -m tests.integration.paper_crash_child DATABASE_URL REDIS_URL RUN_ID OUT [--crash ..]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_backtest.runner import run_engine
from quant_bus.redis_bus import RedisBus
from quant_db import controls
from quant_db.journal import PostgresJournal
from quant_domain import KillSwitchMode
from quant_domain.events import ExecutionReport, OrderAccepted
from quant_domain.ports import OrderJournal
from quant_engine import BacktestConfig, EngineRun
from quant_engine.config import FillTiming
from quant_engine.paper import PaperSession, equal_runs
from quant_engine.parity import parity_report
from quant_execution.paper_runner import PaperRunner
from quant_execution.recovery import Recovery, stream_history
from quant_marketdata import SyntheticSource
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "strategies" / "momentum_v1.yaml"
SYMBOLS = ["SYN000", "SYN001", "SYN002"]
BATCH = 40  # bus entries per batch: 13 steps of 3 bars and a third of one


def scenario() -> tuple[StrategyConfig, dict[str, pd.DataFrame], BacktestConfig]:
    """The strategy, bars and settings every process of a crash spec uses."""
    config = load_strategy_config(CONFIG).updated(
        universe=SYMBOLS, benchmark=None, start=None, end=None, params={"fast": 5, "slow": 15}
    )
    config = config.updated(risk=config.risk.model_copy(update={"allow_short": True}))
    source = SyntheticSource(seed=11, n_symbols=len(SYMBOLS), n_bars=240)
    frames = {s: source.get_bars(s) for s in SYMBOLS}
    # next-open fills: each order is accepted by the broker in one step and filled in the next
    bt = BacktestConfig(start=date(2000, 1, 1), fill_timing=FillTiming.NEXT_OPEN)
    return config, frames, bt


def backtest() -> EngineRun:
    config, frames, bt = scenario()
    return run_engine(config, frames, bt, account="paper")


def feed(run_id: uuid.UUID) -> str:
    return f"replay:{run_id}"


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _crashing(session: PaperSession, journal: PostgresJournal, point: str, n: int) -> None:
    """Wrap the session's journal or its on_bars so the process dies at `point` (the N-th)."""
    count = [0]

    def counted() -> bool:
        count[0] += 1
        return count[0] == n

    if point == "pending":
        real_pending = journal.pending

        def pending(order: Any, at: Any) -> None:
            real_pending(order, at)
            if counted():
                _kill()

        journal.pending = pending  # type: ignore[method-assign]
    elif point == "accepted":
        real_report = journal.report

        def report(report: ExecutionReport) -> None:
            real_report(report)
            if isinstance(report, OrderAccepted) and counted():
                _kill()

        journal.report = report  # type: ignore[method-assign]
    elif point == "step":
        real_on_bars = session.on_bars

        def on_bars(now: Any, bars: Any, *, final: bool = False) -> None:
            if counted():
                _kill()
            real_on_bars(now, bars, final=final)

        session.on_bars = on_bars  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown crash point {point!r}")


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    config, frames, bt = scenario()
    run_id = uuid.UUID(args.run_id)
    engine = create_async_engine(args.database_url)
    sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(engine, expire_on_commit=False)
    bus = RedisBus.from_url(args.redis_url)
    client = Redis.from_url(args.redis_url, decode_responses=True)

    def build(journal: OrderJournal) -> PaperSession:
        session = PaperSession(build_strategy(config), bt, account="paper", journal=journal)
        if args.crash:
            point, n = args.crash.split(":")
            assert isinstance(journal, PostgresJournal)
            _crashing(session, journal, point, int(n))
        return session

    async def mode() -> KillSwitchMode:
        async with sessions() as db:
            return KillSwitchMode((await controls.kill_switch(db)).mode)

    async def history() -> Any:
        return await stream_history(client, feed(run_id), group=f"paper-{run_id}")

    try:
        recovery = Recovery(sessions, run_id, build, history)
        runner = await PaperRunner.resume(
            bus,
            recovery,
            group=f"paper-{run_id}",
            name="execution-1",
            kill_switch=mode,
            source=feed(run_id),
            block_ms=50,
            batch=BATCH,
            claim_idle_ms=500,
        )
        restored = runner.processed
        steps = len(next(iter(frames.values())))
        await runner.run_until(steps, timeout=180)
        paper = runner.close()
        expected = backtest()
        report = parity_report(paper, expected)
        return {
            "restored": restored,
            "processed": runner.processed,
            "skipped": runner.skipped,
            "problems": equal_runs(paper, expected),
            "identical": report.identical,
            "summary": report.summary(),
            "orders": len(paper.orders),
            "fills": len(paper.fills),
        }
    finally:
        await client.aclose()
        await bus.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("redis_url")
    parser.add_argument("run_id")
    parser.add_argument("out", type=Path)
    parser.add_argument("--crash", default="")
    args = parser.parse_args()
    outcome = asyncio.run(_main(args))
    args.out.write_text(json.dumps(outcome))


if __name__ == "__main__":
    main()
