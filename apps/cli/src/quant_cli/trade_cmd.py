"""`quant trade --mode paper`: a paper session over a replay, through the bus and the database."""

# ruff: noqa: PLC0415 - the services, the servers and the strategies load when the command runs
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from quant_cli.data_options import DataOption, replay_range
from quant_cli.errors import fail, user_errors
from quant_engine import BacktestConfig

if TYPE_CHECKING:
    from quant_engine import EngineRun


@user_errors
def trade_command(
    config_path: Annotated[Path, typer.Argument(metavar="CONFIG", help="strategy YAML file")],
    replay: Annotated[
        str,
        typer.Option(help="the stored bars to trade on, FROM..TO (e.g. 2014-01-01..2018-12-31)"),
    ],
    mode: Annotated[str, typer.Option(help="paper (live comes with the brokers)")] = "paper",
    speed: Annotated[str, typer.Option(help="replay pace: 1x, 60x, ... or max")] = "max",
    data: DataOption = None,
) -> None:
    """Paper-trade CONFIG on a replay of stored bars through the bus and the database.

    The data service's replay publishes the bars on Redis Streams; the execution service's
    paper runner trades them (risk gate, kill switch read before every step and on every
    broadcast) and writes every order to PostgreSQL before the paper broker sees it. The
    strategy must be in PAPER mode. At the end the session is lined up with a backtest of the
    same bars (the parity report; exit 1 unless identical).
    """
    if mode != "paper":
        raise fail(f"--mode: {mode!r} is not available; paper is (live comes with the brokers)")
    from quant_backtest.runner import load_frames, run_engine, universe_calendar
    from quant_cli.sources import open_data
    from quant_engine.parity import parity_report
    from quant_marketdata.replay import parse_speed
    from quant_strategy import load_strategy_config

    pace = parse_speed(speed)
    first, last = replay_range(replay)
    config = load_strategy_config(config_path)
    bt = BacktestConfig(start=first, end=last, seed=config.seed)
    source = open_data(data or config.data or "samples")
    frames, _ = load_frames(config, source, bt)
    calendar = universe_calendar(config, source)
    instruments = {symbol: source.instrument(symbol) for symbol in frames}
    console = Console()
    paper, run_id = asyncio.run(_session(config, frames, bt, calendar, instruments, pace))
    console.print(
        f"[bold]{config.id}[/bold] paper session {run_id} on {source.name} {first} .. {last}: "
        f"{len(paper.index)} steps, {len(paper.orders)} orders, {len(paper.fills)} fills, "
        f"final equity {paper.final_equity:,.2f} (stored in the database)"
    )
    backtest = run_engine(
        config, frames, bt, calendar=calendar, instruments=instruments, account="paper"
    )
    report = parity_report(paper, backtest)
    console.print(f"parity with the backtest of the same bars: {report.summary()}")
    if not report.identical:
        raise typer.Exit(1)


async def _session(
    config: Any,
    frames: Any,
    bt: BacktestConfig,
    calendar: str | None,
    instruments: Any,
    pace: float | None,
) -> tuple[EngineRun, str]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from quant_bus.redis_bus import RedisBus
    from quant_db import controls
    from quant_db.embedded import redis_url
    from quant_db.journal import PostgresJournal
    from quant_db.migrate import migrated_url
    from quant_db.settings import get_settings
    from quant_domain import ConfigError, KillSwitchMode, to_decimal
    from quant_engine import build_timeline
    from quant_engine.paper import PaperSession
    from quant_execution.paper_runner import PaperRunner
    from quant_execution.paper_sessions import (
        close_paper_session,
        mark_positions,
        open_paper_session,
        reconcile_at_start,
    )
    from quant_ingestion.bar_stream import publish_replay
    from quant_strategy import build_strategy

    settings = get_settings()
    engine = create_async_engine(migrated_url(settings))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = RedisBus.from_url(redis_url(settings))

    async def mode() -> KillSwitchMode:
        async with sessions() as db:
            return KillSwitchMode((await controls.kill_switch(db)).mode)

    try:
        run_id = await open_paper_session(
            sessions, config.id, config.model_dump(mode="json", by_alias=True)
        )
        feed = f"replay:{run_id}"
        timeline = build_timeline(frames, calendar)
        session = PaperSession(
            build_strategy(config),
            bt,
            calendar=calendar,
            daily=timeline.daily,
            account="paper",
            instruments=instruments,
            journal=PostgresJournal(sessions, run_id, asyncio.get_running_loop()),
        )
        runner = PaperRunner(
            bus,
            session,
            group=f"paper-{run_id}",
            name="execution-1",
            kill_switch=mode,
            source=feed,
            block_ms=200,
        )
        outcome = await reconcile_at_start(sessions, run_id, "paper", session)
        if outcome.state.value != "clean":
            raise ConfigError(
                f"reconciliation found {len(outcome.differences)} difference(s); no order is "
                "sent until they are resolved (GET /v1/reconciliation)",
                field="reconciliation",
            )
        steps = len(timeline)
        stop = asyncio.Event()
        watcher = asyncio.create_task(runner.watch_kill_switch(stop))
        # the data service publishes while the execution service trades, as two processes would
        publisher = asyncio.create_task(publish_replay(bus, frames, source=feed, speed=pace))
        try:
            await runner.run_until(steps, timeout=max(600.0, steps * 0.5))
        finally:
            stop.set()
            await publisher
            await watcher
        result = runner.close()
        ledger = session.ledger
        marks = {
            s: to_decimal(ledger.last[ledger.index[s]])
            for s in ledger.symbols
            if ledger.last[ledger.index[s]] > 0
        }
        await mark_positions(sessions, run_id, marks)
        await close_paper_session(sessions, run_id, result)
        return result, str(run_id)
    finally:
        await bus.close()
        await engine.dispose()
