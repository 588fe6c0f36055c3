"""The fake market-data stream against the real alpaca-py 0.44.0 StockDataStream: if the SDK
reads our fake, the fake speaks Alpaca's protocol as far as the SDK knows it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alpaca.data.enums import DataFeed
from alpaca.data.live.stock import StockDataStream
from alpaca.data.models import Bar

from tests.fakes.alpaca_market_stream import KEY_ID, SECRET_KEY, FakeAlpacaMarketStream

T = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


async def _bars_through_sdk(fake: FakeAlpacaMarketStream, feed: DataFeed) -> list[Bar]:
    stream = StockDataStream(
        KEY_ID, SECRET_KEY, feed=feed, url_override=f"{fake.url}/v2/{feed.value}"
    )
    received: list[Bar] = []
    got_two = asyncio.Event()

    async def on_bar(bar: Bar | dict[str, object]) -> None:
        assert isinstance(bar, Bar)
        received.append(bar)
        if len(received) == 2:
            got_two.set()

    stream.subscribe_bars(on_bar, "AAPL")
    task = asyncio.create_task(stream._run_forever())
    await asyncio.to_thread(fake.wait_subscribed, "AAPL")
    await asyncio.to_thread(fake.push_bar, "AAPL", T, 100.0, 101.5, 99.5, 101.0, 1200.0, trades=7)
    await asyncio.to_thread(fake.push_bar, "MSFT", T, 1.0, 1.0, 1.0, 1.0, 1.0)  # not subscribed
    await asyncio.to_thread(fake.push_bar, "AAPL", T.replace(minute=31), 101, 102, 100, 101.5, 800)
    await asyncio.wait_for(got_two.wait(), 5)
    await stream.stop_ws()
    await stream.close()  # the SDK polls its stop flag only every 5 s of silence
    await asyncio.wait_for(task, 5)
    return received


@pytest.mark.parametrize("feed", [DataFeed.IEX, DataFeed.SIP])
def test_fake_stream_bars_reach_the_sdk_with_timestamps_and_prices(feed: DataFeed) -> None:
    with FakeAlpacaMarketStream() as fake:
        bars = asyncio.run(_bars_through_sdk(fake, feed))
        assert fake.paths == [f"/v2/{feed.value}"]
    assert [(b.symbol, b.timestamp) for b in bars] == [
        ("AAPL", T),
        ("AAPL", T.replace(minute=31)),
    ]
    first = bars[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        100.0,
        101.5,
        99.5,
        101.0,
        1200.0,
    )
    assert first.trade_count == 7
    assert first.timestamp.tzinfo is not None


def test_fake_stream_with_wrong_keys_fails_the_sdk_handshake_with_auth_failed() -> None:
    async def handshake(url: str) -> None:
        stream = StockDataStream(KEY_ID, "wrong", url_override=f"{url}/v2/iex")
        try:
            await stream._start_ws()
        finally:
            await stream.close()

    with FakeAlpacaMarketStream() as fake:
        with pytest.raises(ValueError, match="auth failed"):
            asyncio.run(handshake(fake.url))
        fake.fail_auth = True
        with pytest.raises(ValueError, match="auth failed"):
            asyncio.run(handshake(fake.url))
        assert fake.auth_attempts == 2


def test_fake_stream_when_silent_keeps_the_socket_open_and_sends_nothing() -> None:
    async def scenario(fake: FakeAlpacaMarketStream) -> tuple[int, int, list[Bar]]:
        stream = StockDataStream(KEY_ID, SECRET_KEY, url_override=f"{fake.url}/v2/iex")
        received: list[Bar] = []

        async def on_bar(bar: Bar | dict[str, object]) -> None:
            assert isinstance(bar, Bar)
            received.append(bar)

        stream.subscribe_bars(on_bar, "AAPL")
        task = asyncio.create_task(stream._run_forever())
        await asyncio.to_thread(fake.wait_subscribed, "AAPL")
        fake.silent = True
        sent = await asyncio.to_thread(fake.push_bar, "AAPL", T, 1, 1, 1, 1, 1)
        await asyncio.sleep(0.2)
        still_open = fake.subscribed("AAPL")
        await stream.stop_ws()
        await stream.close()  # the SDK polls its stop flag only every 5 s of silence
        await asyncio.wait_for(task, 5)
        return sent, still_open, received

    with FakeAlpacaMarketStream() as fake:
        sent, still_open, received = asyncio.run(scenario(fake))
    assert (sent, still_open, received) == (0, 1, [])


def test_fake_stream_drop_cuts_the_socket_and_the_sdk_reconnects() -> None:
    async def scenario(fake: FakeAlpacaMarketStream) -> list[Bar]:
        stream = StockDataStream(KEY_ID, SECRET_KEY, url_override=f"{fake.url}/v2/iex")
        stream._reconnect_min_backoff = 0.05
        received: list[Bar] = []

        async def on_bar(bar: Bar | dict[str, object]) -> None:
            assert isinstance(bar, Bar)
            received.append(bar)

        stream.subscribe_bars(on_bar, "AAPL")
        task = asyncio.create_task(stream._run_forever())
        await asyncio.to_thread(fake.wait_subscribed, "AAPL")
        assert await asyncio.to_thread(fake.drop) == 1
        await asyncio.to_thread(fake.wait_subscribed, "AAPL", after=1)
        await asyncio.to_thread(fake.push_bar, "AAPL", T, 1, 2, 0.5, 1.5, 10)
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.02)
        await stream.stop_ws()
        await stream.close()  # the SDK polls its stop flag only every 5 s of silence
        await asyncio.wait_for(task, 5)
        return received

    with FakeAlpacaMarketStream() as fake:
        received = asyncio.run(scenario(fake))
        assert fake.connections == 2
    assert [b.close for b in received] == [1.5]


def test_fake_stream_run_as_a_module_prints_its_url() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.alpaca_market_stream", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        process.terminate()
    assert line.startswith("ws://127.0.0.1:")
    assert int(line.rsplit(":", 1)[1]) > 0
