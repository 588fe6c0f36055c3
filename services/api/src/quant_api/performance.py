"""Headline performance from stored runs: which run a strategy's headline is, and its figures.

The rules (ADR 0018): a strategy's headline is its reference run (starred), else its most
recently finished completed backtest or walk-forward, labelled as such. Buy-and-hold strategies
are benchmarks, shown apart. Runs are never added together: each ran on its own capital and
dates. Sharpe is annualised with each run's own periods per year.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, case, func, literal, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.downsampling import keep_extremes
from quant_api.schemas.v1.metrics import CurvePoint, MetricsSummary, Period, RunHeadline
from quant_api.schemas.v1.strategies import HeadlineBasis, RunBrief
from quant_db.schema import EquityPoint, Run, Strategy, Trade
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_engine.metrics import compute_metrics, periods_per_year

PERIOD_LENGTH: dict[Period, timedelta | None] = {
    Period.DAY: timedelta(days=1),
    Period.WEEK: timedelta(days=7),
    Period.MONTH: timedelta(days=30),
    Period.QUARTER: timedelta(days=91),
    Period.YEAR: timedelta(days=365),
    Period.ALL: None,
}
RESEARCH_TYPES = (RunType.BACKTEST, RunType.WALK_FORWARD)
# a mode's performance is what its own kind of run produced: no backtest passes for paper PnL
RUN_TYPES_OF_MODE: dict[Mode, tuple[RunType, ...]] = {
    Mode.BACKTEST: RESEARCH_TYPES,
    Mode.PAPER: (RunType.PAPER,),
    Mode.LIVE: (RunType.LIVE,),
}
AGGREGATE_NOTES = {
    Mode.BACKTEST: (
        "Backtests are not added up: each ran on its own capital and dates, so one PnL or one "
        "Sharpe over their sum would describe no portfolio anyone held. Each strategy shows its "
        "own headline run; benchmarks are listed apart."
    ),
    Mode.PAPER: (
        "No paper account exists yet, so there is no paper total: paper results will be added "
        "up only within one account, never across accounts or with backtests."
    ),
    Mode.LIVE: (
        "No live account exists yet, so there is no live total: live results will be added up "
        "only within one account, never across accounts or with paper trading."
    ),
}
BENCHMARK_CLASS = "quant_strategy.builtin.buy_and_hold:BuyAndHold"
# the blocks of runs.metrics only the run's own routes return (a walk-forward's per-window
# figures: tens of kB); the database leaves them out of a brief
_DETAIL_ONLY_METRICS = "walk_forward"


def plain(value: Decimal) -> Decimal:
    """`value` without a positive exponent: asyncpg reads NUMERIC 100000 as 1.0E+5, which JSON
    would then carry as the string "1.0E+5"."""
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


def is_benchmark(class_path: str) -> bool:
    """A strategy of the built-in buy-and-hold class is a yardstick, not a strategy to add up."""
    return class_path == BENCHMARK_CLASS


async def headline_runs(
    session: AsyncSession,
    strategy_ids: Collection[str] | None = None,
    run_types: Sequence[RunType] = RESEARCH_TYPES,
) -> dict[str, RunBrief]:
    """strategy id -> a brief of its headline run among completed runs of `run_types`: the
    reference run when one is starred, else the most recently finished. Only a brief's columns
    and its headline metrics travel from the database."""
    headline = Run.metrics.op("-", return_type=Run.metrics.type)(
        literal(_DETAIL_ONLY_METRICS, String)
    )
    basis = case(
        (Run.is_reference, literal(HeadlineBasis.REFERENCE.value, String)),
        else_=literal(HeadlineBasis.LATEST_COMPLETED.value, String),
    )
    query = (
        select(
            Run.strategy_id,
            Run.id,
            basis.label("basis"),
            Run.type,
            Run.status,
            Run.finished_at,
            Run.label,
            Run.config["params"].label("params"),
            func.nullif(Run.backtest_config["initial_capital"].as_string(), "").label("capital"),
            headline.label("metrics"),
        )
        .where(Run.status == RunStatus.COMPLETED, Run.type.in_(list(run_types)))
        .ext(distinct_on(Run.strategy_id))
        .order_by(
            Run.strategy_id,
            Run.is_reference.desc(),
            Run.finished_at.desc().nulls_last(),
            Run.created_at.desc(),
        )
    )
    if strategy_ids is not None:
        query = query.where(Run.strategy_id.in_(list(strategy_ids)))
    rows = (await session.execute(query)).mappings().all()
    return {row["strategy_id"]: RunBrief.model_validate(dict(row)) for row in rows}


Series = list[tuple[datetime, Decimal]]


def window(series: Series, period: Period) -> Series:
    """The points of the last `period` of `series`, from the last point at or before its start."""
    length = PERIOD_LENGTH[period]
    if length is None or not series:
        return series
    cutoff = series[-1][0] - length
    first = 0
    for index, (ts, _equity) in enumerate(series):
        if ts <= cutoff:
            first = index
        else:
            break
    return series[first:]


def _number(metrics: dict[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if np.isfinite(value) else None


def own_periods_per_year(brief: RunBrief, series: Series) -> float:
    """The run's annualisation factor: the one its worker stored, else what its bars imply."""
    stored = _number(brief.metrics, "periods_per_year")
    if stored is not None and stored > 0:
        return stored
    return periods_per_year(pd.DatetimeIndex([ts for ts, _ in series]))


@dataclass(frozen=True, slots=True)
class Figures:
    start_equity: Decimal
    end_equity: Decimal
    total_return: float
    sharpe: float
    max_drawdown: float


def curve_figures(series: Series, ppy: float) -> Figures:
    """Return, Sharpe (annualised with `ppy`) and max drawdown of a window, by the engine's
    definitions (quant_engine.metrics)."""
    values = np.array([float(v) for _, v in series], dtype=np.float64)
    start, end = series[0][1], series[-1][1]
    if values[0] <= 0 or not np.all(np.isfinite(values)):
        return Figures(start, end, 0.0, 0.0, 0.0)
    metrics = compute_metrics(values, periods_per_year=ppy)
    return Figures(start, end, metrics.total_return, metrics.sharpe, metrics.max_drawdown_pct)


def stored_figures(brief: RunBrief) -> Figures | None:
    """The figures the run's worker stored over its whole curve, when it stored them all."""
    keys = ("start_equity", "end_equity", "total_return", "sharpe", "max_drawdown_pct")
    values = [_number(brief.metrics, key) for key in keys]
    if any(v is None for v in values):
        return None
    start, end, total_return, sharpe, drawdown = (float(v or 0.0) for v in values)
    return Figures(Decimal(str(start)), Decimal(str(end)), total_return, sharpe, drawdown)


async def _curves(session: AsyncSession, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, Series]:
    rows = await session.execute(
        select(EquityPoint.run_id, EquityPoint.ts, EquityPoint.equity)
        .where(EquityPoint.run_id.in_(run_ids))
        .order_by(EquityPoint.run_id, EquityPoint.ts)
    )
    curves: dict[uuid.UUID, Series] = {}
    for run_id, ts, equity in rows:
        curves.setdefault(run_id, []).append((ts, equity))
    return curves


async def _closed_trades(
    session: AsyncSession, run_id: uuid.UUID, series: Series, whole: Series
) -> tuple[int, int]:
    """Trades closed in the window and how many won. A trade closed at the window's first point
    is already in its start equity, so it belongs to the window only when that point is the
    run's first."""
    start, end = series[0][0], series[-1][0]
    after_start = Trade.exit_time >= start if start == whole[0][0] else Trade.exit_time > start
    closed, won = (
        await session.execute(
            select(func.count(), func.count().filter(Trade.pnl > 0)).where(
                Trade.run_id == run_id,
                Trade.exit_time.is_not(None),
                after_start,
                Trade.exit_time <= end,
            )
        )
    ).one()
    return int(closed), int(won)


async def run_headline(
    session: AsyncSession,
    strategy: str,
    benchmark: bool,
    brief: RunBrief,
    whole: Series,
    period: Period,
    points: int,
) -> RunHeadline:
    """One strategy's headline over `period`, from its run's own points and metrics alone."""
    series = window(whole, period)
    ppy = own_periods_per_year(brief, whole)
    stored = stored_figures(brief) if period is Period.ALL else None
    figures = stored or curve_figures(series, ppy)
    trades, wins = _number(brief.metrics, "num_trades"), _number(brief.metrics, "win_rate")
    if stored is not None and trades is not None and wins is not None:
        closed, win_rate = int(trades), wins
    else:
        closed, won = await _closed_trades(session, brief.id, series, whole)
        win_rate = won / closed if closed else 0.0
    kept = keep_extremes([equity for _ts, equity in series], points)
    return RunHeadline(
        strategy_id=strategy,
        is_benchmark=benchmark,
        basis=brief.basis,
        run_id=brief.id,
        run_type=brief.type,
        label=brief.label,
        capital=brief.capital,
        start=series[0][0],
        end=series[-1][0],
        start_equity=plain(figures.start_equity),
        end_equity=plain(figures.end_equity),
        pnl=plain(figures.end_equity - figures.start_equity),
        total_return=figures.total_return,
        sharpe=figures.sharpe,
        periods_per_year=ppy,
        max_drawdown=figures.max_drawdown,
        win_rate=win_rate,
        closed_trades=closed,
        equity_curve=[CurvePoint(ts=series[i][0], equity=plain(series[i][1])) for i in kept],
    )


async def summarize(
    session: AsyncSession, period: Period, mode: Mode, points: int
) -> MetricsSummary:
    """Every strategy of `mode` with its own headline run over `period`; nothing summed."""
    strategies = (
        await session.execute(
            select(Strategy.id, Strategy.class_path)
            .where(Strategy.mode == mode)
            .order_by(Strategy.id)
        )
    ).all()
    briefs = await headline_runs(session, [s.id for s in strategies], RUN_TYPES_OF_MODE[mode])
    curves = await _curves(session, [brief.id for brief in briefs.values()])
    shown: list[RunHeadline] = []
    without: list[str] = []
    for strategy_id, class_path in strategies:
        brief = briefs.get(strategy_id)
        whole = curves.get(brief.id, []) if brief is not None else []
        if brief is None or not whole:
            without.append(strategy_id)
            continue
        benchmark = is_benchmark(class_path)
        shown.append(
            await run_headline(session, strategy_id, benchmark, brief, whole, period, points)
        )
    return MetricsSummary(
        period=period,
        mode=mode,
        strategies=[h for h in shown if not h.is_benchmark],
        benchmarks=[h for h in shown if h.is_benchmark],
        without_results=without,
        aggregate_note=AGGREGATE_NOTES[mode],
    )
