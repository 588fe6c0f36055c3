"""Evaluates a parameter grid over in-sample windows, in parallel worker processes.

One task is one combination: a worker builds the strategy once and runs it over every window
(and the full span, for PBO), keeping only scores, trade counts and the full-span returns, so a
worker's memory is one copy of the prices plus one run at a time. With the fork start method the
prices are shared copy-on-write, never pickled.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pandas as pd

from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_engine.metrics import sharpe_per_period, simple_returns
from quant_engine.objectives import Objective, score
from quant_engine.sessions import session_calendar
from quant_engine.vectorised import PriceMatrix, simulate, unsupported_reason
from quant_strategy import Strategy, StrategyConfig, build_strategy


@dataclass(frozen=True, slots=True)
class Span:
    """Trade from `start` to `end` (inclusive dates), with warm-up bars before `start`."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class SpanData:
    frames: dict[str, pd.DataFrame]
    prices: PriceMatrix
    trade_from: int
    calendar: str | None = None  # sessions for the event loop (None: 24 hours)


def slice_span(
    frames: dict[str, pd.DataFrame], span: Span, warmup: int, calendar: str | None = None
) -> SpanData:
    """Each symbol's bars from `warmup` bars before the span's start to its end."""
    start = datetime.combine(span.start, time.min, tzinfo=UTC)
    end = datetime.combine(span.end, time.max, tzinfo=UTC)
    sliced = {}
    for symbol, frame in frames.items():
        first = int(frame.index.searchsorted(start))
        last = int(frame.index.searchsorted(end, side="right"))
        sliced[symbol] = frame.iloc[max(first - warmup, 0) : last]
    sliced = {s: f for s, f in sliced.items() if len(f)}
    prices = PriceMatrix.of(sliced)
    return SpanData(sliced, prices, int(prices.index.searchsorted(start)), calendar)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """One strategy run over one span: equity from the span's start (initial capital first)."""

    equity: np.ndarray
    trade_pnls: np.ndarray


def run_span(strategy_config: StrategyConfig, data: SpanData, bt: BacktestConfig) -> RunOutcome:
    """The fast path when the strategy has one, else the event loop; same numbers either way."""
    strategy = build_strategy(strategy_config)
    capital = float(bt.initial_capital)
    if data.trade_from >= len(data.prices.index):
        return RunOutcome(np.array([capital]), np.zeros(0))
    if unsupported_reason(strategy, bt) is None:
        fast = simulate(strategy, data.prices, bt, trade_from=data.trade_from)
        return RunOutcome(np.concatenate(([capital], fast.equity)), fast.trade_pnls)
    event = BacktestEngine(bt).run(
        strategy, build_timeline(data.frames, data.calendar), trade_from=data.trade_from
    )
    pnls = np.array([float(t.pnl) for t in event.trades if not t.is_open], dtype=np.float64)
    return RunOutcome(np.concatenate(([capital], event.equity)), pnls)


@dataclass(frozen=True, slots=True)
class GridJob:
    strategy_config: StrategyConfig
    combos: list[dict[str, Any]]
    windows: list[SpanData]
    full: SpanData
    backtest: BacktestConfig
    objective: Objective
    periods_per_year: float


@dataclass(frozen=True, slots=True)
class ComboResult:
    index: int
    scores: list[float]
    trades: list[int]
    sharpes: list[float]  # per-period Sharpe in each window (for the DSR's trial variance)
    full_returns: np.ndarray
    full_sharpe: float


_JOB: GridJob | None = None


def _install(job: GridJob) -> None:
    global _JOB  # noqa: PLW0603 - one job per worker process, set once before any task
    _JOB = job


def evaluate_combo(index: int) -> ComboResult:
    job = _JOB
    if job is None:
        raise RuntimeError("grid worker used before a job was installed")
    config = job.strategy_config.updated(params=job.combos[index])
    scores, trades, sharpes = [], [], []
    for window in job.windows:
        outcome = run_span(config, window, job.backtest)
        value = score(job.objective, outcome.equity, outcome.trade_pnls, job.periods_per_year)
        scores.append(value if math.isfinite(value) else -math.inf)
        trades.append(int(outcome.trade_pnls.size))
        sharpes.append(sharpe_per_period(simple_returns(outcome.equity)))
    full = simple_returns(run_span(config, job.full, job.backtest).equity)
    return ComboResult(index, scores, trades, sharpes, full, sharpe_per_period(full))


def evaluate_grid(
    job: GridJob, workers: int, progress: Callable[[int, int], None] | None = None
) -> list[ComboResult]:
    """Every combination's results, in grid order; `workers` > 1 uses that many processes."""
    total = len(job.combos)
    results: list[ComboResult] = []
    if workers <= 1 or total == 1:
        _install(job)
        for index in range(total):
            results.append(evaluate_combo(index))
            if progress is not None:
                progress(index + 1, total)
        return results
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    chunk = max(1, total // (workers * 8))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_install, initargs=(job,)
    ) as pool:
        for done, result in enumerate(pool.map(evaluate_combo, range(total), chunksize=chunk), 1):
            results.append(result)
            if progress is not None:
                progress(done, total)
    return results


def default_workers() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def build_job(
    strategy_config: StrategyConfig,
    combos: list[dict[str, Any]],
    frames: dict[str, pd.DataFrame],
    spans: list[Span],
    full: Span,
    warmup: int,
    backtest: BacktestConfig,
    objective: Objective,
    periods_per_year: float,
    calendar: str | None = None,
) -> GridJob:
    session_calendar(calendar)  # built once here; forked workers inherit it
    return GridJob(
        strategy_config=strategy_config,
        combos=combos,
        windows=[slice_span(frames, span, warmup, calendar) for span in spans],
        full=slice_span(frames, full, warmup, calendar),
        backtest=backtest,
        objective=objective,
        periods_per_year=periods_per_year,
    )


def strategies_for(config: StrategyConfig, combos: list[dict[str, Any]]) -> list[Strategy[Any]]:
    """Build every combination once up front, so a bad grid value fails before any work starts."""
    return [build_strategy(config.updated(params=combo)) for combo in combos]
