"""The worker through a PostgreSQL outage: it waits, reconnects, retries the interrupted run.

Each test takes away a PostgreSQL of its own (the session's is shared by every other test).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from structlog.testing import capture_logs

from quant_backtest.database_link import Backoff, DatabaseLink
from quant_backtest.job_loop import serve
from quant_backtest.presence import PresenceSettings
from quant_db.presence import alive, connect
from tests.integration.private_servers import PrivatePostgres
from tests.integration.test_worker import _momentum, _row, queue_run

QUICK = Backoff(first=0.1, cap=0.5)  # reconnect attempts a test can wait for
HEARTBEAT = timedelta(seconds=2)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    yield server
    server.close()


@pytest.fixture
def database(postgres: PrivatePostgres) -> Iterator[str]:
    with postgres.database() as url:
        yield url


def _synthetic(bars: int) -> dict[str, Any]:
    return _momentum(universe=["SYN000"], benchmark=None, data=f"synthetic:symbols=1,bars={bars}")


async def _until(url: str, run_id: uuid.UUID, done: Any, seconds: float = 90) -> asyncpg.Record:
    deadline = time.monotonic() + seconds
    while True:
        try:
            row = await _row(url, run_id)
        except (OSError, asyncpg.PostgresError):  # the server is away for a moment
            row = None
        if row is not None and done(row):
            return row
        assert time.monotonic() < deadline, f"run {run_id}: {row and dict(row)}"
        await asyncio.sleep(0.1)


def _events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


def test_a_worker_started_while_postgresql_is_down_waits_then_takes_jobs(
    database: str, postgres: PrivatePostgres
) -> None:
    async def scenario() -> asyncpg.Record:
        await asyncio.to_thread(postgres.stop)
        stop = asyncio.Event()
        link = DatabaseLink(database, backoff=QUICK)
        worker = asyncio.create_task(
            serve(database, heartbeat_timeout=HEARTBEAT, stop=stop, link=link)
        )
        await asyncio.sleep(1.5)  # several attempts, all refused
        assert not worker.done()
        await asyncio.to_thread(postgres.start)
        run_id = await queue_run(database, _synthetic(2_000))
        row = await _until(database, run_id, lambda r: r["status"] in ("completed", "failed"))
        stop.set()
        await worker
        return row

    with capture_logs() as logs:
        row = asyncio.run(scenario())
    assert (row["status"], row["attempts"]) == ("completed", 1), row["error"]
    down = _events(logs, "worker.database_unreachable")
    assert len(down) == 1, "one line when it goes down, not one per attempt"
    assert "retry_in_s" in down[0]
    assert down[0]["error"].startswith(("FileNotFoundError", "ConnectionRefusedError"))
    assert len(_events(logs, "worker.database_reachable")) == 1


def test_a_run_interrupted_by_an_outage_is_retried_and_the_worker_resumes_by_itself(
    database: str, postgres: PrivatePostgres, redis_url: str
) -> None:
    prefix = f"test-workers-{uuid.uuid4().hex}"

    async def scenario() -> tuple[asyncpg.Record, asyncpg.Record, int]:
        long_run = await queue_run(database, _synthetic(200_000))
        stop = asyncio.Event()
        worker = asyncio.create_task(
            serve(
                database,
                heartbeat_timeout=HEARTBEAT,
                stop=stop,
                presence=PresenceSettings(redis_url, prefix=prefix, beat_seconds=0.2),
                link=DatabaseLink(database, backoff=QUICK),
            )
        )
        await _until(database, long_run, lambda r: r["status"] == "running" and r["processed"])
        await asyncio.to_thread(postgres.stop)
        await asyncio.sleep(1.0)
        assert not worker.done(), "the worker must outlive its database"
        redis = connect(redis_url)
        try:  # presence lives in Redis, which is still there: the worker stays listed
            present = len(await alive(redis, prefix))
        finally:
            await redis.aclose()
        await asyncio.to_thread(postgres.start)
        retried = await _until(database, long_run, lambda r: r["status"] != "running")
        later = await queue_run(database, _synthetic(2_000))  # queued once it is back
        after = await _until(database, later, lambda r: r["status"] in ("completed", "failed"))
        stop.set()
        await worker
        return retried, after, present

    with capture_logs() as logs:
        retried, after, present = asyncio.run(scenario())
    assert (retried["status"], retried["attempts"]) == ("completed", 2), retried["error"]
    assert after["status"] == "completed", after["error"]
    assert present == 1
    assert len(_events(logs, "worker.database_lost")) == 1
    assert len(_events(logs, "worker.database_reachable")) == 1
    assert not [entry for entry in logs if "exc_info" in entry or "exception" in entry]


def test_quant_worker_waits_out_outages_without_a_traceback_and_retries_the_run(
    database: str, postgres: PrivatePostgres, redis_url: str, tmp_path: Path
) -> None:
    """`quant worker` crashed with a traceback when PostgreSQL went away; now it waits at start,
    loses the database mid-run, and finishes the run by itself, logging one JSON line a change."""
    run_id = asyncio.run(queue_run(database, _synthetic(200_000)))
    postgres.stop()
    quant = Path(sys.executable).parent / "quant"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "QUANT_STATE_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [str(quant), "worker", "--drain", "--heartbeat-timeout", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        first = worker.stdout.readline()  # says it waits, then waits
        assert json.loads(first)["event"] == "worker.database_unreachable", first
        assert worker.poll() is None
        postgres.start()
        asyncio.run(_until(database, run_id, lambda r: r["status"] == "running" and r["processed"]))
        postgres.stop()  # under the running run
        time.sleep(1.0)
        assert worker.poll() is None, "the worker must outlive its database"
        postgres.start()
        rest, _ = worker.communicate(timeout=180)
    finally:
        if worker.poll() is None:
            worker.kill()
    output = first + rest
    assert worker.returncode == 0, output
    assert "Traceback" not in output
    events = [json.loads(line)["event"] for line in output.splitlines() if line.startswith("{")]
    assert events.count("worker.database_unreachable") == 1, output
    assert events.count("worker.database_lost") == 1, output
    assert events.count("worker.database_reachable") == 2, output
    row = asyncio.run(_row(database, run_id))
    assert (row["status"], row["attempts"]) == ("completed", 2), row["error"]
