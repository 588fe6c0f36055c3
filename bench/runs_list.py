"""The runs list's page query in the database: key metrics against no metrics and whole blobs.

Run: .venv/bin/python bench/runs_list.py [--runs 2000] [--repeat 200]

Embedded PostgreSQL 18 in a temporary folder (or DATABASE_URL, which must not hold runs yet).
Stores --runs completed runs, every second one a walk-forward whose `metrics` blob carries 40
windows of metrics and 100 scores each (~70 kB, printed), then times the first page
(`per_page=20`, newest first) --repeat times for each way of selecting the figures: the route's
own `key_metrics` expression (jsonb_to_record once per row), the whole blob, and no metrics at
all (the route's window count of the total is left out of all three). Times are wall clock at
the client (SQLAlchemy on asyncpg, rows fetched and decoded), one query after another on one
connection; p95 only from 20 samples or more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _machine import describe, load_average
from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from quant_api.routers.v1.runs import _KEY_METRICS  # the route's own expression, timed as is
from quant_api.schemas.v1.runs import RunSummary
from quant_db.embedded import embedded_postgres_url
from quant_db.migrate import upgrade
from quant_db.schema import Run, Strategy
from quant_db.schema.runs import RunStatus, RunType

PER_PAGE = 20
MIN_SAMPLES_FOR_P95 = 20


def _key_figures(rng: random.Random) -> dict[str, Any]:
    return {
        "total_return": rng.uniform(-0.5, 2.0),
        "annual_return": rng.uniform(-0.1, 0.3),
        "sharpe": rng.uniform(-1, 3),
        "max_drawdown_pct": rng.uniform(1, 60),
        "win_rate": rng.uniform(0.2, 0.7),
        "num_trades": rng.randint(1, 500),
    }


def _walk_forward_blob(rng: random.Random) -> dict[str, Any]:
    """What a 40-window walk-forward keeps: figures per window and every combination's score."""
    windows = [
        {
            "index": i,
            "best_params": {"fast": rng.randrange(4, 23, 2), "slow": rng.randrange(25, 71, 5)},
            "in_sample_metrics": _key_figures(rng) | {"volatility": rng.random()},
            "out_of_sample_metrics": _key_figures(rng) | {"volatility": rng.random()},
            "scores": [round(rng.gauss(0.5, 0.8), 6) for _ in range(100)],
            "trade_counts": [rng.randint(0, 90) for _ in range(100)],
        }
        for i in range(40)
    ]
    return _key_figures(rng) | {"windows": windows, "efficiency": rng.random()}


async def _store(connection: AsyncConnection, runs: int) -> int:
    """Insert `runs` completed runs (half walk-forwards); return the largest blob's JSON bytes."""
    rng = random.Random(5)
    await connection.execute(
        insert(Strategy).values(id="bench", class_path="bench.Strategy", config={})
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows, largest = [], 0
    for k in range(runs):
        walk_forward = k % 2 == 1
        metrics = _walk_forward_blob(rng) if walk_forward else _key_figures(rng)
        largest = max(largest, len(json.dumps(metrics)))
        rows.append(
            {
                "id": uuid.uuid4(),
                "strategy_id": "bench",
                "type": RunType.WALK_FORWARD if walk_forward else RunType.BACKTEST,
                "status": RunStatus.COMPLETED,
                "progress": 1.0,
                "config": {},
                "metrics": metrics,
                "created_at": start + timedelta(minutes=k),
            }
        )
    for first in range(0, runs, 200):
        await connection.execute(insert(Run), rows[first : first + 200])
    await connection.execute(select(func.count()).select_from(Run))  # settles the inserts
    return largest


def _variants() -> Mapping[str, list[ColumnElement[Any]]]:
    columns: list[ColumnElement[Any]] = [
        getattr(Run, name).label(name) for name in RunSummary.model_fields if name != "key_metrics"
    ]
    return {
        "key_metrics (the route's jsonb_to_record)": [
            *columns,
            _KEY_METRICS.label("key_metrics"),
        ],
        "whole metrics blob": [*columns, Run.metrics.label("metrics")],
        "no metrics": columns,
    }


async def _time(connection: AsyncConnection, columns: list[Any], repeat: int) -> list[float]:
    query = select(*columns).order_by(Run.created_at.desc(), Run.id).limit(PER_PAGE)
    for _ in range(5):  # warm: plan cache, buffers, codecs
        (await connection.execute(query)).all()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = (await connection.execute(query)).all()
        times.append((time.perf_counter() - t0) * 1e3)
        assert len(rows) == PER_PAGE
    return times


def _spread(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = (
        f"p95 {ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]:6.2f} ms"
        if len(times) >= MIN_SAMPLES_FOR_P95
        else f"p95 not quoted (n < {MIN_SAMPLES_FOR_P95})"
    )
    return (
        f"n={len(times)}  best {ordered[0]:6.2f} ms  median {statistics.median(times):6.2f} ms  "
        f"{p95}  max {ordered[-1]:6.2f} ms"
    )


async def measure(url: str, runs: int, repeat: int) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            held = await connection.scalar(select(func.count()).select_from(Run))
            if held:
                print(
                    f"bench/runs_list.py: the database already holds {held} runs; "
                    "point DATABASE_URL at an empty one",
                    file=sys.stderr,
                )
                sys.exit(2)
            largest = await _store(connection, runs)
            await connection.commit()
            await connection.exec_driver_sql("ANALYZE runs")
            print(
                f"\nfirst page of GET /v1/runs ({PER_PAGE} rows, half walk-forwards) out of "
                f"{runs:,} completed runs; largest metrics blob {largest / 1024:.0f} kB of JSON:"
            )
            for name, columns in _variants().items():
                print(f"  {name:<42} {_spread(await _time(connection, columns, repeat))}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as state:
        url = os.environ.get("DATABASE_URL") or embedded_postgres_url(Path(state))
        upgrade(url)
        asyncio.run(measure(url, args.runs, args.repeat))
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
