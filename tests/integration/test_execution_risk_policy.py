"""The risk policy in the execution service: a session is built under the policy's caps, and a
newer version tightens its gate from the next step. Real PostgreSQL and Valkey (embedded)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_bus.redis_bus import RedisBus
from quant_db import risk
from quant_db.schema import Run, User
from quant_db.schema.identity import Role
from quant_db.schema.runs import Mode
from quant_execution.service import ExecutionService
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource
from tests.integration.test_execution_service import (  # noqa: F401 - `url` is a fixture
    FEED,
    momentum,
    register,
    until,
    url,
    with_service,
)


async def _apply(
    sessions: async_sessionmaker[AsyncSession], policy: dict[str, Any], request_id: str
) -> None:
    async with sessions.begin() as db:
        admin = await db.get(User, 1)
        if admin is None:
            admin = User(id=1, username="ops", password_hash="x", role=Role.ADMIN)
            db.add(admin)
            await db.flush()
        await risk.apply_policy(
            db,
            user=admin,
            policy=policy,
            reason="test",
            source="test",
            request_id=request_id,
            via="test",
        )


def test_a_paper_session_trades_under_the_policy_and_a_new_version_holds_from_the_next_step(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    config = momentum()
    frames = {"SP500": SampleSource().get_bars("SP500").loc[str(date(2016, 1, 1)) : "2016-02-15"]}

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> dict[str, Any]:
        await _apply(sessions, {"account": {"max_capital_deployed": 0.6}}, "v1")
        await register(sessions, config, Mode.PAPER)
        await until(lambda: config.id in service.trading)
        trading = service.trading[config.id]
        built = trading.session.loop.gate.limits
        async with sessions() as db:
            run = await db.get(Run, trading.run_id)
            assert run is not None
            stored = run.config["risk"]
        await _apply(sessions, {"strategies": {config.id: {"max_position_pct": 0.05}}}, "v2")
        steps = await publish_replay(bus, frames, source=FEED)
        await until(lambda: trading.runner.processed == steps)
        return {"built": built, "stored": stored, "now": trading.session.loop.gate.limits}

    got = with_service(database_url, url, scenario)
    assert got["built"].max_gross_exposure == 0.6  # the policy in force when it was built
    assert got["stored"]["max_gross_exposure"] == 0.6  # the run's config says so
    assert got["now"].max_position_pct == 0.05  # v2, from the step after it was applied
    assert got["now"].max_gross_exposure == 0.6


def test_books_on_one_account_share_its_max_positions_by_budget_and_a_too_small_one_is_refused(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    base = momentum()
    half = base.updated(id="half_book", budget=Decimal(50_000))
    fifth = base.updated(id="fifth_book", budget=Decimal(20_000))
    tiny = base.updated(id="tiny_book", budget=Decimal(5_000))

    async def scenario(
        service: ExecutionService, sessions: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> dict[str, Any]:
        await _apply(sessions, {"account": {"max_positions": 10}}, "v1")
        for config in (half, fifth, tiny):
            await register(sessions, config, Mode.PAPER)
        await until(lambda: {half.id, fifth.id} <= set(service.trading))
        await until(lambda: tiny.id in service.refused)
        return {
            "limits": {
                sid: service.trading[sid].session.loop.gate.limits.max_positions
                for sid in (half.id, fifth.id)
            },
            "refused": service.refused[tiny.id],
        }

    got = with_service(database_url, url, scenario)
    # the account (100,000) allows 10 positions: 5 for a 50 % budget, 2 for 20 %
    assert got["limits"] == {"half_book": 5, "fifth_book": 2}
    assert "5.0% of the account" in got["refused"]
    assert "max_positions (10)" in got["refused"]
