"""Runs and their jobs: a run row and its queue job are written in one transaction.

A run is never queued without its row, and a row is never left without its job: both commit or
neither does (ARCHITECTURE.md, "Nothing is lost").
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from pgqueuer import AsyncpgDriver, Queries

RUN_ENTRYPOINT = "run"


async def create_run(
    connection: asyncpg.Connection[Any],
    *,
    strategy_id: str | None,
    run_type: str,
    config: dict[str, Any],
    backtest_config: dict[str, Any],
    created_by: int | None = None,
    message: str = "queued",
    params_overrides: dict[str, Any] | None = None,
    repro: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Insert a queued run and enqueue its job, atomically; returns the run id.

    `params_overrides` are the params the request changed from the strategy's own (kept so the
    runs list can tell runs apart); None records nothing. `repro` starts the run's
    reproducibility facts with what the worker must know beyond the two configs (the risk
    policy it runs under); the worker replaces them with the full set when the run completes.
    """
    run_id = uuid.uuid4()
    async with connection.transaction():
        await connection.execute(
            "INSERT INTO runs (id, strategy_id, type, status, progress, processed, total, message, "
            "config, backtest_config, repro, metrics, cancel_requested, attempts, created_by, "
            "params_overrides) "
            "VALUES ($1, $2, $3, 'queued', 0, 0, 0, $4, $5, $6, $9, '{}', false, 0, $7, $8)",
            run_id,
            strategy_id,
            run_type,
            message,
            json.dumps(config),
            json.dumps(backtest_config),
            created_by,
            None if params_overrides is None else json.dumps(params_overrides),
            json.dumps(repro or {}),
        )
        await Queries(AsyncpgDriver(connection)).enqueue(RUN_ENTRYPOINT, run_id.bytes)
    return run_id


async def request_cancel(connection: asyncpg.Connection[Any], run_id: uuid.UUID) -> str | None:
    """Ask a run to stop: a queued run is cancelled at once, a running one at its next progress
    report. Returns the run's status afterwards, or None when there is no such run."""
    row = await connection.fetchrow(
        "UPDATE runs SET cancel_requested = true, "
        "status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, "
        "finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END, "
        "message = CASE WHEN status = 'queued' THEN 'cancelled before it started' ELSE message END "
        "WHERE id = $1 RETURNING status",
        run_id,
    )
    return None if row is None else str(row["status"])


# one worker at a time looks for orphans, so two never enqueue the same run twice
_REQUEUE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('quant.jobs.requeue_orphans'))"


async def requeue_orphans(connection: asyncpg.Connection[Any]) -> list[uuid.UUID]:
    """Give a new job to every unfinished run that has none, and return their ids.

    A run's job leaves the queue only after the run has its final status, so a queued or running
    run without a job lost it in an interrupted attempt (pgqueuer recorded the job as ended while
    the worker could not write the run, its database gone). The run goes back to `queued`; its
    next attempt counts towards the worker's attempt limit like any other. Paper and live runs
    never had a job: they belong to the execution service and are left alone.
    """
    queries = Queries(AsyncpgDriver(connection))
    table = queries.qbe.settings.queue_table
    async with connection.transaction():
        await connection.execute(_REQUEUE_LOCK)
        rows = await connection.fetch(
            "UPDATE runs SET status = 'queued', message = CASE WHEN status = 'running' "
            "THEN 'queued again: its last attempt was interrupted' ELSE message END "
            "WHERE status IN ('queued', 'running') AND type IN ('backtest', 'walk_forward', 'train') "
            "AND NOT EXISTS ("
            f"SELECT 1 FROM {table} q WHERE q.entrypoint = $1 AND q.payload = uuid_send(runs.id)"
            ") RETURNING id",
            RUN_ENTRYPOINT,
        )
        ids: list[uuid.UUID] = [row["id"] for row in rows]
        if ids:
            payloads: list[bytes | None] = [i.bytes for i in ids]
            await queries.enqueue([RUN_ENTRYPOINT] * len(ids), payloads, [0] * len(ids))
    return ids
