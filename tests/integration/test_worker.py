"""The worker executes queued runs, reports progress, honours cancel, and survives worker death."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg

from quant_backtest import run
from quant_backtest.job_loop import serve
from quant_backtest.worker import MAX_ATTEMPTS
from quant_db.jobs import create_run, request_cancel, requeue_orphans
from quant_db.urls import asyncpg_dsn
from quant_engine import BacktestConfig
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "strategies"


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_dsn(url))


async def queue_run(
    url: str,
    config: dict[str, Any],
    run_type: str = "backtest",
    backtest: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Queue a run of `config` the way POST /v1/runs does (its strategy row added if missing)."""
    connection = await _connect(url)
    try:
        await connection.execute(
            "INSERT INTO strategies (id, class_path, config, status, mode) VALUES ($1, $2, $3, 'active', 'BACKTEST') "
            "ON CONFLICT DO NOTHING",
            config["id"],
            config["class"],
            json.dumps(config),
        )
        return await create_run(
            connection,
            strategy_id=config["id"],
            run_type=run_type,
            config=config,
            backtest_config=backtest or BacktestConfig().model_dump(mode="json"),
        )
    finally:
        await connection.close()


async def _row(
    url: str, run_id: uuid.UUID, sql: str = "SELECT * FROM runs WHERE id = $1"
) -> asyncpg.Record:
    connection = await _connect(url)
    try:
        return await connection.fetchrow(sql, run_id)
    finally:
        await connection.close()


def _momentum(**changes: Any) -> dict[str, Any]:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(**changes)
    return config.model_dump(mode="json", by_alias=True)


def test_worker_completes_a_backtest_and_stores_every_result(database_url: str) -> None:
    run_id = asyncio.run(queue_run(database_url, _momentum()))
    asyncio.run(serve(database_url, drain=True))
    row = asyncio.run(_row(database_url, run_id))
    assert (row["status"], row["progress"], row["attempts"]) == ("completed", 1.0, 1)
    direct = run(
        load_strategy_config(CONFIGS / "momentum_v1.yaml"), SampleSource(), BacktestConfig()
    )
    metrics = json.loads(row["metrics"])
    assert metrics["end_equity"] == direct.metrics.end_equity
    assert json.loads(row["repro"])["data_fingerprint"] == direct.metadata.data_fingerprint
    counts = asyncio.run(
        _row(
            database_url,
            run_id,
            "SELECT (SELECT count(*) FROM equity_points WHERE run_id = $1) AS e, "
            "(SELECT count(*) FROM trades WHERE run_id = $1) AS t, (SELECT count(*) FROM fills WHERE run_id = $1) AS f, "
            "(SELECT count(*) FROM orders WHERE run_id = $1) AS o, (SELECT count(*) FROM run_reports WHERE run_id = $1) AS r",
        )
    )
    assert tuple(counts) == (5031, len(direct.trades), len(direct.fills), len(direct.orders), 1)


def test_worker_completes_a_walk_forward_run(database_url: str) -> None:
    config = _momentum(
        walk_forward={
            "in_sample_days": 730,
            "out_of_sample_days": 365,
            "parameter_grid": {"fast": [10, 20], "slow": [50, 100]},
        }
    )
    backtest = BacktestConfig(start=__import__("datetime").date(2008, 1, 1)).model_dump(mode="json")
    run_id = asyncio.run(queue_run(database_url, config, "walk_forward", backtest))
    asyncio.run(serve(database_url, drain=True))
    row = asyncio.run(_row(database_url, run_id))
    assert row["status"] == "completed", row["error"]
    summary = json.loads(row["metrics"])["walk_forward"]
    assert len(summary["windows"]) == 9
    assert summary["pbo"] is not None


def test_a_broken_run_fails_with_its_reason(database_url: str) -> None:
    config = _momentum()
    config["params"] = {"fast": 80, "slow": 50}
    run_id = asyncio.run(queue_run(database_url, config))
    asyncio.run(serve(database_url, drain=True))
    row = asyncio.run(_row(database_url, run_id))
    assert row["status"] == "failed"
    assert "must be smaller than slow" in row["error"]


def test_cancel_stops_a_running_backtest(database_url: str) -> None:
    config = _momentum(universe=["SYN000"], benchmark=None, data="synthetic:symbols=1,bars=1500000")

    async def scenario() -> asyncpg.Record:
        run_id = await queue_run(database_url, config)
        stop = asyncio.Event()
        worker = asyncio.create_task(serve(database_url, stop=stop))
        for _ in range(600):
            row = await _row(database_url, run_id)
            if row["status"] == "running" and row["processed"] > 0:
                break
            await asyncio.sleep(0.05)
        connection = await _connect(database_url)
        assert await request_cancel(connection, run_id) == "running"
        await connection.close()
        for _ in range(600):
            row = await _row(database_url, run_id)
            if row["status"] != "running":
                break
            await asyncio.sleep(0.05)
        stop.set()
        await worker
        return row

    row = asyncio.run(scenario())
    assert (row["status"], row["message"]) == ("cancelled", "cancelled while running")
    assert row["progress"] < 1.0


def test_a_run_survives_its_worker_being_killed(database_url: str, redis_url: str) -> None:
    config = _momentum(universe=["SYN000"], benchmark=None, data="synthetic:symbols=1,bars=600000")
    run_id = asyncio.run(queue_run(database_url, config))
    quant = Path(sys.executable).parent / "quant"
    # REDIS_URL too: without it the worker would start an embedded Valkey for its presence key
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    first = subprocess.Popen(
        [str(quant), "worker", "--heartbeat-timeout", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = asyncio.run(_row(database_url, run_id))
            if row["status"] == "running":
                break
            time.sleep(0.1)
        assert row["status"] == "running"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()

    async def second_worker() -> asyncpg.Record:
        stop = asyncio.Event()
        worker = asyncio.create_task(
            serve(database_url, heartbeat_timeout=timedelta(seconds=2), stop=stop)
        )
        for _ in range(1200):
            row = await _row(database_url, run_id)
            if row["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.1)
        stop.set()
        await worker
        return row

    row = asyncio.run(second_worker())
    assert (row["status"], row["attempts"]) == ("completed", 2)
    counts = asyncio.run(
        _row(database_url, run_id, "SELECT count(*) FROM equity_points WHERE run_id = $1")
    )
    assert counts[0] == 600_000


def test_a_running_run_whose_job_was_lost_is_queued_again_and_completed(
    database_url: str,
) -> None:
    """pgqueuer may record a job as ended while its worker, cut off from the database, could not
    write the run: at its next connection a worker gives such a run a new job."""
    config = _momentum(universe=["SYN000"], benchmark=None, data="synthetic:symbols=1,bars=2000")

    async def scenario() -> tuple[list[uuid.UUID], list[uuid.UUID], asyncpg.Record]:
        run_id = await queue_run(database_url, config)
        finished = await queue_run(database_url, config)
        connection = await _connect(database_url)
        try:
            await connection.execute("DELETE FROM pgqueuer")  # both jobs gone
            await connection.execute(
                "UPDATE runs SET status = 'running', attempts = 1 WHERE id = $1", run_id
            )
            await connection.execute("UPDATE runs SET status = 'completed' WHERE id = $1", finished)
            first = await requeue_orphans(connection)
            again = await requeue_orphans(connection)
        finally:
            await connection.close()
        await serve(database_url, drain=True)
        return first, again, await _row(database_url, run_id)

    first, again, row = asyncio.run(scenario())
    assert first == [row["id"]]  # the finished run is left alone
    assert again == []  # it has its job now
    assert (row["status"], row["attempts"]) == ("completed", 2), row["error"]


def test_a_running_paper_or_live_session_is_never_given_a_job(database_url: str) -> None:
    """Paper and live runs are the execution service's, never the queue's: a worker starting while
    a session trades must leave its run alone (seen in `quant up`: a worker that started after
    the demo's paper session opened turned that session's run into a backtest job)."""
    config = _momentum(universe=["SYN000"], benchmark=None, data="synthetic:symbols=1,bars=2000")

    async def scenario() -> tuple[list[uuid.UUID], list[asyncpg.Record]]:
        paper = await queue_run(database_url, config)
        live = await queue_run(database_url, config)
        connection = await _connect(database_url)
        try:
            await connection.execute("DELETE FROM pgqueuer")  # sessions have no job
            await connection.execute(
                "UPDATE runs SET status = 'running', type = 'paper' WHERE id = $1", paper
            )
            await connection.execute(
                "UPDATE runs SET status = 'running', type = 'live' WHERE id = $1", live
            )
            requeued = await requeue_orphans(connection)
            rows = [
                await connection.fetchrow("SELECT status, type FROM runs WHERE id = $1", run)
                for run in (paper, live)
            ]
        finally:
            await connection.close()
        return requeued, rows

    requeued, rows = asyncio.run(scenario())
    assert requeued == []
    assert [(r["status"], r["type"]) for r in rows] == [("running", "paper"), ("running", "live")]


def test_a_run_interrupted_in_every_attempt_fails_with_the_reason(database_url: str) -> None:
    config = _momentum(universe=["SYN000"], benchmark=None, data="synthetic:symbols=1,bars=2000")

    async def scenario() -> asyncpg.Record:
        run_id = await queue_run(database_url, config)
        connection = await _connect(database_url)
        try:  # three attempts already interrupted (dead workers, lost databases)
            await connection.execute(
                "UPDATE runs SET status = 'running', attempts = $2 WHERE id = $1",
                run_id,
                MAX_ATTEMPTS,
            )
        finally:
            await connection.close()
        await serve(database_url, drain=True)
        return await _row(database_url, run_id)

    row = asyncio.run(scenario())
    assert row["status"] == "failed"
    assert row["message"] == f"stopped after {MAX_ATTEMPTS} attempts were interrupted"
    assert "lost the database" in row["error"]
