"""The backtest worker and the execution service beat while they run and say when they stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from quant_backtest.job_loop import serve
from quant_db.heartbeats import last_beats
from tests.integration.monitoring.delivery import sessions

ROOT = Path(__file__).resolve().parents[3]
QUANT = str(Path(sys.executable).with_name("quant"))


async def _beats(url: str) -> dict[str, str]:
    async with sessions(url) as factory, factory() as session:
        return {b.service: b.state for b in await last_beats(session)}


def test_worker_beats_while_it_serves_and_is_stopped_after(database_url: str) -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(serve(database_url, stop=stop))
        deadline = time.monotonic() + 20
        while (await _beats(database_url)).get("worker") != "ok":
            assert time.monotonic() < deadline, "the worker never beat"
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, 30)
        assert (await _beats(database_url))["worker"] == "stopped"

    asyncio.run(scenario())


def test_execution_service_beats_while_it_runs_and_is_stopped_after(
    database_url: str, redis_url: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    child = subprocess.Popen(
        [QUANT, "execution", "run", "--data", "samples", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while asyncio.run(_beats(database_url)).get("execution") != "ok":
            assert child.poll() is None, "the execution service ended early"
            assert time.monotonic() < deadline, "the execution service never beat"
            time.sleep(0.2)
        child.send_signal(signal.SIGTERM)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert asyncio.run(_beats(database_url))["execution"] == "stopped"
