"""The stale-data rule per live feed and symbol, on real PostgreSQL and Redis: the watchdog's warn
is a warning, its block is critical, each once per feed, symbol and state, only in market hours;
a slow feed is judged on its own interval (no stream-wide clock), and a live feed being traded
with no health at all is critical."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Literal

from redis.asyncio import Redis

from quant_bus.feed_health import FeedHealth, health_key, write_health
from quant_bus.streams import BARS_CLOSED
from quant_db.heartbeats import beat
from quant_monitoring.feed_staleness import stale_feeds
from tests.integration.monitoring.delivery import sessions
from tests.integration.monitoring.test_alert_rules import _alerts, _redis, _service

OPEN = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
CLOSED = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # a Saturday
State = Literal["ok", "warn", "block"]


async def _health(redis: Redis, feed: str, states: dict[str, State]) -> None:
    since = OPEN - timedelta(minutes=10)
    await write_health(
        redis,
        feed,
        [
            FeedHealth(
                source=feed,
                symbol=s,
                state=state,
                since=since,
                last_bar_at=since - timedelta(minutes=15),
                updated_at=OPEN,
            )
            for s, state in states.items()
        ],
    )
    await redis.persist(health_key(feed))


def test_warn_is_a_warning_block_is_critical_each_keyed_by_feed_and_symbol(redis_url: str) -> None:
    async def scenario() -> None:
        redis = await _redis(redis_url)
        await _health(redis, "alpaca", {"AAPL": "warn", "MSFT": "block", "SPY": "ok"})
        await _health(redis, "ib", {"AAPL": "ok"})
        found = {f.key: f for f in await stale_feeds(redis, True)}
        assert sorted(found) == ["stale_data:alpaca:AAPL:warn", "stale_data:alpaca:MSFT:block"]
        warn, block = found["stale_data:alpaca:AAPL:warn"], found["stale_data:alpaca:MSFT:block"]
        assert (warn.severity.value, block.severity.value) == ("warning", "critical")
        assert "no new entry in MSFT" in block.message
        assert block.context["feed"] == "alpaca"
        assert block.context["symbol"] == "MSFT"
        assert await stale_feeds(redis, False) == []  # the market is closed: nothing is due
        await redis.aclose()

    asyncio.run(scenario())


def test_the_service_raises_once_per_state_and_only_while_the_market_is_open(
    database_url: str, redis_url: str
) -> None:
    now = {"at": CLOSED}

    async def scenario() -> list[list[str]]:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            service = _service(factory, redis, clock=lambda: now["at"])

            async def stale() -> list[str]:
                return sorted(k for k in await service.evaluate() if k.startswith("stale_data"))

            await _health(redis, "alpaca", {"AAPL": "warn", "MSFT": "ok"})
            rounds = [await stale()]  # closed
            now["at"] = OPEN
            rounds.append(await stale())
            rounds.append(await stale())  # the same warning persists: nothing new
            await _health(redis, "alpaca", {"AAPL": "block"})
            rounds.append(await stale())  # it became a block: critical, raised
            severities = {a.dedupe_key: a.severity for a in await _alerts(factory)}
            rounds.append([f"{k}={v}" for k, v in sorted(severities.items()) if "stale" in k])
            await redis.aclose()
            return rounds

    rounds = asyncio.run(scenario())
    assert rounds == [
        [],
        ["stale_data:alpaca:AAPL:warn"],
        [],
        ["stale_data:alpaca:AAPL:block"],
        ["stale_data:alpaca:AAPL:block=critical", "stale_data:alpaca:AAPL:warn=warning"],
    ]


def test_a_slow_feed_with_minutes_old_bars_raises_nothing_while_its_watchdog_says_ok(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> list[str]:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            # a 5-minute feed: its last bar went on the bus four minutes ago, which is on time
            last = int((OPEN - timedelta(minutes=4)).timestamp() * 1000)
            await redis.xadd(BARS_CLOSED, {"x": "1"}, id=f"{last}-0")
            await _health(redis, "alpaca-5m", {"AAPL": "ok", "MSFT": "ok"})
            service = _service(factory, redis, clock=lambda: OPEN)
            raised = [k for k in await service.evaluate() if k.startswith("stale_data")]
            await redis.aclose()
            return raised

    assert asyncio.run(scenario()) == []


def test_a_traded_live_feed_without_health_is_critical_and_a_replay_feed_is_not_watched(
    database_url: str, redis_url: str
) -> None:
    async def scenario() -> list[str]:
        async with sessions(database_url) as factory:
            redis = await _redis(redis_url)
            async with factory() as session:
                started = datetime.now(UTC)
                for instance, feed, kind in (
                    ("h:1", "alpaca", "live"),
                    ("h:2", "replay", "replay"),
                ):
                    await beat(
                        session,
                        "execution",
                        instance,
                        started_at=started,
                        interval_s=60.0,
                        detail={"feed": feed, "feed_kind": kind},
                    )
                await session.commit()
            service = _service(factory, redis, clock=lambda: OPEN)
            raised = [k for k in await service.evaluate() if k.startswith("stale_data")]
            (alert,) = [a for a in await _alerts(factory) if a.dedupe_key in raised]
            assert alert.severity == "critical"
            assert "quant data stream" in alert.message
            await redis.aclose()
            return raised

    assert asyncio.run(scenario()) == ["stale_data:alpaca:no_health"]
