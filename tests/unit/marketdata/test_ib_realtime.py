"""IbRealTimeBars against FakeTws (the TWS protocol, real ib_async): 5-second bars, reconnects
after a dropped socket and after 1101 (subscriptions lost), and 5-second bars folded into minutes
by the data service's feed."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from quant_bus import BARS_CLOSED, BarClosedEvent, Consumer, Delivery, MemoryBus
from quant_domain import Bar, Timeframe
from quant_ingestion.live_bars import LiveBarFeed
from quant_marketdata.ib.realtime import IbRealTimeBars
from quant_marketdata.ib.settings import IbDataSettings
from quant_marketdata.live_source import Backoff
from tests.fakes.tws import FakeTws

OPEN = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
FIVE_S = timedelta(seconds=5)


@pytest.fixture
def tws() -> Iterator[FakeTws]:
    with FakeTws() as fake:
        yield fake


def source_for(tws: FakeTws, *symbols: str) -> IbRealTimeBars:
    settings = IbDataSettings(_env_file=None, host="127.0.0.1", port=tws.port, client_id=71)  # type: ignore[call-arg]
    backoff = Backoff(base=0.02, cap=0.1, rng=random.Random(5))
    return IbRealTimeBars(symbols or ("AAPL",), settings=settings, backoff=backoff)


def subscribers(tws: FakeTws, symbol: str) -> int:
    return sum(symbol in list(s.bars.values()) for s in list(tws.sessions))


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def push(tws: FakeTws, symbol: str, at: datetime, price: float, volume: float = 10) -> int:
    return await asyncio.to_thread(
        tws.push_bar, symbol, price, price + 1, price - 1, price + 0.5, volume, int(at.timestamp())
    )


def run_with(source: IbRealTimeBars, scenario: Callable[[list[Bar]], Awaitable[None]]) -> list[Bar]:
    async def main() -> list[Bar]:
        received: list[Bar] = []
        stop = asyncio.Event()

        async def on_bar(bar: Bar) -> None:
            received.append(bar)

        task = asyncio.create_task(source.run(on_bar, stop))
        try:
            await scenario(received)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
        return received

    return asyncio.run(main())


def test_ib_source_delivers_five_second_bars_labelled_by_their_start(tws: FakeTws) -> None:
    source = source_for(tws, "AAPL", "MSFT")

    async def scenario(received: list[Bar]) -> None:
        await until(lambda: subscribers(tws, "MSFT") == 1)
        assert await push(tws, "AAPL", OPEN, 100.0) == 1
        assert await push(tws, "MSFT", OPEN + FIVE_S, 200.0) == 1
        await until(lambda: len(received) == 2)

    received = run_with(source, scenario)
    assert received == [
        Bar("AAPL", OPEN, 100.0, 101.0, 99.0, 100.5, 10.0),
        Bar("MSFT", OPEN + FIVE_S, 200.0, 201.0, 199.0, 200.5, 10.0),
    ]
    assert source.connects == 1


@pytest.mark.parametrize("fault", ["drop", "1101"])
def test_ib_source_after_a_lost_connection_or_lost_subscriptions_subscribes_again(
    tws: FakeTws, fault: str
) -> None:
    source = source_for(tws)

    async def scenario(received: list[Bar]) -> None:
        await until(lambda: subscribers(tws, "AAPL") == 1)
        if fault == "drop":
            await asyncio.to_thread(tws.drop_connections)
        else:
            await asyncio.to_thread(tws.notify, 1101)
        await until(lambda: source.connects == 2 and subscribers(tws, "AAPL") == 1)
        await push(tws, "AAPL", OPEN, 50.0)
        await until(lambda: len(received) == 1)

    received = run_with(source, scenario)
    assert [b.close for b in received] == [50.5]


async def closed(bus: MemoryBus) -> list[BarClosedEvent]:
    """Every BarClosed on the bus, read through a consumer group as the execution service does."""
    events: list[BarClosedEvent] = []

    async def handler(batch: Sequence[Delivery]) -> None:
        events.extend(d.event for d in batch if isinstance(d.event, BarClosedEvent))

    await bus.consume(Consumer(BARS_CLOSED, "test", "reader", block_ms=10), handler)
    return events


def test_ib_five_second_bars_reach_the_bus_as_closed_minute_bars(tws: FakeTws) -> None:
    source = source_for(tws)
    clock = [OPEN]

    async def main() -> list[BarClosedEvent]:
        bus = MemoryBus()
        feed = LiveBarFeed(
            bus, source, timeframe=Timeframe.parse("1m"), clock=lambda: clock[0], tick_s=0.02
        )
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        try:
            await until(lambda: subscribers(tws, "AAPL") == 1)
            for i in range(13):  # 09:30:00 .. 09:31:00
                clock[0] = OPEN + (i + 1) * FIVE_S
                await push(tws, "AAPL", OPEN + i * FIVE_S, 100.0 + i, volume=2)
            await until(lambda: feed.counts.steps == 1)
            return await closed(bus)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)

    [event] = asyncio.run(main())
    assert (event.symbol, event.timestamp, event.timeframe, event.source) == (
        "AAPL",
        OPEN,
        "1m",
        "ib",
    )
    assert (event.open, event.high, event.low, event.close, event.volume) == (
        100.0,
        112.0,
        99.0,
        111.5,
        24.0,
    )
