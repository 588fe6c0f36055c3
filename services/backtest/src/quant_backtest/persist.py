"""Writing a finished run's results into PostgreSQL, in one transaction with its final status."""

from __future__ import annotations

import gzip
import json
import math
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import pandas as pd

from quant_backtest.result import RunMetadata
from quant_db.schema.runs import EQUITY_COLUMNS
from quant_db.schema.trading import ORDER_COLUMNS, TRADE_COLUMNS
from quant_domain import Fill, Trade, to_decimal
from quant_engine import OrderRecord
from quant_engine.metrics import Metrics

BENCHMARK_METRIC = "benchmark"
"""metric_points name of the run's buy-and-hold benchmark curve (the API charts it)."""

RESULT_TABLES = (
    "equity_points",
    "fills",
    "trades",
    "orders",
    "positions",
    "run_reports",
    "metric_points",
)


async def clear_results(connection: asyncpg.Connection[Any], run_id: uuid.UUID) -> None:
    """Remove what an interrupted attempt left behind, before trying again."""
    for table in RESULT_TABLES:
        await connection.execute(f"DELETE FROM {table} WHERE run_id = $1", run_id)


def _equity_records(run_id: uuid.UUID, equity: pd.DataFrame) -> list[tuple[Any, ...]]:
    """One row per step, from a curve with equity, cash, positions_value and gross_exposure.

    Every curve carries all four (a walk-forward's stitched curve too, window by window), so a
    missing column is an error rather than a column of zeros that would read as "never exposed".
    """
    names = ("equity", "cash", "positions_value", "gross_exposure")
    missing = [c for c in names if c not in equity.columns]
    if missing:
        raise ValueError(f"equity curve lacks {', '.join(missing)}; every run stores all four")
    columns = [equity[c].to_numpy(dtype=float).tolist() for c in names]
    return [
        (
            run_id,
            ts,
            to_decimal(round(e, 6)),
            to_decimal(round(c, 6)),
            to_decimal(round(h, 6)),
            g if math.isfinite(g) else 0.0,
        )
        for ts, e, c, h, g in zip(
            pd.DatetimeIndex(equity.index).to_pydatetime(), *columns, strict=True
        )
    ]


def _benchmark_records(run_id: uuid.UUID, benchmark: pd.Series | None) -> list[tuple[Any, ...]]:
    """The benchmark curve as metric_points rows; steps without a finite value are left out."""
    if benchmark is None or benchmark.empty:
        return []
    return [
        (run_id, BENCHMARK_METRIC, ts, value)
        for ts, value in zip(
            pd.DatetimeIndex(benchmark.index).to_pydatetime(),
            benchmark.to_numpy(dtype=float).tolist(),
            strict=True,
        )
        if math.isfinite(value)
    ]


def _order_records(
    run_id: uuid.UUID, strategy_id: str, orders: list[OrderRecord], fills: list[Fill]
) -> list[tuple[Any, ...]]:
    """One row per order; `updated_at` is when it last changed: submitted, filled or closed.

    A backtest's records carry no broker id (the simulated broker has none to give); they and
    the reject `code` are read with defaults until quant_engine.oms's OrderRecord carries them.
    """
    last_fill: dict[str, datetime] = {}
    for f in fills:
        seen = last_fill.get(f.client_order_id)
        if seen is None or f.timestamp > seen:
            last_fill[f.client_order_id] = f.timestamp
    rows = []
    for r in orders:
        o = r.order
        changes = [r.submitted_at, r.closed_at, last_fill.get(o.client_order_id)]
        rows.append(
            (
                run_id,
                strategy_id,
                o.client_order_id,
                o.symbol,
                o.side.value,
                o.type.value,
                o.time_in_force.value,
                o.quantity,
                o.limit_price,
                o.stop_price,
                r.status.value,
                r.submitted_at,
                r.closed_at,
                r.filled_quantity,
                r.fill_price,
                r.reason,
                r.broker_order_id,
                r.code,
                max(t for t in changes if t is not None),
            )
        )
    return rows


async def save_results(
    connection: asyncpg.Connection[Any],
    run_id: uuid.UUID,
    *,
    strategy_id: str,
    equity: pd.DataFrame,
    trades: list[Trade],
    fills: list[Fill],
    orders: list[OrderRecord],
    metrics: Metrics,
    metadata: RunMetadata,
    report_html: str,
    extra_metrics: dict[str, Any] | None = None,
    benchmark: pd.Series | None = None,
) -> None:
    """Store everything and mark the run completed, atomically.

    `benchmark` is the buy-and-hold curve of the run's benchmark symbol (BacktestResult's and
    WalkForwardResult's `benchmark`), kept in metric_points under BENCHMARK_METRIC.
    """
    async with connection.transaction():
        await clear_results(connection, run_id)
        await connection.copy_records_to_table(
            "equity_points",
            records=_equity_records(run_id, equity),
            columns=("run_id", *EQUITY_COLUMNS),
        )
        await connection.copy_records_to_table(
            "metric_points",
            records=_benchmark_records(run_id, benchmark),
            columns=("run_id", "name", "ts", "value"),
        )
        # orders before fills: every fill references its order (run_id, client_order_id)
        await connection.copy_records_to_table(
            "orders",
            records=_order_records(run_id, strategy_id, orders, fills),
            columns=("run_id", *ORDER_COLUMNS),
        )
        await connection.copy_records_to_table(
            "fills",
            records=[
                (
                    run_id,
                    f.fill_id,
                    f.client_order_id,
                    f.symbol,
                    f.side.value,
                    f.quantity,
                    f.price,
                    f.commission,
                    f.slippage,
                    f.timestamp,
                )
                for f in fills
            ],
            columns=(
                "run_id",
                "fill_id",
                "client_order_id",
                "symbol",
                "side",
                "quantity",
                "price",
                "commission",
                "slippage",
                "ts",
            ),
        )
        await connection.copy_records_to_table(
            "trades",
            records=[
                (
                    run_id,
                    t.trade_id,
                    t.symbol,
                    t.direction.value,
                    t.quantity,
                    t.entry_time,
                    t.entry_price,
                    t.exit_time,
                    t.exit_price,
                    t.gross_pnl,
                    t.commission,
                    t.pnl,
                    t.bars_held,
                    t.mfe,
                    t.mae,
                    t.given_back,
                    t.regime,
                )
                for t in trades
            ],
            columns=("run_id", *TRADE_COLUMNS),
        )
        await connection.execute(
            "INSERT INTO run_reports (run_id, html_gzip) VALUES ($1, $2)",
            run_id,
            gzip.compress(report_html.encode("utf-8"), compresslevel=6),
        )
        summary = {**metrics.as_dict(), **(extra_metrics or {})}
        await connection.execute(
            "UPDATE runs SET status = 'completed', progress = 1.0, message = 'completed', "
            # the clock at the end of the work, not the transaction's start: the run is seen
            # completed once this commits, and dashboards time their charts from it
            "metrics = $2, repro = $3, error = NULL, finished_at = clock_timestamp() WHERE id = $1",
            run_id,
            json.dumps(summary, default=str),
            json.dumps(metadata.to_dict()),
        )
