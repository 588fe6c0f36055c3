"""`quant trade --mode paper`: paper sessions over a replay, through the bus and the database."""

# ruff: noqa: PLC0415 - the services, the servers and the strategies load when the command runs
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from quant_cli.data_options import DataOption, replay_range
from quant_cli.errors import fail, user_errors
from quant_engine import BacktestConfig

if TYPE_CHECKING:
    from quant_engine import EngineRun


@dataclass
class Book:
    """One strategy of the session: its config, bars, settings (its budget as capital)."""

    config: Any
    frames: Any
    bt: BacktestConfig
    calendar: str | None
    instruments: Any


@user_errors
def trade_command(
    config_paths: Annotated[
        list[Path], typer.Argument(metavar="CONFIG...", help="strategy YAML files (one or more)")
    ],
    replay: Annotated[
        str,
        typer.Option(help="the stored bars to trade on, FROM..TO (e.g. 2014-01-01..2018-12-31)"),
    ],
    mode: Annotated[str, typer.Option(help="paper (live comes with the brokers)")] = "paper",
    speed: Annotated[str, typer.Option(help="replay pace: 1x, 60x, ... or max")] = "max",
    data: DataOption = None,
) -> None:
    """Paper-trade each CONFIG on a replay of stored bars through the bus and the database.

    The data service's replay publishes the bars on Redis Streams; the execution service's
    paper runner trades them (risk gate, kill switch read before every step and on every
    broadcast) and writes every order to PostgreSQL before the paper broker sees it. Every
    strategy must be in PAPER mode. Several share the paper account, each with its own book
    funded by its `budget` (the budgets must fit the account's capital). At the end each session
    is lined up with a backtest of the same bars (the parity report; exit 1 unless identical).
    """
    if mode != "paper":
        raise fail(f"--mode: {mode!r} is not available; paper is (live comes with the brokers)")
    from quant_backtest.runner import load_frames, run_engine, universe_calendar
    from quant_cli.sources import open_data
    from quant_engine.account import allocate, book_config
    from quant_engine.parity import parity_report
    from quant_marketdata.replay import parse_speed
    from quant_strategy import load_strategy_config

    pace = parse_speed(speed)
    first, last = replay_range(replay)
    configs = [load_strategy_config(path) for path in config_paths]
    allocation = allocate("paper", BacktestConfig().initial_capital, configs)
    books = []
    for config in configs:
        bt = book_config(
            BacktestConfig(start=first, end=last, seed=config.seed),
            allocation.budgets[config.id],
        )
        source = open_data(data or config.data or "samples")
        frames, _ = load_frames(config, source, bt)
        instruments = {symbol: source.instrument(symbol) for symbol in frames}
        books.append(Book(config, frames, bt, universe_calendar(config, source), instruments))
    console = Console()
    results = asyncio.run(_session(books, pace))
    identical = True
    for book, (paper, run_id) in zip(books, results, strict=True):
        console.print(
            f"[bold]{book.config.id}[/bold] paper session {run_id} {first} .. {last}: "
            f"{len(paper.index)} steps, {len(paper.orders)} orders, {len(paper.fills)} fills, "
            f"final equity {paper.final_equity:,.2f} (stored in the database)"
        )
        backtest = run_engine(
            book.config,
            book.frames,
            book.bt,
            calendar=book.calendar,
            instruments=book.instruments,
            account="paper",
        )
        report = parity_report(paper, backtest)
        identical = identical and report.identical
        console.print(f"parity with the backtest of the same bars: {report.summary()}")
    if not identical:
        raise typer.Exit(1)


async def _session(books: list[Book], pace: float | None) -> list[tuple[EngineRun, str]]:
    """Every book's paper session on one replay of the union of their bars."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from quant_bus.redis_bus import RedisBus
    from quant_db import controls
    from quant_db.embedded import redis_url
    from quant_db.migrate import migrated_url
    from quant_db.settings import get_settings
    from quant_domain import KillSwitchMode
    from quant_execution.paper_sessions import require_paper
    from quant_ingestion.bar_stream import publish_replay

    settings = get_settings()
    engine = create_async_engine(migrated_url(settings))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = RedisBus.from_url(redis_url(settings))

    async def mode() -> KillSwitchMode:
        async with sessions() as db:
            return KillSwitchMode((await controls.kill_switch(db)).mode)

    try:
        await require_paper(sessions, [book.config.id for book in books])
        feed = f"replay:{uuid.uuid4()}"
        opened = [await _open(book, sessions, bus, mode, feed) for book in books]
        bars = {s: f for book in books for s, f in book.frames.items()}
        stop = asyncio.Event()
        watchers = [asyncio.create_task(r.watch_kill_switch(stop)) for _, r, _ in opened]
        # the data service publishes while the execution service trades, as two processes would
        publisher = asyncio.create_task(publish_replay(bus, bars, source=feed, speed=pace))
        try:
            await asyncio.gather(
                *(r.run_until(n, timeout=max(600.0, n * 0.5)) for _, r, n in opened)
            )
        finally:
            stop.set()
            await publisher
            for watcher in watchers:
                await watcher
        return [await _finish(sessions, run_id, runner) for run_id, runner, _ in opened]
    finally:
        await bus.close()
        await engine.dispose()


async def _open(book: Book, sessions: Any, bus: Any, mode: Any, feed: str) -> tuple[Any, Any, int]:
    """The book's run (type paper), its session and runner, reconciled; and its step count."""
    from quant_db.journal import PostgresJournal
    from quant_domain import ConfigError
    from quant_engine import build_timeline
    from quant_engine.paper import PaperSession
    from quant_execution.paper_runner import PaperRunner
    from quant_execution.paper_sessions import open_paper_session, reconcile_at_start
    from quant_strategy import build_strategy

    config = book.config
    run_id = await open_paper_session(
        sessions, config.id, config.model_dump(mode="json", by_alias=True)
    )
    timeline = build_timeline(book.frames, book.calendar)
    session = PaperSession(
        build_strategy(config),
        book.bt,
        calendar=book.calendar,
        daily=timeline.daily,
        account="paper",
        instruments=book.instruments,
        journal=PostgresJournal(sessions, run_id, asyncio.get_running_loop()),
    )
    runner = PaperRunner(
        bus,
        session,
        group=f"paper-{run_id}",
        name="execution-1",
        kill_switch=mode,
        source=feed,
        symbols=config.universe,
        block_ms=200,
    )
    outcome = await reconcile_at_start(sessions, run_id, "paper", session)
    if outcome.state.value != "clean":
        raise ConfigError(
            f"{config.id}: reconciliation found {len(outcome.differences)} difference(s); no "
            "order is sent until they are resolved (GET /v1/reconciliation)",
            field="reconciliation",
        )
    return run_id, runner, len(timeline)


async def _finish(sessions: Any, run_id: Any, runner: Any) -> tuple[EngineRun, str]:
    """Close the session (working orders cancelled), value its positions, store its figures."""
    from quant_domain import to_decimal
    from quant_execution.paper_sessions import close_paper_session, mark_positions

    result = runner.close()
    ledger = runner.session.ledger
    marks = {
        s: to_decimal(ledger.last[ledger.index[s]])
        for s in ledger.symbols
        if ledger.last[ledger.index[s]] > 0
    }
    await mark_positions(sessions, run_id, marks)
    await close_paper_session(sessions, run_id, result)
    return result, str(run_id)
