"""The worker's default backtest takes the compiled run, and a cancel stops it wherever it lands."""

from __future__ import annotations

import asyncio
import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from quant_backtest import worker
from quant_backtest.job_loop import serve
from quant_db.jobs import request_cancel
from quant_db.urls import asyncpg_dsn
from quant_strategy import load_strategy_config
from tests.integration.test_worker import queue_run

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "strategies"


def _momentum(**changes: Any) -> dict[str, Any]:
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(**changes)
    return config.model_dump(mode="json", by_alias=True)


async def _row(url: str, run_id: uuid.UUID, sql: str) -> asyncpg.Record:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return await connection.fetchrow(sql, run_id)
    finally:
        await connection.close()


def test_worker_default_backtest_runs_compiled_and_stores_which_path_ran(
    database_url: str,
) -> None:
    run_id = asyncio.run(queue_run(database_url, _momentum()))
    asyncio.run(serve(database_url, drain=True))
    row = asyncio.run(_row(database_url, run_id, "SELECT * FROM runs WHERE id = $1"))
    assert (row["status"], row["progress"]) == ("completed", 1.0), row["error"]
    assert json.loads(row["repro"])["engine"] == "compiled"
    assert round(json.loads(row["metrics"])["end_equity"], 2) == 122_651.59
    report = asyncio.run(
        _row(database_url, run_id, "SELECT html_gzip FROM run_reports WHERE run_id = $1")
    )
    page = gzip.decompress(report["html_gzip"]).decode("utf-8")
    assert "<tr><th>Engine</th><td><code>compiled kernel</code></td></tr>" in page


def test_a_cancel_after_the_last_progress_report_is_honoured_and_stores_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_compute = worker.compute

    def compute_then_cancelled(*args: Any, **kwargs: Any) -> worker.Outcome:
        outcome = real_compute(*args, **kwargs)  # its last progress report saw no cancel

        async def cancel() -> None:
            connection = await asyncpg.connect(asyncpg_dsn(database_url))
            try:
                assert await request_cancel(connection, kwargs.get("run_id") or args[5]) == (
                    "running"
                )
            finally:
                await connection.close()

        asyncio.run(cancel())  # this thread has no event loop of its own
        return outcome

    monkeypatch.setattr(worker, "compute", compute_then_cancelled)
    run_id = asyncio.run(queue_run(database_url, _momentum()))
    asyncio.run(serve(database_url, drain=True))
    row = asyncio.run(_row(database_url, run_id, "SELECT * FROM runs WHERE id = $1"))
    assert (row["status"], row["message"]) == ("cancelled", "cancelled while running")
    assert json.loads(row["metrics"]) == {}  # as queued: no metrics stored
    stored = asyncio.run(
        _row(
            database_url,
            run_id,
            "SELECT (SELECT count(*) FROM equity_points WHERE run_id = $1) AS e, "
            "(SELECT count(*) FROM fills WHERE run_id = $1) AS f, "
            "(SELECT count(*) FROM run_reports WHERE run_id = $1) AS r",
        )
    )
    assert tuple(stored) == (0, 0, 0)


def test_cancel_stops_a_compiled_backtest_mid_run(database_url: str) -> None:
    # 1.5 million hourly steps in a hundred chunks; fast averages, so tens of thousands of
    # fills keep the run going well past the worker's half-second between progress reports
    config = _momentum(
        universe=["SYN000"],
        benchmark=None,
        params={"fast": 2, "slow": 5},
        timeframe="1h",
        data="synthetic:symbols=1,bars=1500000,timeframe=1h",
    )

    async def scenario() -> asyncpg.Record:
        run_id = await queue_run(database_url, config)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(database_url, stop=stop))
        for _ in range(1200):
            row = await _row(database_url, run_id, "SELECT * FROM runs WHERE id = $1")
            if row["status"] == "running" and row["processed"] > 0:
                break
            await asyncio.sleep(0.05)
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        assert await request_cancel(connection, run_id) == "running"
        await connection.close()
        for _ in range(1200):
            row = await _row(database_url, run_id, "SELECT * FROM runs WHERE id = $1")
            if row["status"] != "running":
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task
        return row

    row = asyncio.run(scenario())
    assert (row["status"], row["message"]) == ("cancelled", "cancelled while running")
    assert 0 < row["processed"] < row["total"]
