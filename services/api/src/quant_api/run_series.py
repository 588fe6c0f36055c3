"""A run's stored series as the charts read them: the equity curve downsampled in one pass over
the run's rows, and whole series as arrays for the statistics computed from them.

Every query here reads one run's rows through the primary key (run_id, ts) and joins nothing, so
its cost does not depend on what the planner believes about the table. Right after the worker
stores a run, ANALYZE has not seen its id; with fewer runs stored than the statistics keep
(100), every stored id is in the most-common-values list and a new one is estimated at one row.
The earlier `ts IN (SELECT ... row_number() ...)` form was then planned as a nested-loop
semi-join re-running the whole window query for every point: 5,031 x 16 ms = 81 s for a daily
run (bench/equity_fresh.py, ADR 0017).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.binary_copy import copy_rows
from quant_api.downsampling import keep_extremes
from quant_api.schemas.v1.runs import EquityPointPublic, EquitySeries

# Bucket of the k-th point (1-based) of n: floor((k * B - 1) / n), the last b with
# floor(b * n / B) <= k - 1, which is how keep_extremes cuts its buckets. Each bucket keeps its
# lowest, highest, first and last row (ties: the earliest), read in the same pass as the count;
# a run with no more rows than asked for comes back whole.
EQUITY_DOWNSAMPLED = """
SELECT ts, equity, cash, positions_value, total FROM (
  SELECT ts, equity, cash, positions_value, total,
         row_number() OVER (PARTITION BY bucket ORDER BY equity, ts) AS by_low,
         row_number() OVER (PARTITION BY bucket ORDER BY equity DESC, ts) AS by_high,
         row_number() OVER (PARTITION BY bucket ORDER BY ts) AS by_first,
         row_number() OVER (PARTITION BY bucket ORDER BY ts DESC) AS by_last
    FROM (SELECT ts, equity, cash, positions_value, count(*) OVER () AS total,
                 (row_number() OVER (ORDER BY ts) * :buckets - 1) / count(*) OVER () AS bucket
            FROM equity_points WHERE run_id = :run_id) AS numbered
) AS ranked
WHERE total <= :points OR by_low = 1 OR by_high = 1 OR by_first = 1 OR by_last = 1
ORDER BY ts
"""

_WHOLE_EQUITY = text(
    "SELECT ts, equity, cash, positions_value FROM equity_points WHERE run_id = :run_id ORDER BY ts"
)

# (asyncpg wraps these in COPY (...) TO STDOUT)
_CURVE_COPY = (
    "SELECT ts, equity::float8, gross_exposure FROM equity_points WHERE run_id = $1 ORDER BY ts"
)
_METRIC_COPY = "SELECT ts, value FROM metric_points WHERE run_id = $1 AND name = $2 ORDER BY ts"


@dataclass(frozen=True, slots=True)
class StoredCurve:
    """A run's equity and gross exposure per step, as floats, by time."""

    index: pd.DatetimeIndex
    equity: npt.NDArray[np.float64]
    exposure: npt.NDArray[np.float64]


async def downsampled_equity(session: AsyncSession, run_id: uuid.UUID, points: int) -> EquitySeries:
    """The run's equity curve in at most `points` points, each bucket's extremes kept."""
    if points < 4:
        # the tiny-target rules of keep_extremes (global low and high first): decide in Python
        rows = (await session.execute(_WHOLE_EQUITY, {"run_id": run_id})).all()
        kept = keep_extremes([float(row.equity) for row in rows], points)
        return _series(run_id, len(rows), [rows[i] for i in kept])
    rows = (
        await session.execute(
            text(EQUITY_DOWNSAMPLED),
            {"run_id": run_id, "buckets": points // 4, "points": points},
        )
    ).all()
    return _series(run_id, int(rows[0].total) if rows else 0, rows)


def _series(run_id: uuid.UUID, total: int, rows: Any) -> EquitySeries:
    return EquitySeries(
        run_id=run_id,
        total_points=total,
        points=[
            EquityPointPublic(
                ts=row.ts, equity=row.equity, cash=row.cash, positions_value=row.positions_value
            )
            for row in rows
        ],
    )


async def stored_curve(session: AsyncSession, run_id: uuid.UUID) -> StoredCurve:
    """Every stored point of the run's equity curve (empty before it completes)."""
    index, values = await copy_rows(session, _CURVE_COPY, run_id, floats=2)
    return StoredCurve(index=index, equity=values[:, 0].copy(), exposure=values[:, 1].copy())


async def stored_metric(session: AsyncSession, run_id: uuid.UUID, name: str) -> pd.Series:
    """A named series of metric_points (e.g. the benchmark curve); empty when not stored."""
    index, values = await copy_rows(session, _METRIC_COPY, run_id, name, floats=1)
    return pd.Series(values[:, 0], index=index, dtype=np.float64)
