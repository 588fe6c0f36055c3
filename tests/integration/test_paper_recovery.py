"""Rebuilding a paper session from PostgreSQL and the stream: the same session when the replay
decides as before, a loud RecoveryError (and nothing written) when it does not."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_db.schema import Fill, Order, OrderEvent
from quant_domain.ports import OrderJournal
from quant_engine.paper import PaperSession, equal_runs
from quant_execution.paper_runner import PaperRunner
from quant_execution.recovery import Recovery, RecoveryError, restore_session, stream_history
from quant_strategy import build_strategy
from tests.integration.paper_crash_child import feed, scenario
from tests.integration.test_paper_crash import _open_run, url  # noqa: F401 - the fixture

STEPS = 120


def _build(**params: Any) -> Callable[[OrderJournal], PaperSession]:
    config, _, bt = scenario()
    if params:
        config = config.updated(params={**config.params, **params})

    def build(journal: OrderJournal) -> PaperSession:
        return PaperSession(build_strategy(config), bt, account="paper", journal=journal)

    return build


def _after_a_session(
    database_url: str, redis_url: str, then: Callable[[Recovery, Any], Awaitable[Any]]
) -> Any:
    """Trade at least STEPS steps of the scenario's feed (whole batches: a few more), with
    marks, then call `then(recovery, run)`."""
    run_id = _open_run(database_url, redis_url)

    async def main() -> Any:
        engine = create_async_engine(database_url)
        sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            engine, expire_on_commit=False
        )
        bus = RedisBus.from_url(redis_url)
        client = Redis.from_url(redis_url, decode_responses=True)
        group = f"paper-{run_id}"

        async def history() -> Any:
            return await stream_history(client, feed(run_id), group=group)

        try:
            recovery = Recovery(sessions, run_id, _build(), history)
            runner = await PaperRunner.resume(
                bus, recovery, group=group, name="execution-1", source=feed(run_id), block_ms=50
            )
            await runner.run_until(STEPS, timeout=60)
            return await then(recovery, runner.session.result())
        finally:
            await client.aclose()
            await bus.close()
            await engine.dispose()

    return asyncio.run(main())


async def _rows(sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID) -> tuple[int, ...]:
    async with sessions() as db:
        return tuple(
            [
                await db.scalar(select(func.count()).select_from(t).where(t.run_id == run_id)) or 0
                for t in (Order, OrderEvent, Fill)
            ]
        )


def test_a_restored_session_is_the_one_that_ran_and_writes_nothing_new(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def then(recovery: Recovery, ran: Any) -> Any:
        before = await _rows(recovery.sessions, recovery.run_id)
        restored = await restore_session(recovery)
        return before, await _rows(recovery.sessions, recovery.run_id), restored, ran

    before, after, restored, ran = _after_a_session(database_url, url, then)
    assert len(restored.steps) == len(ran.index) >= STEPS
    assert [m.index for m in restored.steps] == list(range(len(ran.index)))
    assert equal_runs(restored.session.result(), ran) == []
    assert len(ran.orders) > 10
    assert after == before
    assert restored.journal.written == 0
    assert restored.journal.skipped > len(ran.orders)  # every row and report found stored
    assert not restored.journal.recovering  # ready to trade on


def test_a_replay_that_decides_differently_raises_and_writes_nothing(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def then(recovery: Recovery, ran: Any) -> Any:
        before = await _rows(recovery.sessions, recovery.run_id)
        other = Recovery(recovery.sessions, recovery.run_id, _build(fast=4), recovery.history)
        with pytest.raises(RecoveryError) as caught:
            await restore_session(other)
        return before, await _rows(recovery.sessions, recovery.run_id), str(caught.value)

    before, after, message = _after_a_session(database_url, url, then)
    assert after == before
    assert "rebuilding its session failed" in message


def test_a_session_whose_bars_left_the_stream_cannot_be_rebuilt(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    async def then(recovery: Recovery, ran: Any) -> Any:
        async def trimmed() -> Any:
            return []

        gone = Recovery(recovery.sessions, recovery.run_id, recovery.build, trimmed)
        with pytest.raises(RecoveryError) as caught:
            await restore_session(gone)
        return str(caught.value)

    message = _after_a_session(database_url, url, then)
    assert "step 0" in message
    assert "the stream holds 0" in message
