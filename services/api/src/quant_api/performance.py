"""Performance from stored data: latest completed runs, and the summed equity of a mode."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import String, func, literal, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.downsampling import keep_extremes
from quant_api.schemas.v1.metrics import CurvePoint, MetricsSummary, Period
from quant_api.schemas.v1.strategies import RunBrief
from quant_db.schema import EquityPoint, Run, Strategy, Trade
from quant_db.schema.runs import Mode, RunStatus, RunType
from quant_engine.metrics import compute_metrics

TRADING_DAYS = 252
PERIOD_LENGTH: dict[Period, timedelta | None] = {
    Period.DAY: timedelta(days=1),
    Period.WEEK: timedelta(days=7),
    Period.MONTH: timedelta(days=30),
    Period.QUARTER: timedelta(days=91),
    Period.YEAR: timedelta(days=365),
    Period.ALL: None,
}
# a mode's performance is what its own kind of run produced: no backtest passes for paper PnL
RUN_TYPE_OF_MODE = {
    Mode.BACKTEST: RunType.BACKTEST,
    Mode.PAPER: RunType.PAPER,
    Mode.LIVE: RunType.LIVE,
}


# the blocks of runs.metrics only the run's own routes return (a walk-forward's per-window
# figures: tens of kB); the database leaves them out of a brief
_DETAIL_ONLY_METRICS = "walk_forward"


async def latest_completed_runs(
    session: AsyncSession,
    strategy_ids: Collection[str] | None = None,
    run_type: RunType | None = None,
) -> dict[str, RunBrief]:
    """strategy id -> a brief of its most recently finished completed run (of `run_type` when
    given): only a brief's columns, and its headline metrics, travel from the database."""
    headline = Run.metrics.op("-", return_type=Run.metrics.type)(
        literal(_DETAIL_ONLY_METRICS, String)
    )
    query = (
        select(
            Run.strategy_id,
            Run.id,
            Run.type,
            Run.status,
            Run.finished_at,
            headline.label("metrics"),
        )
        .where(Run.status == RunStatus.COMPLETED)
        .ext(distinct_on(Run.strategy_id))
        .order_by(Run.strategy_id, Run.finished_at.desc().nulls_last(), Run.created_at.desc())
    )
    if strategy_ids is not None:
        query = query.where(Run.strategy_id.in_(list(strategy_ids)))
    if run_type is not None:
        query = query.where(Run.type == run_type)
    rows = (await session.execute(query)).all()
    return {row.strategy_id: RunBrief.model_validate(row, from_attributes=True) for row in rows}


def summed_equity(
    rows: Sequence[tuple[uuid.UUID, datetime, Decimal]],
) -> list[tuple[datetime, Decimal]]:
    """Sum several runs' equity on the union of their timestamps, rows sorted by time.

    Each run is carried forward between its own points, and counts its first value before it
    starts (capital set aside, not yet traded), so a run joining late adds no fake jump.
    """
    firsts: dict[uuid.UUID, Decimal] = {}
    for run_id, _ts, equity in rows:
        firsts.setdefault(run_id, equity)
    current = dict(firsts)
    total: list[tuple[datetime, Decimal]] = []
    for index, (run_id, ts, equity) in enumerate(rows):
        current[run_id] = equity
        if index + 1 == len(rows) or rows[index + 1][1] != ts:
            total.append((ts, sum(current.values(), Decimal(0))))
    return total


def window(
    series: list[tuple[datetime, Decimal]], period: Period
) -> list[tuple[datetime, Decimal]]:
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


@dataclass(frozen=True, slots=True)
class CurveStats:
    total_return: float
    sharpe: float
    max_drawdown: float


def curve_stats(series: list[tuple[datetime, Decimal]]) -> CurveStats:
    """Return, daily Sharpe (252) and max drawdown of a curve, by the engine's definitions."""
    daily: dict[object, Decimal] = {}
    for ts, equity in series:
        daily[ts.date()] = equity
    values = np.array([float(v) for v in daily.values()], dtype=np.float64)
    if values.size == 0 or values[0] <= 0 or not np.all(np.isfinite(values)):
        return CurveStats(0.0, 0.0, 0.0)
    metrics = compute_metrics(values, periods_per_year=TRADING_DAYS)
    return CurveStats(metrics.total_return, metrics.sharpe, metrics.max_drawdown_pct)


def empty_summary(period: Period, mode: Mode) -> MetricsSummary:
    zero = Decimal(0)
    return MetricsSummary(
        period=period,
        mode=mode,
        strategies=[],
        runs=[],
        start=None,
        end=None,
        start_equity=zero,
        end_equity=zero,
        total_pnl=zero,
        total_return=0.0,
        sharpe=0.0,
        max_drawdown=0.0,
        win_rate=0.0,
        closed_trades=0,
        equity_curve=[],
    )


async def summarize(
    session: AsyncSession, period: Period, mode: Mode, points: int
) -> MetricsSummary:
    strategy_ids = list(await session.scalars(select(Strategy.id).where(Strategy.mode == mode)))
    runs = await latest_completed_runs(session, strategy_ids, RUN_TYPE_OF_MODE[mode])
    run_ids = [run.id for run in runs.values()]
    rows = (
        await session.execute(
            select(EquityPoint.run_id, EquityPoint.ts, EquityPoint.equity)
            .where(EquityPoint.run_id.in_(run_ids))
            .order_by(EquityPoint.ts, EquityPoint.run_id)
        )
    ).all()
    series = window(summed_equity([(r[0], r[1], r[2]) for r in rows]), period)
    if not series:
        return empty_summary(period, mode)
    start, end = series[0][0], series[-1][0]
    closed, won = (
        await session.execute(
            select(func.count(), func.count().filter(Trade.pnl > 0)).where(
                Trade.run_id.in_(run_ids),
                Trade.exit_time.is_not(None),
                Trade.exit_time >= start,
                Trade.exit_time <= end,
            )
        )
    ).one()
    stats = curve_stats(series)
    kept = keep_extremes([equity for _ts, equity in series], points)
    return MetricsSummary(
        period=period,
        mode=mode,
        strategies=sorted(runs),
        runs=[str(runs[s].id) for s in sorted(runs)],
        start=start,
        end=end,
        start_equity=series[0][1],
        end_equity=series[-1][1],
        total_pnl=series[-1][1] - series[0][1],
        total_return=stats.total_return,
        sharpe=stats.sharpe,
        max_drawdown=stats.max_drawdown,
        win_rate=won / closed if closed else 0.0,
        closed_trades=closed,
        equity_curve=[CurvePoint(ts=series[i][0], equity=series[i][1]) for i in kept],
    )
