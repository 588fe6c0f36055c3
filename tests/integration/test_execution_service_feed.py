"""The execution service and its feed's kind (ADR 0041): on a live feed whose health says nothing
every entry is refused as FEED_STALE (stored and counted as a risk denial); on a replay feed no
health is read at all, so trading goes on even with no Redis to read it from. Real PostgreSQL
and Valkey (embedded)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from quant_bus.redis_bus import RedisBus
from quant_db.schema import Order
from quant_db.schema.runs import Mode
from quant_execution.feed_gate import STALE
from quant_execution.service import ExecutionService
from quant_ingestion.bar_stream import publish_replay
from quant_marketdata import SampleSource
from tests.integration.test_execution_feed_gate import _dead_redis
from tests.integration.test_execution_service import momentum, register, until, url  # noqa: F401


def _denials() -> float:
    return REGISTRY.get_sample_value("quant_risk_denials_total", {"rule": STALE}) or 0.0


def _trade(database_url: str, redis_url: str, feed: str, health: Redis) -> dict[str, Any]:
    """Trade momentum_v1 in PAPER on `feed` (2014-2015 of the sample's SP500) until every bar
    ran; what the service said and stored."""
    config = momentum()
    frames = {"SP500": SampleSource().get_bars("SP500").loc[str(date(2014, 1, 1)) : "2015-12-31"]}

    async def main() -> dict[str, Any]:
        engine = create_async_engine(database_url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        bus = RedisBus.from_url(redis_url)
        service = ExecutionService(
            sessions, bus, SampleSource(), feed=feed, poll_s=0.05, block_ms=20, feed_health=health
        )
        stop = asyncio.Event()
        running = asyncio.create_task(service.run(stop))
        try:
            await asyncio.wait_for(service.ready.wait(), timeout=30)
            await register(sessions, config, Mode.PAPER)
            await until(lambda: config.id in service.trading)
            trading = service.trading[config.id]
            before = _denials()
            steps = await publish_replay(bus, frames, source=feed)
            await until(lambda: trading.runner.processed == steps)
            got = await _orders(sessions, trading.run_id)
            return {
                "orders": got,
                "denials": _denials() - before,
                "describe": service.describe(),
            }
        finally:
            stop.set()
            await running
            await bus.close()
            await health.aclose()
            await engine.dispose()

    return asyncio.run(main())


async def _orders(sessions: async_sessionmaker[AsyncSession], run_id: Any) -> list[Any]:
    async with sessions() as db:
        return list(
            (
                await db.execute(
                    select(Order.side, Order.status, Order.code, Order.reason)
                    .where(Order.run_id == run_id)
                    .order_by(Order.id)
                )
            ).all()
        )


def test_on_a_live_feed_with_no_health_every_entry_is_refused_stored_and_counted(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    got = _trade(database_url, url, "alpaca-test", Redis.from_url(url))
    assert got["describe"]["feed_kind"] == "live"
    orders = got["orders"]
    assert orders  # momentum wanted in
    assert all(
        (side, status, code) == ("buy", "rejected", STALE) for side, status, code, _ in orders
    )
    assert all(
        "reports no health for SP500 in quant:feed_health:alpaca-test" in r for *_, r in orders
    )
    assert got["denials"] == len(orders)


def test_on_a_replay_feed_no_health_is_read_and_entries_fill(
    database_url: str,
    url: str,  # noqa: F811
) -> None:
    got = _trade(database_url, url, "replay:feed-gate", _dead_redis())
    assert got["describe"]["feed_kind"] == "replay"
    statuses = [(side, status) for side, status, _, _ in got["orders"]]
    assert ("buy", "filled") in statuses
    assert not [code for *_, code, _ in got["orders"] if code == STALE]
    assert got["denials"] == 0
