"""A run row and its job commit together or not at all."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from quant_db.jobs import RUN_ENTRYPOINT, create_run, request_cancel
from quant_db.urls import asyncpg_dsn


async def _with(url: str, body):  # type: ignore[no-untyped-def]
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            "INSERT INTO strategies (id, class_path, config, status, mode) "
            "VALUES ('s1', 'm:C', '{}', 'active', 'BACKTEST') ON CONFLICT DO NOTHING"
        )
        return await body(connection)
    finally:
        await connection.close()


def test_create_run_writes_row_and_job_together(database_url: str) -> None:
    async def body(connection: asyncpg.Connection) -> tuple[object, ...]:
        run_id = await create_run(
            connection,
            strategy_id="s1",
            run_type="backtest",
            config={"id": "s1"},
            backtest_config={},
        )
        job = await connection.fetchrow("SELECT entrypoint, payload, status FROM pgqueuer")
        run = await connection.fetchrow("SELECT status, config FROM runs WHERE id = $1", run_id)
        return run_id, job, run

    run_id, job, run = asyncio.run(_with(database_url, body))
    assert (job["entrypoint"], bytes(job["payload"]), job["status"]) == (
        RUN_ENTRYPOINT,
        run_id.bytes,
        "queued",
    )
    assert run["status"] == "queued"


def test_a_rolled_back_transaction_leaves_neither_row_nor_job(database_url: str) -> None:
    class Boom(Exception):
        pass

    async def create_then_fail(connection: asyncpg.Connection) -> None:
        async with connection.transaction():
            await create_run(
                connection, strategy_id="s1", run_type="backtest", config={}, backtest_config={}
            )
            raise Boom

    async def body(connection: asyncpg.Connection) -> tuple[int, int]:
        with pytest.raises(Boom):
            await create_then_fail(connection)
        return (
            await connection.fetchval("SELECT count(*) FROM runs"),
            await connection.fetchval("SELECT count(*) FROM pgqueuer"),
        )

    assert asyncio.run(_with(database_url, body)) == (0, 0)


def test_cancelling_a_queued_run_is_immediate_and_unknown_runs_say_so(database_url: str) -> None:
    import uuid  # noqa: PLC0415

    async def body(connection: asyncpg.Connection) -> tuple[object, object]:
        run_id = await create_run(
            connection, strategy_id="s1", run_type="backtest", config={}, backtest_config={}
        )
        return await request_cancel(connection, run_id), await request_cancel(
            connection, uuid.uuid4()
        )

    assert asyncio.run(_with(database_url, body)) == ("cancelled", None)
