"""quant up --demo queues its backtests once: a restart shows the same runs instead of new ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from quant_backtest.metadata import code_version
from quant_cli.demo_runs import DEMO_STRATEGIES, queue_demo_runs
from quant_db.urls import asyncpg_dsn

STRATEGIES = Path(__file__).resolve().parents[2] / "configs" / "strategies"


async def _sql(url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await connection.fetch(statement, *args))
    finally:
        await connection.close()


def sql(url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    return asyncio.run(_sql(url, statement, *args))


def _complete(url: str, run_id: str, version: str) -> None:
    sql(
        url,
        "UPDATE runs SET status = 'completed', finished_at = now(), "
        "repro = jsonb_build_object('code_version', $2::text) WHERE id::text = $1",
        run_id,
        version,
    )


def test_a_restart_shows_the_pending_demo_runs_instead_of_queueing_them_again(
    database_url: str,
) -> None:
    first = asyncio.run(queue_demo_runs(database_url, STRATEGIES))
    assert [r.strategy_id for r in first] == list(DEMO_STRATEGIES)
    assert all(r.reused is None for r in first)
    again = asyncio.run(queue_demo_runs(database_url, STRATEGIES))
    assert [r.run_id for r in again] == [r.run_id for r in first]
    assert all(r.reused == "already queued with the same config and settings" for r in again)
    assert sql(database_url, "SELECT count(*) FROM runs")[0][0] == 2
    assert sql(database_url, "SELECT count(*) FROM pgqueuer")[0][0] == 2  # no second job either
    overrides = sql(database_url, "SELECT DISTINCT params_overrides::text FROM runs")
    assert [r[0] for r in overrides] == ["{}"]


def test_a_completed_demo_run_of_this_code_is_shown_again_and_the_restart_says_so(
    database_url: str,
) -> None:
    first = asyncio.run(queue_demo_runs(database_url, STRATEGIES))
    for run in first:
        _complete(database_url, run.run_id, code_version())
    again = asyncio.run(queue_demo_runs(database_url, STRATEGIES))
    assert [r.run_id for r in again] == [r.run_id for r in first]
    assert all(r.reused is not None for r in again)
    assert all("with the same config, settings and code version" in str(r.reused) for r in again)
    assert all(str(r.reused).startswith("completed 20") for r in again)


def test_other_code_a_failed_run_or_a_changed_config_queue_the_demo_again(
    database_url: str, tmp_path: Path
) -> None:
    momentum, benchmark = asyncio.run(queue_demo_runs(database_url, STRATEGIES))
    _complete(database_url, momentum.run_id, "an older commit")
    sql(database_url, "UPDATE runs SET status = 'failed' WHERE id::text = $1", benchmark.run_id)
    again = asyncio.run(queue_demo_runs(database_url, STRATEGIES))
    assert [r.reused for r in again] == [None, None]
    assert {r.run_id for r in again}.isdisjoint({momentum.run_id, benchmark.run_id})
    # the YAML changed since: its pending run is not the same run any more
    for name in DEMO_STRATEGIES:
        text = (STRATEGIES / f"{name}.yaml").read_text()
        (tmp_path / f"{name}.yaml").write_text(text.replace("seed: 0", "seed: 1"))
    changed = asyncio.run(queue_demo_runs(database_url, tmp_path))
    assert [r.reused for r in changed] == [None, None]
    assert sql(database_url, "SELECT count(*) FROM runs")[0][0] == 6
