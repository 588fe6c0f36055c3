"""run(strategy_config, data, BacktestConfig) -> BacktestResult: the one way a backtest happens."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from quant_backtest.metadata import build_metadata
from quant_backtest.result import BacktestResult
from quant_domain import DataNotFoundError
from quant_domain.instruments import Instrument
from quant_engine import (
    BacktestConfig,
    BacktestEngine,
    EngineRun,
    Progress,
    Timeline,
    build_timeline,
)
from quant_engine.backtest import StepObserver
from quant_engine.breaker_watch import BreakerWatch
from quant_engine.compiled_run import CompiledMismatch, compiled_run
from quant_engine.config import EngineChoice
from quant_engine.engine_choice import CompiledUnavailable, choose_path
from quant_engine.excursions import with_excursions
from quant_engine.metrics import compute_metrics, periods_per_year
from quant_engine.risk_policy import RiskPolicy
from quant_marketdata import DataSource
from quant_marketdata.base import run_calendar
from quant_strategy import StrategyConfig, build_strategy, check_symbols


def _bounds(config: StrategyConfig, bt: BacktestConfig) -> tuple[datetime | None, datetime | None]:
    def at(day: date | None, end: bool) -> datetime | None:
        if day is None:
            return None
        return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)

    return at(bt.start or config.start, False), at(bt.end or config.end, True)


def load_frames(
    config: StrategyConfig, data: DataSource, bt: BacktestConfig
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The universe's bars (and the benchmark's) for the run's date range and timeframe.

    With `bt.warmup_bars`, each frame also holds up to that many bars before the start (for
    indicators to fill); `trading_start()` says where trading begins.
    """
    check_symbols(config, data.symbols())
    start, end = _bounds(config, bt)
    timeframe = config.parsed_timeframe
    frames: dict[str, pd.DataFrame] = {}
    fetch_from = None if bt.warmup_bars and start is not None else start
    for symbol in config.universe:
        frame = data.get_bars(symbol, fetch_from, end, timeframe)
        if fetch_from is None and start is not None:
            begin = int(frame.index.searchsorted(start))
            frame = frame.iloc[max(begin - bt.warmup_bars, 0) :]
        if frame.empty or (start is not None and frame.index[-1] < start):
            first = start.date().isoformat() if start else "the start"
            last = end.date().isoformat() if end else "the end"
            raise DataNotFoundError(f"{data.name}: no {symbol} bars between {first} and {last}")
        frames[symbol] = frame
    benchmark = None
    if config.benchmark is not None:
        benchmark = frames.get(config.benchmark)
        if benchmark is None:
            benchmark = data.get_bars(config.benchmark, start, end, timeframe)
    return frames, benchmark


def universe_calendar(config: StrategyConfig, data: DataSource) -> str | None:
    """The calendar whose sessions a run of `config` uses (quant_marketdata.run_calendar)."""
    return run_calendar(data, config.universe)


def trading_start(timeline: Timeline, config: StrategyConfig, bt: BacktestConfig) -> int:
    """First step at or after the run's start: steps before it are warm-up."""
    start, _ = _bounds(config, bt)
    if start is None or not bt.warmup_bars:
        return 0
    return int(timeline.index.searchsorted(start))


def benchmark_curve(
    bars: pd.DataFrame | None, index: pd.DatetimeIndex, capital: float
) -> pd.Series | None:
    """Frictionless buy-and-hold of the benchmark from the first step it trades, on `index`."""
    if bars is None or bars.empty:
        return None
    close = bars["close"].reindex(index).ffill()
    first = close.first_valid_index()
    if first is None:
        return None
    curve: pd.Series = (capital * close / close.loc[first]).fillna(capital)
    return curve.rename("benchmark")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)


def run(
    strategy_config: StrategyConfig,
    data: DataSource,
    config: BacktestConfig,
    *,
    progress: Progress | None = None,
    run_id: str | None = None,
    risk_policy: RiskPolicy | None = None,
) -> BacktestResult:
    """Backtest one strategy config on `data` under `config`; deterministic for a given seed.

    `run_id` names the result (the worker passes the run row's id, so the report and the API
    show one id); without it the result gets a fresh random id. With a `risk_policy` the
    strategy trades under its caps and its breakers run on every step (ADR 0038); the result's
    metadata says where they tripped.
    """
    frames, benchmark_bars = load_frames(strategy_config, data, config)
    calendar = universe_calendar(strategy_config, data)
    instruments = {symbol: data.instrument(symbol) for symbol in frames}
    watch = None
    if risk_policy is not None:
        strategy_config = risk_policy.applied_to(strategy_config)
        watch = BreakerWatch(risk_policy.account)
    engine_run = run_engine(
        strategy_config,
        frames,
        config,
        progress=progress,
        calendar=calendar,
        instruments=instruments,
        observer=watch,
    )
    seed = run_seed(strategy_config, config)
    result = assemble(
        strategy_config, config, data.name, frames, benchmark_bars, engine_run, seed, run_id
    )
    if risk_policy is not None and watch is not None:
        risk = {"policy": risk_policy.model_dump(mode="json"), "trips": watch.summary()}
        result.metadata = replace(result.metadata, risk=risk)
    return result


def run_seed(strategy_config: StrategyConfig, config: BacktestConfig) -> int:
    return config.seed or strategy_config.seed


def run_engine(
    strategy_config: StrategyConfig,
    frames: dict[str, pd.DataFrame],
    config: BacktestConfig,
    *,
    progress: Progress | None = None,
    calendar: str | None = None,
    instruments: Mapping[str, Instrument] | None = None,
    account: str = "backtest",
    observer: StepObserver | None = None,
) -> EngineRun:
    """The engine part of run(): seeded, a fresh strategy, warm-up honoured; no metrics.

    `calendar` names the sessions (see `universe_calendar`); None is the 24-hour calendar.
    `instruments` tells the risk gate which symbols may be sold short (default: all);
    `account` goes into every client order id (a paper session's account, for its parity check).
    `config.engine` picks the path (quant_engine.engine_choice; auto with a risk policy's
    `observer` is the event loop); the result is the same on both, and `EngineRun.engine` says
    which made it. `progress` hears (steps final, steps) on either path, and may stop the run by
    raising.
    """
    seed_everything(run_seed(strategy_config, config))
    strategy = build_strategy(strategy_config)
    timeline = build_timeline(frames, calendar)
    trade_from = trading_start(timeline, strategy_config, config)
    if observer is not None and config.engine is EngineChoice.COMPILED:
        raise CompiledUnavailable(
            "engine: compiled is not possible here: a risk policy's breakers watch every step, "
            "which only the event loop does"
        )
    # a progress callback (the worker's, which cancels by raising from it; the CLI's bar) is
    # heard between the compiled run's chunks as on the event loop, so it keeps auto compiled
    if observer is None and choose_path(strategy, config, instruments) == "compiled":
        try:
            return compiled_run(
                strategy,
                frames,
                timeline,
                config,
                trade_from=trade_from,
                instruments=instruments,
                account=account,
                progress=progress,
            )
        except CompiledMismatch:
            if config.engine is EngineChoice.COMPILED:
                raise
            # auto: the event loop is the reference; run it on a fresh strategy
            seed_everything(run_seed(strategy_config, config))
            strategy = build_strategy(strategy_config)
    return BacktestEngine(config).run(
        strategy,
        timeline,
        progress=progress,
        trade_from=trade_from,
        instruments=instruments,
        account=account,
        observer=observer,
    )


def assemble(
    strategy_config: StrategyConfig,
    config: BacktestConfig,
    source_name: str,
    frames: dict[str, pd.DataFrame],
    benchmark_bars: pd.DataFrame | None,
    engine_run: EngineRun,
    seed: int,
    run_id: str | None = None,
) -> BacktestResult:
    index = engine_run.index
    trades = with_excursions(engine_run.trades, engine_run.fills, frames, config.fill_timing)
    equity = pd.DataFrame(
        {
            "equity": engine_run.equity,
            "cash": engine_run.cash,
            "positions_value": engine_run.positions_value,
            "gross_exposure": engine_run.gross_exposure,
        },
        index=index,
    )
    ppy = config.periods_per_year or periods_per_year(index)
    metrics = compute_metrics(
        np.concatenate(([float(config.initial_capital)], engine_run.equity)),
        periods_per_year=ppy,
        trades=engine_run.trades,  # open trades are counted apart from the closed-trade stats
        exposure=np.concatenate(([0.0], engine_run.gross_exposure)),
        traded_notional=float(engine_run.traded_notional),
        total_fees=float(engine_run.total_fees),
        risk_free_rate=config.risk_free_rate,
    )
    strategy_dump: dict[str, Any] = strategy_config.model_dump(mode="json", by_alias=True)
    backtest_dump: dict[str, Any] = config.model_dump(mode="json")
    metadata = build_metadata(
        strategy_config=strategy_dump,
        backtest_config=backtest_dump,
        frames=frames,
        seed=seed,
        data_source=source_name,
        engine=engine_run.engine,
    )
    return BacktestResult(
        id=run_id or uuid.uuid4().hex,
        strategy_id=strategy_config.id,
        strategy_config=strategy_dump,
        backtest_config=backtest_dump,
        start=index[0].to_pydatetime(),
        end=index[-1].to_pydatetime(),
        equity=equity,
        benchmark=benchmark_curve(benchmark_bars, index, float(config.initial_capital)),
        benchmark_symbol=strategy_config.benchmark,
        trades=trades,
        fills=engine_run.fills,
        orders=engine_run.orders,
        metrics=metrics,
        metadata=metadata,
        prices=frames,
    )
