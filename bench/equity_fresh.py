"""A run's charts read the moment its worker stored it: the old downsampling query against the API.

Run: .venv/bin/python bench/equity_fresh.py [--daily-runs 60] [--hourly-runs 3] [--samples 60]
     [--hourly-samples 10] [--old-samples 3] [--old-cap 30] [--explain]

Uses DATABASE_URL / REDIS_URL when set, else embedded PostgreSQL and Valkey in a temporary folder.
1. A backlog of stored runs, written as the worker writes them (quant_backtest.persist.
   save_results): --daily-runs curves of 5,031 daily points (the S&P 500 sample's length) and
   --hourly-runs of 40,000 hourly points, then ANALYZE, so the planner knows every stored run.
   Autovacuum is then turned off on equity_points and metric_points until the end (and reset
   after), so every fresh run below stays unseen by the statistics, as right after a worker
   stores it. Keep the backlog under ~100 runs: with fewer distinct runs than the statistics
   target, every stored run id sits in the most-common-values list and a new one is estimated
   at one row, the case issue 10 hit on a young database (`make demo`).
2. Fresh runs, one after another: the run row is queued and started as POST /v1/runs and the
   worker do, its results are stored with save_results, and at once (no ANALYZE, no sleep) the
   dashboard's reads go through the real API app (httpx over ASGI, auth and rate limits on):
   GET /v1/runs/{id}/equity?points=1000 and GET /v1/runs/{id}/analytics. --samples daily runs,
   then --hourly-samples hourly ones.
3. For the ratio, first (on the same statistics), --old-samples fresh daily runs read with the
   downsampling query the API used before issue 10 (`ts IN (SELECT ... row_number() OVER
   (PARTITION BY bucket ...))`), cancelled at --old-cap seconds (with --explain the first one
   runs under EXPLAIN ANALYZE, uncancelled, and its plan is printed, as is the new query's).
Budget (exit 1 when broken): every fresh read under 1 s, and the p95 of each daily route
(equity, analytics) under 500 ms. Percentiles are nearest-rank over the samples named next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import pandas as pd
from _machine import cpu_model

from quant_api.app import create_app
from quant_api.auth import TokenKind
from quant_api.resources import AppResources
from quant_api.settings import ApiSettings
from quant_api.users import create_user
from quant_backtest.persist import save_results
from quant_backtest.result import RunMetadata
from quant_db.embedded import database_url, redis_url
from quant_db.jobs import create_run
from quant_db.migrate import upgrade
from quant_db.schema.identity import Role
from quant_db.settings import StorageSettings
from quant_db.urls import asyncpg_dsn
from quant_engine.metrics import compute_metrics

DAILY_POINTS = 5_031
HOURLY_POINTS = 40_000
POINTS = 1_000  # what the dashboard asks for (components/runs/run-results.tsx)
BUDGET_S = 1.0
P95_BUDGET_S = 0.5
STRATEGY = "bench_equity"

# the query GET /v1/runs/{id}/equity ran before issue 10, kept here to show the difference
OLD_QUERY = """
SELECT * FROM equity_points WHERE run_id = $1 AND ts IN (
SELECT ts FROM (
  SELECT ts,
         row_number() OVER (PARTITION BY bucket ORDER BY equity, ts) AS by_low,
         row_number() OVER (PARTITION BY bucket ORDER BY equity DESC, ts) AS by_high,
         row_number() OVER (PARTITION BY bucket ORDER BY ts) AS by_first,
         row_number() OVER (PARTITION BY bucket ORDER BY ts DESC) AS by_last
    FROM (SELECT ts, equity,
                 (row_number() OVER (ORDER BY ts) * $2 - 1) / count(*) OVER () AS bucket
            FROM equity_points WHERE run_id = $1) AS numbered
) AS ranked
WHERE by_low = 1 OR by_high = 1 OR by_first = 1 OR by_last = 1) ORDER BY ts
"""


_AUTOVACUUM_OFF = (
    "ALTER TABLE equity_points SET (autovacuum_enabled = false); "
    "ALTER TABLE metric_points SET (autovacuum_enabled = false)"
)
_AUTOVACUUM_BACK = (
    "ALTER TABLE equity_points RESET (autovacuum_enabled); "
    "ALTER TABLE metric_points RESET (autovacuum_enabled)"
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(np.ceil(q * len(ordered))) - 1))]


def curve(points: int, hourly: bool, seed: int) -> pd.DataFrame:
    """An equity frame shaped like the engine's: equity, cash, positions_value, gross_exposure."""
    rng = np.random.default_rng(seed)
    if hourly:
        index = pd.date_range("2019-01-02 14:00", periods=points, freq="h", tz="UTC")
    else:
        index = pd.bdate_range("2005-01-03 21:00", periods=points, tz="UTC")
    equity = 100_000 * np.cumprod(1 + rng.normal(0.0003, 0.01, points))
    held = equity * rng.uniform(0.0, 1.0, points)
    return pd.DataFrame(
        {
            "equity": equity,
            "cash": equity - held,
            "positions_value": held,
            "gross_exposure": held / equity,
        },
        index=index,
    )


def benchmark_of(equity: pd.DataFrame, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed + 10_000)
    values = 100_000 * np.cumprod(1 + rng.normal(0.0002, 0.011, len(equity)))
    return pd.Series(values, index=equity.index)


async def store_run(
    connection: asyncpg.Connection[Any], equity: pd.DataFrame, seed: int
) -> uuid.UUID:
    """Queue, start and complete a run the way POST /v1/runs and the worker do."""
    config = {"id": STRATEGY, "class": "bench", "universe": ["SPY"], "benchmark": "SPY"}
    run_id = await create_run(
        connection,
        strategy_id=STRATEGY,
        run_type="backtest",
        config=config,
        backtest_config={},
    )
    await connection.execute(
        "UPDATE runs SET status = 'running', started_at = now(), attempts = 1 WHERE id = $1",
        run_id,
    )
    values = equity["equity"].to_numpy()
    await save_results(
        connection,
        run_id,
        strategy_id=STRATEGY,
        equity=equity,
        trades=[],
        fills=[],
        orders=[],
        metrics=compute_metrics(values, periods_per_year=252.0),
        metadata=RunMetadata(
            code_version="bench",
            config_hash="bench",
            data_fingerprint="bench",
            seed=seed,
            created_at=datetime.now(UTC),
            python_version=platform.python_version(),
            platform=platform.platform(),
        ),
        report_html="<html><body>bench</body></html>",
        benchmark=benchmark_of(equity, seed),
    )
    return run_id


async def backlog(connection: asyncpg.Connection[Any], daily: int, hourly: int) -> float:
    started = time.perf_counter()
    await connection.execute(
        "INSERT INTO strategies (id, class_path, config, status, mode) "
        "VALUES ($1, 'bench', '{}', 'active', 'BACKTEST') ON CONFLICT (id) DO NOTHING",
        STRATEGY,
    )
    for i in range(daily):
        await store_run(connection, curve(DAILY_POINTS, False, i), i)
    for i in range(hourly):
        await store_run(connection, curve(HOURLY_POINTS, True, 1_000 + i), 1_000 + i)
    await connection.execute("ANALYZE")
    return time.perf_counter() - started


async def signed_in(resources: AppResources) -> dict[str, str]:
    async with resources.sessions() as session, session.begin():
        user = await create_user(
            session,
            resources.passwords,
            username=f"bench-{secrets.token_hex(4)}",
            password=secrets.token_urlsafe(16),
            role=Role.VIEWER,
        )
    return {"Authorization": f"Bearer {resources.tokens.encode(user.id, TokenKind.ACCESS)}"}


async def timed(pending: Awaitable[Any]) -> tuple[float, Any]:
    """Seconds to await `pending` (a coroutine starts running only when awaited)."""
    started = time.perf_counter()
    result = await pending
    return time.perf_counter() - started, result


async def fresh_reads(
    connection: asyncpg.Connection[Any],
    client: httpx.AsyncClient,
    headers: dict[str, str],
    count: int,
    hourly: bool,
    first_seed: int,
) -> dict[str, list[float]]:
    """Per fresh run: store it, then read its equity (and analytics) at once."""
    times: dict[str, list[float]] = {"equity": [], "analytics": []}
    for i in range(count):
        seed = first_seed + i
        run_id = await store_run(
            connection, curve(HOURLY_POINTS if hourly else DAILY_POINTS, hourly, seed), seed
        )
        took, response = await timed(
            client.get(f"/v1/runs/{run_id}/equity", params={"points": POINTS}, headers=headers)
        )
        if response.status_code != 200:
            raise RuntimeError(f"equity of {run_id}: {response.status_code} {response.text[:300]}")
        times["equity"].append(took)
        took, response = await timed(
            client.get(f"/v1/runs/{run_id}/analytics", params={"points": POINTS}, headers=headers)
        )
        if response.status_code != 200:
            raise RuntimeError(
                f"analytics of {run_id}: {response.status_code} {response.text[:300]}"
            )
        times["analytics"].append(took)
    return times


async def old_reads(
    connection: asyncpg.Connection[Any], count: int, cap_s: float, first_seed: int, explain: bool
) -> tuple[list[float], int]:
    """Fresh daily runs read with the pre-issue-10 query; cancelled ones count as the cap."""
    times, cancelled = [], 0
    for i in range(count):
        run_id = await store_run(
            connection, curve(DAILY_POINTS, False, first_seed + i), first_seed + i
        )
        explaining = explain and i == 0  # shown whole, however long it runs
        await connection.execute(
            f"SET statement_timeout = {0 if explaining else int(cap_s * 1000)}"
        )
        try:
            if explaining:
                # EXPLAIN ANALYZE runs the query: its time is this sample's
                started = time.perf_counter()
                plan = await connection.fetch(
                    "EXPLAIN (ANALYZE, COSTS) " + OLD_QUERY, run_id, POINTS // 4
                )
                times.append(time.perf_counter() - started)
                print("\nEXPLAIN ANALYZE of the old query on a fresh run:", flush=True)
                print("\n".join(f"  {row[0]}" for row in plan), flush=True)
                continue
            took, _ = await timed(connection.fetch(OLD_QUERY, run_id, POINTS // 4))
            times.append(took)
        except asyncpg.QueryCanceledError:
            times.append(cap_s)
            cancelled += 1
        finally:
            await connection.execute("SET statement_timeout = 0")
    return times, cancelled


async def explain_new(connection: asyncpg.Connection[Any]) -> None:
    """EXPLAIN ANALYZE of what the equity route runs now, on one more fresh run."""
    from quant_api.run_series import EQUITY_DOWNSAMPLED  # noqa: PLC0415 - after the fix only

    run_id = await store_run(connection, curve(DAILY_POINTS, False, 99_999), 99_999)
    sql = EQUITY_DOWNSAMPLED
    for name, position in (("run_id", "$1"), ("buckets", "$2"), ("points", "$3")):
        sql = sql.replace(f":{name}", position)
    plan = await connection.fetch("EXPLAIN (ANALYZE, COSTS) " + sql, run_id, POINTS // 4, POINTS)
    print("\nEXPLAIN ANALYZE of the equity route's query on a fresh run:")
    print("\n".join(f"  {row[0]}" for row in plan))


def line(name: str, values: list[float], extra: str = "") -> str:
    if not values:
        return f"  {name:<44} no samples"
    return (
        f"  {name:<44} n={len(values):3d}  p50 {statistics.median(values) * 1e3:8.1f} ms  "
        f"p95 {percentile(values, 0.95) * 1e3:8.1f} ms  max {max(values) * 1e3:8.1f} ms{extra}"
    )


async def main_async(args: argparse.Namespace, db: str, cache: str, state: Path) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(db))
    try:
        took = await backlog(connection, args.daily_runs, args.hourly_runs)
        stored = await connection.fetchval("SELECT count(*) FROM equity_points")
        print(
            f"\nbacklog: {args.daily_runs} daily runs x {DAILY_POINTS:,} points + "
            f"{args.hourly_runs} hourly runs x {HOURLY_POINTS:,} = {stored:,} equity points, "
            f"stored with save_results and ANALYZEd in {took:.1f} s; autovacuum off on the "
            "result tables until the end, so every fresh run stays unseen by the statistics"
        )
        await connection.execute(_AUTOVACUUM_OFF)
        # the old query first, on the same statistics the new reads then meet
        old, cancelled = await old_reads(
            connection, args.old_samples, args.old_cap, 30_000, explain=args.explain
        )
        settings = ApiSettings(  # type: ignore[call-arg]
            _env_file=None,
            jwt_secret=secrets.token_urlsafe(48),
            state_dir=state,
            rate_limit_reads="1000000/minute",
            rate_limit_prefix=f"bench-{secrets.token_hex(4)}",
            password_time_cost=1,
            password_memory_cost=8192,
            password_parallelism=1,
            log_level="warning",
        )
        app = create_app(settings, database_url=db, redis_url=cache)
        async with app.router.lifespan_context(app):
            headers = await signed_in(app.state.resources)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=600
            ) as client:
                daily = await fresh_reads(connection, client, headers, args.samples, False, 10_000)
                hourly = await fresh_reads(
                    connection, client, headers, args.hourly_samples, True, 20_000
                )
        if args.explain:
            await explain_new(connection)
    finally:
        await connection.execute(_AUTOVACUUM_BACK)
        await connection.close()

    load1, load5, _ = os.getloadavg()
    print(f"\nfresh reads, each right after save_results (load average {load1:.1f} / {load5:.1f}):")
    print(line(f"GET equity?points={POINTS}, daily run", daily["equity"]))
    print(line(f"GET analytics?points={POINTS}, daily run", daily["analytics"]))
    print(line(f"GET equity?points={POINTS}, hourly run", hourly["equity"]))
    print(line(f"GET analytics?points={POINTS}, hourly run", hourly["analytics"]))
    note = f"  ({cancelled} cancelled at {args.old_cap:.0f} s)" if cancelled else ""
    print(line("old downsampling query (SQL only), daily run", old, note))
    if old and daily["equity"]:
        ratio = statistics.median(old) / statistics.median(daily["equity"])
        print(f"  median old query / median new API read: {ratio:,.0f}x")

    reads = daily["equity"] + daily["analytics"] + hourly["equity"] + hourly["analytics"]
    broken = []
    if reads and max(reads) >= BUDGET_S:
        broken.append(f"a fresh read took {max(reads):.2f} s (budget {BUDGET_S:.0f} s)")
    for route in ("equity", "analytics"):
        if daily[route] and percentile(daily[route], 0.95) >= P95_BUDGET_S:
            broken.append(
                f"daily {route} p95 {percentile(daily[route], 0.95) * 1e3:.0f} ms "
                f"(budget {P95_BUDGET_S * 1e3:.0f} ms)"
            )
    for reason in broken:
        print(f"BUDGET BROKEN: {reason}", file=sys.stderr)
    if not broken:
        print(
            f"budget met: every fresh read < {BUDGET_S:.0f} s, p95 of each daily route < "
            f"{P95_BUDGET_S * 1e3:.0f} ms"
        )
    return 1 if broken else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--daily-runs", type=int, default=60)
    parser.add_argument("--hourly-runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--hourly-samples", type=int, default=10)
    parser.add_argument("--old-samples", type=int, default=3)
    parser.add_argument("--old-cap", type=float, default=30.0, help="seconds per old query")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    args = parser.parse_args()
    # a terminated run still stops the embedded servers and removes its folder (atexit)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"command: python {' '.join(sys.argv)}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        settings = StorageSettings(
            database_url=os.environ.get("DATABASE_URL"),
            redis_url=os.environ.get("REDIS_URL"),
            quant_state_dir=state,
        )
        db, cache = database_url(settings), redis_url(settings)
        upgrade(db)
        code = asyncio.run(main_async(args, db, cache, state))
    sys.exit(code)


if __name__ == "__main__":
    main()
