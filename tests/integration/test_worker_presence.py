"""A worker announces itself and its current runs in Redis, and keeps working when Redis is away."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from structlog.testing import capture_logs

from quant_backtest.job_loop import serve
from quant_backtest.presence import PresenceSettings
from quant_db.jobs import request_cancel
from quant_db.presence import WorkerPresence, alive, connect, presence_key
from quant_db.urls import asyncpg_dsn
from quant_strategy import load_strategy_config
from tests.integration.test_worker import queue_run

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "strategies"


def _synthetic(bars: int) -> dict[str, Any]:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(
        universe=["SYN000"], benchmark=None, data=f"synthetic:symbols=1,bars={bars}"
    )
    return config.model_dump(mode="json", by_alias=True)


async def _status(url: str, run_id: uuid.UUID) -> str:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return str(await connection.fetchval("SELECT status FROM runs WHERE id = $1", run_id))
    finally:
        await connection.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_worker_announces_its_current_run_with_a_ttl_and_withdraws_on_stop(
    database_url: str, redis_url: str
) -> None:
    prefix = f"test-workers-{uuid.uuid4().hex}"
    settings = PresenceSettings(redis_url, prefix=prefix, beat_seconds=0.2, ttl_seconds=30)

    async def scenario() -> tuple[WorkerPresence, int, list[WorkerPresence]]:
        run_id = await queue_run(database_url, _synthetic(600_000))
        redis = connect(redis_url)
        stop = asyncio.Event()
        worker = asyncio.create_task(
            serve(database_url, concurrency=2, stop=stop, presence=settings)
        )
        try:
            busy: WorkerPresence | None = None
            for _ in range(600):
                found = await alive(redis, prefix)
                if found and found[0].current_runs == [run_id]:
                    busy = found[0]
                    break
                await asyncio.sleep(0.05)
            assert busy is not None, "the worker never announced its run"
            ttl = await redis.ttl(presence_key(prefix, busy.host, busy.pid))
            await asyncio.sleep(0.5)  # a few beats later the key is refreshed
            [later] = await alive(redis, prefix)
            assert later.last_seen > busy.last_seen
            connection = await asyncpg.connect(asyncpg_dsn(database_url))
            await request_cancel(connection, run_id)
            await connection.close()
            for _ in range(600):  # the cancelled run ends and the worker says so
                [worker_now] = await alive(redis, prefix)
                if not worker_now.current_runs:
                    break
                await asyncio.sleep(0.05)
            assert worker_now.current_runs == []
            stop.set()
            await worker
            return busy, ttl, await alive(redis, prefix)
        finally:
            stop.set()
            await redis.aclose()

    busy, ttl, after = asyncio.run(scenario())
    host, pid = socket.gethostname(), os.getpid()
    assert (busy.id, busy.host, busy.pid, busy.concurrency) == (f"{host}:{pid}", host, pid, 2)
    assert busy.started_at <= busy.last_seen
    assert 0 < ttl <= 30
    assert after == []  # a clean stop deletes the key at once


def test_a_worker_without_redis_still_runs_its_jobs_and_warns_once(database_url: str) -> None:
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    settings = PresenceSettings(dead, prefix="unused", beat_seconds=0.1, ttl_seconds=30)

    async def scenario() -> str:
        run_id = await queue_run(database_url, _synthetic(3_000))
        await serve(database_url, drain=True, presence=settings)
        return await _status(database_url, run_id)

    structlog.reset_defaults()
    with capture_logs() as logs:
        status = asyncio.run(scenario())
    assert status == "completed"
    failed = [entry for entry in logs if entry["event"] == "worker.presence_failed"]
    assert len(failed) == 1, logs
    assert failed[0]["log_level"] == "warning"
    assert "ConnectionError" in failed[0]["error"] or "Error" in failed[0]["error"]
