"""The demo backtests `quant up --demo` shows: queued once, then the same runs shown again."""

# ruff: noqa: PLC0415 - the database, engine and strategies load when the demo starts
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_STRATEGIES = ("momentum_v1", "buy_and_hold")

# The same demo run: same strategy config and backtest settings, and, once completed, made by
# the same code (the worker's own code_version). A queued or running one is reused whatever the
# code: the worker that picks it up runs today's. Failed and cancelled runs are not reused.
_SAME_DEMO_RUN = """
SELECT id::text AS id, status, finished_at FROM runs
 WHERE strategy_id = $1 AND type = 'backtest'
   AND config = $2::jsonb AND backtest_config = $3::jsonb
   AND (status IN ('queued', 'running')
        OR (status = 'completed' AND repro ->> 'code_version' = $4))
 ORDER BY status = 'completed' DESC, finished_at DESC NULLS LAST, created_at DESC
 LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class DemoRun:
    strategy_id: str
    run_id: str
    reused: str | None = None
    """Why an existing run is shown instead of a new one (None: queued now)."""


def _reuse_note(row: Any) -> str:
    if row["status"] == "completed":
        finished = row["finished_at"].strftime("%Y-%m-%d %H:%M UTC")
        return f"completed {finished} with the same config, settings and code version"
    return f"already {row['status']} with the same config and settings"


async def queue_demo_runs(url: str, folder: Path) -> list[DemoRun]:
    """Queue each demo backtest unless the database already has the same run completed or
    pending; return what is shown (queued now, or the existing run and why)."""
    import asyncpg

    from quant_backtest.metadata import code_version
    from quant_db.jobs import create_run
    from quant_db.urls import asyncpg_dsn
    from quant_engine import BacktestConfig
    from quant_strategy import load_strategy_config

    version = code_version()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    runs = []
    try:
        for name in DEMO_STRATEGIES:
            config = load_strategy_config(folder / f"{name}.yaml")
            dump = config.model_dump(mode="json", by_alias=True)
            backtest = BacktestConfig().model_dump(mode="json")
            await connection.execute(
                "INSERT INTO strategies (id, class_path, config, status, mode) "
                "VALUES ($1, $2, $3, 'active', 'BACKTEST') ON CONFLICT (id) DO NOTHING",
                config.id,
                config.class_path,
                json.dumps(dump),
            )
            same = await connection.fetchrow(
                _SAME_DEMO_RUN, config.id, json.dumps(dump), json.dumps(backtest), version
            )
            if same is not None:
                runs.append(DemoRun(config.id, same["id"], _reuse_note(same)))
                continue
            run_id = await create_run(
                connection,
                strategy_id=config.id,
                run_type="backtest",
                config=dump,
                backtest_config=backtest,
                message="queued by quant up --demo",
                params_overrides={},
            )
            runs.append(DemoRun(config.id, str(run_id)))
    finally:
        await connection.close()
    return runs


DEMO_PAPER_STRATEGY = "momentum_v1"
DEMO_REPLAY = "2017-01-01..2018-12-31"  # starts while the crossover is long: a position at once
DEMO_SPEED = "86400x"
"""A trading day a second (a weekend three): the paper session's positions, orders and equity
move on the dashboard while a person watches."""

_PAPER_SESSION_READY = """
SELECT r.id::text FROM runs r JOIN reconciliation c ON c.run_id = r.id
 WHERE r.strategy_id = $1 AND r.type = 'paper' AND r.status = 'running'
 ORDER BY r.created_at DESC LIMIT 1
"""


async def start_demo_paper(url: str, strategy_id: str = DEMO_PAPER_STRATEGY) -> bool:
    """Move `strategy_id` to PAPER (audited as the demo's doing, as an admin's move through the
    API would be); False when it was in PAPER already."""
    import asyncpg

    from quant_db.urls import asyncpg_dsn

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with connection.transaction():
            before = await connection.fetchval(
                "SELECT mode FROM strategies WHERE id = $1 FOR UPDATE", strategy_id
            )
            if before is None or before == "PAPER":
                return False
            await connection.execute(
                "UPDATE strategies SET mode = 'PAPER', updated_at = now() WHERE id = $1",
                strategy_id,
            )
            await connection.execute(
                "INSERT INTO audit_log (action, target_type, target_id, detail, request_id) "
                "VALUES ('strategy.mode_transition', 'strategy', $1, $2, 'quant-up-demo')",
                strategy_id,
                json.dumps(
                    {
                        "before": before,
                        "after": "PAPER",
                        "reason": "quant up --demo: a paper session over a replay of the samples",
                        "operator": "quant up --demo",
                    }
                ),
            )
    finally:
        await connection.close()
    return True


async def paper_session_ready(url: str, strategy_id: str = DEMO_PAPER_STRATEGY) -> str | None:
    """The id of `strategy_id`'s running paper session once the execution service has opened
    and reconciled it (its consumer group exists: bars published from now on reach it)."""
    import asyncpg

    from quant_db.urls import asyncpg_dsn

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        found: str | None = await connection.fetchval(_PAPER_SESSION_READY, strategy_id)
        return found
    finally:
        await connection.close()
