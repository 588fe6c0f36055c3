"""Live bars end to end: the fake Alpaca stream -> AlpacaBarStream -> aggregator + watchdog -> the
real bus (embedded Valkey, or QUANT_TEST_REDIS_URL). The clock is injected: no test waits minutes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from pydantic import SecretStr
from redis.asyncio import Redis

from quant_bus import BARS_CLOSED, FEED_HEALTH, BarClosedEvent, FeedHealthChanged, RedisBus
from quant_bus.feed_health import entries_allowed, health_key, read_health
from quant_bus.streams import decode
from quant_domain import Timeframe
from quant_ingestion.live_bars import LiveBarFeed
from quant_marketdata.alpaca import AlpacaDataSettings
from quant_marketdata.alpaca.stream import AlpacaBarStream
from quant_marketdata.live_source import Backoff
from tests.fakes.alpaca_market_stream import KEY_ID, SECRET_KEY, FakeAlpacaMarketStream

OPEN = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # a Monday, 09:30 New York
MINUTE = timedelta(minutes=1)
SYMBOLS = ("AAPL", "MSFT")


class Clock:
    """The feed's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def url(redis_url: str) -> Iterator[str]:
    client = redis.Redis.from_url(redis_url)
    client.delete(BARS_CLOSED, health_key("alpaca"))
    yield redis_url
    client.delete(BARS_CLOSED, health_key("alpaca"))
    client.close()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def run_feed(
    url: str,
    fake: FakeAlpacaMarketStream,
    clock: Clock,
    scenario: Callable[[LiveBarFeed, RedisBus, Redis], Awaitable[Any]],
) -> Any:
    async def main() -> Any:
        settings = AlpacaDataSettings(  # type: ignore[call-arg]
            _env_file=None,
            APCA_API_KEY_ID=SecretStr(KEY_ID),
            APCA_API_SECRET_KEY=SecretStr(SECRET_KEY),
            stream_url=fake.url,
        )
        source = AlpacaBarStream(
            SYMBOLS, settings=settings, backoff=Backoff(0.02, 0.1, rng=random.Random(3))
        )
        bus = RedisBus.from_url(url)
        health = Redis.from_url(url, decode_responses=True)
        feed = LiveBarFeed(
            bus, source, timeframe=Timeframe.parse("5m"), health=health, clock=clock, tick_s=0.02
        )
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        try:
            return await scenario(feed, bus, health)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await bus.close()
            await health.aclose()

    return asyncio.run(main())


async def push_minutes(
    fake: FakeAlpacaMarketStream, clock: Clock, first: datetime, count: int
) -> None:
    """`count` minute bars per symbol from `first`, each sent a second after its minute ended."""
    for i in range(count):
        start = first + i * MINUTE
        clock.now = start + MINUTE + timedelta(seconds=1)
        for n, symbol in enumerate(SYMBOLS):
            price = 100.0 * (n + 1) + i
            await asyncio.to_thread(
                fake.push_bar, symbol, start, price, price + 2, price - 1, price + 1, 10.0 * (i + 1)
            )


def closed_bars(url: str) -> list[BarClosedEvent]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        entries: list[tuple[str, dict[str, str]]] = client.xrange(BARS_CLOSED)  # type: ignore[assignment]
    finally:
        client.close()
    events = [decode(BARS_CLOSED, fields) for _, fields in entries]
    assert all(isinstance(e, BarClosedEvent) for e in events)
    return events  # type: ignore[return-value]


def test_minute_bars_from_the_stream_reach_the_bus_as_closed_five_minute_bars(url: str) -> None:
    clock = Clock(OPEN)
    with FakeAlpacaMarketStream() as fake:

        async def scenario(feed: LiveBarFeed, bus: RedisBus, health: Redis) -> None:
            await asyncio.to_thread(fake.wait_subscribed, "MSFT")
            await push_minutes(fake, clock, OPEN, 10)
            await until(lambda: feed.counts.steps == 2)

        run_feed(url, fake, clock, scenario)
    events = closed_bars(url)
    assert [(e.timestamp, e.symbol) for e in events] == [
        (OPEN, "AAPL"),
        (OPEN, "MSFT"),
        (OPEN + 5 * MINUTE, "AAPL"),
        (OPEN + 5 * MINUTE, "MSFT"),
    ]
    first = events[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        100.0,
        106.0,
        99.0,
        105.0,
        150.0,
    )
    assert {(e.timeframe, e.source, e.bars_in_step) for e in events} == {("5m", "alpaca", 2)}
    assert first.idempotency_key == f"bar:alpaca:AAPL:5m:{OPEN.isoformat()}"


def test_a_silent_stream_warns_reconnects_then_blocks_and_a_bar_clears_it(url: str) -> None:
    clock = Clock(OPEN)
    with FakeAlpacaMarketStream() as fake:

        async def scenario(feed: LiveBarFeed, bus: RedisBus, health: Redis) -> Any:
            changes: list[FeedHealthChanged] = []
            async with bus.subscribe(FEED_HEALTH) as subscription:

                async def collect(count: int) -> None:
                    while len(changes) < count:
                        event = await subscription.get(timeout=5)
                        assert isinstance(event, FeedHealthChanged)
                        changes.append(event)

                await asyncio.to_thread(fake.wait_subscribed, "MSFT")
                await push_minutes(fake, clock, OPEN, 5)
                await until(lambda: feed.counts.steps == 1)
                fake.silent = True  # connected, pings answered, no bars
                last_bar = clock.now
                clock.now = last_bar + 2 * 5 * MINUTE + timedelta(seconds=10)
                await collect(2)
                await asyncio.to_thread(fake.wait_subscribed, "MSFT", after=1)
                warned = await read_health(health, "alpaca")
                clock.now = last_bar + 5 * 5 * MINUTE
                await collect(4)
                blocked = await read_health(health, "alpaca")
                await until(lambda: all(h.updated_at == clock.now for h in blocked.values()))
                fake.silent = False
                clock.now += timedelta(seconds=30)
                while not await asyncio.to_thread(  # the last forced reconnect may be under way
                    fake.push_bar, "AAPL", clock.now, 1, 1, 1, 1, 1
                ):
                    await asyncio.sleep(0.02)
                await collect(5)
                return changes, warned, blocked, fake.connections, feed.counts

        changes, warned, blocked, connections, counts = run_feed(url, fake, clock, scenario)
    assert [(c.symbol, c.previous, c.state) for c in changes] == [
        ("AAPL", "ok", "warn"),
        ("MSFT", "ok", "warn"),
        ("AAPL", "warn", "block"),
        ("MSFT", "warn", "block"),
        ("AAPL", "block", "ok"),
    ]
    assert (connections, counts.forced_reconnects) == (3, 2)  # at warn and at block
    assert {h.state for h in warned.values()} == {"warn"}
    assert {s: h.state for s, h in blocked.items()} == {"AAPL": "block", "MSFT": "block"}
    now = changes[3].timestamp
    assert not entries_allowed(blocked, "AAPL", now)
    assert entries_allowed(warned, "AAPL", changes[0].timestamp)
