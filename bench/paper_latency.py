"""Paper trading latency through the services: a step's last bar sent to Redis Streams ->
the execution service's runner -> the order written ahead to PostgreSQL -> filled by the paper
broker and the fill stored. Also the kill switch: a broadcast mode change -> applied by the runner.

Run: .venv/bin/python bench/paper_latency.py [--steps 300] [--symbols 1 100] [--interval-ms 20]
Embedded PostgreSQL and Valkey in a temporary folder (or DATABASE_URL / REDIS_URL), 127.0.0.1
only, bounded in steps. A strategy that trades one symbol each step (it alternates between long
and flat, rotating through the universe), so every step sends one order while every symbol's bar
flows. Steps are published every --interval-ms, so the figure is a step's latency, not a queue's.
Prints p50/p99/max over the steps, and p50/p99 of the kill-switch broadcast over 50 changes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from _machine import describe, load_average
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, KILL_SWITCH, BarClosedEvent, KillSwitchChanged
from quant_db.embedded import database_url, redis_url
from quant_db.journal import PostgresJournal
from quant_db.migrate import upgrade
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_db.settings import StorageSettings
from quant_domain import Bar, KillSwitchMode, MarketState, Signal, SignalDirection
from quant_domain.events import ExecutionReport, OrderFilled
from quant_engine import BacktestConfig
from quant_engine.paper import PaperSession
from quant_execution.paper_runner import PaperRunner
from quant_strategy import Strategy as StrategyBase
from quant_strategy import StrategyConfig, StrategyParams, build_strategy


class Rotate(StrategyBase[StrategyParams]):
    """Each step, one symbol in turn flips between long and flat."""

    def on_start(self) -> None:
        self.count = 0

    def on_market_data(self, bar: Bar) -> None:
        del bar

    def generate_signals(self, state: MarketState) -> list[Signal]:
        self.count += 1
        symbol = self.symbols[self.count % len(self.symbols)]
        held = state.portfolio.position(symbol)
        direction = SignalDirection.FLAT if held else SignalDirection.LONG
        return [Signal(symbol, direction, state.timestamp, strength=0.01)]


async def measure(
    url: str, cache: str, symbols: int, steps: int, interval: float
) -> dict[str, Any]:
    names = [f"S{k:03d}" for k in range(symbols)]
    config = StrategyConfig.model_validate(
        {"id": f"rotate{symbols}", "class": "__main__:Rotate", "universe": names}
    )
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = RedisBus.from_url(cache)
    try:
        async with sessions.begin() as db:
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
            if isinstance(report, OrderFilled):  # filled by the paper broker and stored
                latencies.append(time.perf_counter() - published[report.fill.timestamp])

        journal.report = timed  # type: ignore[method-assign]
        session = PaperSession(
            build_strategy(config),
            BacktestConfig(initial_capital=10_000_000),
            daily=False,
            account="bench",
            journal=journal,
        )
        feed = f"bench:{run.id}"
        runner = PaperRunner(
            bus, session, group=f"bench-{run.id}", name="runner", source=feed, block_ms=5
        )
        index = pd.date_range("2024-03-04 00:00", periods=steps, freq="min", tz="UTC")

        async def publish() -> None:
            for stamp in index.to_pydatetime():
                for name in names:
                    if name == names[-1]:  # the step closes when its last bar is sent
                        published[stamp] = time.perf_counter()
                    await bus.publish(
                        BARS_CLOSED,
                        BarClosedEvent(
                            idempotency_key=f"{feed}:{name}:{stamp.isoformat()}",
                            symbol=name,
                            timeframe="1m",
                            timestamp=stamp,
                            open=100.0,
                            high=100.0,
                            low=100.0,
                            close=100.0,
                            volume=1.0,
                            source=feed,
                            bars_in_step=symbols,
                        ),
                    )
                await asyncio.sleep(interval)

        publisher = asyncio.create_task(publish())
        await runner.run_until(steps, timeout=steps * (interval + 1.0) + 30)
        await publisher
        kill = await kill_switch_latency(bus, runner)
        return {"latencies": latencies, "kill": kill}
    finally:
        await bus.close()
        await engine.dispose()


async def kill_switch_latency(bus: RedisBus, runner: PaperRunner, trials: int = 50) -> list[float]:
    """Broadcast a mode change, then wait until the runner's session has it, `trials` times."""
    stop = asyncio.Event()
    watcher = asyncio.create_task(runner.watch_kill_switch(stop))
    await asyncio.sleep(0.3)
    out = []
    modes = [KillSwitchMode.HALT_ENTRIES, KillSwitchMode.ACTIVE]
    for i in range(trials):
        mode = modes[i % 2]
        t0 = time.perf_counter()
        await bus.broadcast(
            KILL_SWITCH,
            KillSwitchChanged(
                idempotency_key=f"bench-{i}",
                mode=mode,
                previous=modes[(i + 1) % 2],
                changed_by="bench",
                timestamp=datetime.now(UTC),
            ),
        )
        while runner.session.mode is not mode:
            await asyncio.sleep(0.0005)
        out.append(time.perf_counter() - t0)
    stop.set()
    await watcher
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--symbols", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--interval-ms", type=float, default=20.0)
    args = parser.parse_args()
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as state:
        settings = StorageSettings(
            database_url=os.environ.get("DATABASE_URL"),
            redis_url=os.environ.get("REDIS_URL"),
            quant_state_dir=Path(state),
        )
        url, cache = database_url(settings), redis_url(settings)
        upgrade(url)
        print(
            f"{'symbols':>7} {'steps':>6} {'bar -> filled p50 ms':>21} {'p99 ms':>8} "
            f"{'max ms':>8} {'kill switch p50 ms':>19} {'p99 ms':>8}"
        )
        for symbols in args.symbols:
            got = asyncio.run(measure(url, cache, symbols, args.steps, args.interval_ms / 1000))
            lat, kill = got["latencies"], got["kill"]
            print(
                f"{symbols:>7} {len(lat):>6} {_pct(lat, 0.5):>21.1f} {_pct(lat, 0.99):>8.1f} "
                f"{max(lat) * 1000:>8.1f} {_pct(kill, 0.5):>19.2f} {_pct(kill, 0.99):>8.2f}"
            )
            print(
                f"   (n = {len(lat)} orders, {len(kill)} kill-switch changes; mean "
                f"{statistics.mean(lat) * 1000:.1f} ms)"
            )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
