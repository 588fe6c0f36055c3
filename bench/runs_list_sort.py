"""The runs list's query with many runs: its default order, sorts by a key metric, and filters.

Run: .venv/bin/python bench/runs_list_sort.py [--runs 2000] [--repeat 200]

Always an embedded server in a temporary folder (it writes thousands of runs: never your database).
Seeds --runs completed runs (half of them walk-forwards whose metrics carry 40 windows, ~70 kB,
as the worker stores them), each with 20 equity points, then times the exact query GET /v1/runs
sends (quant_api's own columns, filters and order, 20 rows a page) --repeat times per case, and,
for comparison, a sort by the same metric read from the JSON blob instead of its generated
`key_sharpe` column (ADR 0018). Percentiles are of --repeat samples each: p50 and p95 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Float, cast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_api.deps import Pagination
from quant_api.routers.v1.runs import _KEY_METRICS, _SUMMARY_COLUMNS
from quant_api.run_listing import filters, order_by
from quant_api.schemas.v1.runs import RunBase, RunKeyMetrics, RunSort, RunSummary, SortOrder
from quant_db.embedded import embedded_postgres_url
from quant_db.migrate import upgrade
from quant_db.schema import Run
from quant_db.urls import asyncpg_dsn
from quant_engine.metrics import compute_metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_model


def _metrics(rng: np.random.Generator, walk_forward: bool) -> dict[str, Any]:
    equity = 100_000 * np.cumprod(1 + rng.normal(0.0004, 0.01, 500))
    metrics: dict[str, Any] = compute_metrics(equity, periods_per_year=252).as_dict()
    if walk_forward:
        window = compute_metrics(equity[:250], periods_per_year=252).as_dict()
        metrics["walk_forward"] = {
            "windows": [
                {"number": k, "out_of_sample_metrics": window, "scores": rng.random(25).tolist()}
                for k in range(40)
            ]
        }
    return metrics


async def _seed(url: str, runs: int) -> None:
    import asyncpg  # noqa: PLC0415

    rng = np.random.default_rng(7)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            "INSERT INTO strategies (id, class_path, config, status, mode, created_at, updated_at)"
            " VALUES ('momentum_v1', 'm:C', '{}', 'active', 'BACKTEST', now(), now()),"
            " ('buy_and_hold', 'b:B', '{}', 'active', 'BACKTEST', now(), now())"
        )
        start = datetime(2024, 1, 2, tzinfo=UTC)
        rows, points = [], []
        for k in range(runs):
            run_id = uuid.uuid4()
            walk_forward = k % 2 == 1
            config = {"params": {"fast": 10 + k % 7, "slow": 50}, "universe": ["SP500"]}
            rows.append(
                (
                    run_id,
                    "momentum_v1" if k % 3 else "buy_and_hold",
                    "walk_forward" if walk_forward else "backtest",
                    json.dumps(config),
                    json.dumps({"initial_capital": "100000", "start": "2010-01-01"}),
                    json.dumps({"data_source": "samples"}),
                    json.dumps(_metrics(rng, walk_forward)),
                    f"label {k}" if k % 10 == 0 else None,
                    start + timedelta(seconds=k),
                )
            )
            points += [
                (run_id, start + timedelta(days=d), 100 + d, 100 + d, 0, 0.0) for d in range(20)
            ]
        await connection.executemany(
            "INSERT INTO runs (id, strategy_id, type, status, progress, processed, total, message,"
            " config, backtest_config, repro, metrics, cancel_requested, attempts, label,"
            " created_at, finished_at, is_reference)"
            " VALUES ($1, $2, $3, 'completed', 1, 1, 1, 'completed', $4, $5, $6, $7, false, 1,"
            " $8, $9, $9, false)",
            rows,
        )
        await connection.copy_records_to_table(
            "equity_points",
            records=points,
            columns=("run_id", "ts", "equity", "cash", "positions_value", "gross_exposure"),
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


class RowBefore0007(RunBase):
    """A listing row as it was before migration 0007: no params, dates, data, label or star."""

    key_metrics: RunKeyMetrics


CASES: list[tuple[str, dict[str, Any]]] = [
    ("newest first, the row before 0007", {"schema": RowBefore0007}),
    ("newest first (the dashboard's default)", {}),
    ("sort=sharpe (generated key_sharpe column)", {"sort": RunSort.SHARPE}),
    ("sort=max_drawdown_pct&order=asc", {"sort": RunSort.MAX_DRAWDOWN_PCT, "order": SortOrder.ASC}),
    (
        "strategy=momentum_v1&sort=total_return",
        {"strategy": "momentum_v1", "sort": RunSort.TOTAL_RETURN},
    ),
    ("label=label 1 (text filter)", {"label": "label 1"}),
]


async def _time(
    sessions: async_sessionmaker[AsyncSession], repeat: int, **case: Any
) -> list[float]:
    page = Pagination(page=1, per_page=20)
    blob_sort = case.pop("blob_sort", False)
    schema = case.pop("schema", RunSummary)
    computed = {"key_metrics": _KEY_METRICS}
    if schema is RunSummary:
        computed.update(_SUMMARY_COLUMNS)
    conditions = filters(
        strategy=case.get("strategy"),
        run_type=None,
        status=None,
        label=case.get("label"),
        is_reference=None,
    )
    order = order_by(case.get("sort", RunSort.CREATED_AT), case.get("order", SortOrder.DESC))
    if blob_sort:  # the alternative the generated columns replace: read the figure from the blob
        order = [cast(Run.metrics["sharpe"].as_string(), Float).desc().nulls_last(), *order[1:]]
    samples = []
    async with sessions() as session:
        for _ in range(repeat):
            began = time.perf_counter()
            result = await page.fetch_columns(
                session,
                RunSummary,
                Run,
                conditions,
                order,
                {"key_metrics": _KEY_METRICS, **_SUMMARY_COLUMNS},
            )
            samples.append((time.perf_counter() - began) * 1000)
            assert len(result.items) == 20, len(result.items)
    return samples


def _line(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"  {name:<48} n={len(samples):>4}  p50 {statistics.median(samples):6.2f} ms  p95 {p95:6.2f} ms"


async def _run(url: str, args: argparse.Namespace) -> None:
    await _seed(url, args.runs)
    engine = create_async_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        await _time(sessions, 20)  # warm the caches and the connection
        for name, case in CASES:
            print(_line(name, await _time(sessions, args.repeat, **case)))
        print(
            _line(
                "sort by sharpe read from the metrics blob",
                await _time(sessions, args.repeat, sort=RunSort.SHARPE, blob_sort=True),
            )
        )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(f"command: python bench/runs_list_sort.py --runs {args.runs} --repeat {args.repeat}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as state:
        url = embedded_postgres_url(Path(state))
        upgrade(url)
        print(
            f"GET /v1/runs?per_page=20 query over {args.runs} completed runs (half walk-forwards):"
        )
        asyncio.run(_run(url, args))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
