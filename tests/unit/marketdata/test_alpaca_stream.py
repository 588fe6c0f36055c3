"""AlpacaBarStream against the local fake of Alpaca's data stream: bars, reconnects, refusals."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgpack
import pytest
from pydantic import SecretStr, ValidationError

from quant_domain import Bar, ConfigError
from quant_marketdata.alpaca import AlpacaDataSettings
from quant_marketdata.alpaca.mapping import stream_bar
from quant_marketdata.alpaca.stream import AlpacaBarStream
from quant_marketdata.live_source import Backoff
from tests.fakes.alpaca_market_stream import KEY_ID, SECRET_KEY, FakeAlpacaMarketStream

T = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


def stream_for(url: str, *symbols: str, **changes: Any) -> AlpacaBarStream:
    values: dict[str, Any] = {
        "APCA_API_KEY_ID": SecretStr(KEY_ID),
        "APCA_API_SECRET_KEY": SecretStr(SECRET_KEY),
        "stream_url": url,
        **changes,
    }
    settings = AlpacaDataSettings(_env_file=None, **values)  # type: ignore[call-arg]
    backoff = Backoff(base=0.02, cap=0.1, rng=random.Random(1))
    return AlpacaBarStream(symbols or ("AAPL",), settings=settings, backoff=backoff)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def run_with(
    stream: AlpacaBarStream, scenario: Callable[[list[Bar]], Awaitable[None]]
) -> list[Bar]:
    async def main() -> list[Bar]:
        received: list[Bar] = []
        stop = asyncio.Event()

        async def on_bar(bar: Bar) -> None:
            received.append(bar)

        task = asyncio.create_task(stream.run(on_bar, stop))
        try:
            await scenario(received)
        finally:
            stop.set()
            await asyncio.wait_for(task, 2)
        return received

    return asyncio.run(main())


def test_alpaca_stream_delivers_subscribed_minute_bars_labelled_by_their_start() -> None:
    with FakeAlpacaMarketStream() as fake:
        stream = stream_for(fake.url, "AAPL", "MSFT", feed="sip")

        async def scenario(received: list[Bar]) -> None:
            await asyncio.to_thread(fake.wait_subscribed, "MSFT")
            await asyncio.to_thread(fake.push_bar, "AAPL", T, 10, 12, 9, 11, 500)
            await asyncio.to_thread(fake.push_bar, "MSFT", T, 20, 22, 19, 21, 700)
            await until(lambda: len(received) == 2)

        received = run_with(stream, scenario)
        assert fake.paths == ["/v2/sip"]
    assert received == [
        Bar("AAPL", T, 10.0, 12.0, 9.0, 11.0, 500.0),
        Bar("MSFT", T, 20.0, 22.0, 19.0, 21.0, 700.0),
    ]
    assert stream.connects == 1


def test_alpaca_stream_after_a_dropped_socket_reconnects_and_resubscribes() -> None:
    with FakeAlpacaMarketStream() as fake:
        stream = stream_for(fake.url)

        async def scenario(received: list[Bar]) -> None:
            await asyncio.to_thread(fake.wait_subscribed, "AAPL")
            await asyncio.to_thread(fake.drop)
            await asyncio.to_thread(fake.wait_subscribed, "AAPL", after=1)
            await asyncio.to_thread(fake.push_bar, "AAPL", T, 1, 2, 0.5, 1.5, 10)
            await until(lambda: len(received) == 1)

        received = run_with(stream, scenario)
        assert fake.connections == 2
    assert [b.close for b in received] == [1.5]
    assert stream.connects == 2


def test_alpaca_stream_reconnect_cuts_a_silent_socket_and_bars_flow_again() -> None:
    with FakeAlpacaMarketStream() as fake:
        stream = stream_for(fake.url)

        async def scenario(received: list[Bar]) -> None:
            await asyncio.to_thread(fake.wait_subscribed, "AAPL")
            fake.silent = True
            await asyncio.to_thread(fake.push_bar, "AAPL", T, 1, 1, 1, 1, 1)
            fake.silent = False
            stream.reconnect()
            await asyncio.to_thread(fake.wait_subscribed, "AAPL", after=1)
            await asyncio.to_thread(fake.push_bar, "AAPL", T, 2, 2, 2, 2, 2)
            await until(lambda: len(received) == 1)

        received = run_with(stream, scenario)
    assert [b.close for b in received] == [2.0]


def test_alpaca_stream_with_refused_keys_raises_a_config_error_naming_the_variables() -> None:
    with FakeAlpacaMarketStream() as fake:
        fake.fail_auth = True
        stream = stream_for(fake.url)

        async def main() -> None:
            async def on_bar(bar: Bar) -> None:
                raise AssertionError(bar)

            await asyncio.wait_for(stream.run(on_bar, asyncio.Event()), 5)

        with pytest.raises(ConfigError, match="APCA_API_KEY_ID"):
            asyncio.run(main())
        assert fake.auth_attempts == 1


def test_alpaca_stream_without_a_server_keeps_retrying_until_stopped() -> None:
    with FakeAlpacaMarketStream() as fake:
        url = fake.url
    stream = stream_for(url)  # nothing listens on that port any more

    async def scenario(received: list[Bar]) -> None:
        await until(lambda: stream.backoff.attempt >= 3)

    assert run_with(stream, scenario) == []
    assert stream.connects == 0


def test_stream_bar_reads_msgpack_timestamps_and_json_text_alike() -> None:
    packed = msgpack.unpackb(
        msgpack.packb(
            {"T": "b", "S": "SPY", "o": 1, "h": 2, "l": 0.5, "c": 1.5, "v": 9, "t": T},
            datetime=True,
        )
    )
    assert isinstance(packed["t"], msgpack.Timestamp)
    expected = Bar("SPY", T, 1.0, 2.0, 0.5, 1.5, 9.0)
    assert stream_bar(packed) == expected
    assert stream_bar({**packed, "t": "2026-12-07T14:30:00Z"}) == expected
    assert stream_bar({**packed, "T": "u"}) is None  # an updated bar is not a new minute
    assert stream_bar({"T": "b", "S": "SPY", "t": "2026-12-07T14:30:00Z"}) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "ws://127.0.0.1:1/v2/iex"])
def test_alpaca_settings_refuse_a_stream_url_that_is_not_a_bare_ws_origin(url: str) -> None:
    with pytest.raises(ValidationError, match="origin"):
        AlpacaDataSettings(_env_file=None, stream_url=url)  # type: ignore[call-arg]


def test_alpaca_stream_stops_at_once_while_a_handshake_is_unanswered() -> None:
    async def main() -> float:
        writers: list[asyncio.StreamWriter] = []

        async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)  # accepts the TCP connection, never answers the upgrade
            await reader.read()

        server = await asyncio.start_server(mute, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        stream = stream_for(f"ws://127.0.0.1:{port}")
        stop = asyncio.Event()

        async def on_bar(bar: Bar) -> None:
            raise AssertionError(bar)

        task = asyncio.create_task(stream.run(on_bar, stop))
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        asked = loop.time()
        stop.set()
        await asyncio.wait_for(task, 5)
        took = loop.time() - asked
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
        return took

    assert asyncio.run(main()) < 1.0  # not the 10 s handshake timeout
