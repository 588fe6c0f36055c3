"""The execution service's feed gate without a server: which feeds are live, and an unreadable
feed holding every symbol (a hung server is cut off by the gate's own timeout)."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from quant_execution.feed_gate import FeedGate, FeedKind, feed_kind

SYMBOLS = ["AAPL", "MSFT"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("replay", FeedKind.REPLAY),
        ("replay:3f1c", FeedKind.REPLAY),
        ("alpaca", FeedKind.LIVE),
        ("ib", FeedKind.LIVE),
        ("replayed", FeedKind.LIVE),  # only `replay` and `replay:*` are replays
        ("my-feed", FeedKind.LIVE),
    ],
)
def test_a_feed_is_a_replay_only_when_its_name_says_so_else_live(name: str, kind: FeedKind) -> None:
    assert feed_kind(name) is kind


def test_a_given_kind_overrides_the_name() -> None:
    assert FeedGate("replay:x", None, kind="live").live
    assert not FeedGate("alpaca", None, kind=FeedKind.REPLAY).live


def test_a_live_feed_without_a_redis_client_holds_every_symbol() -> None:
    held = asyncio.run(FeedGate("alpaca", None).held(SYMBOLS))
    assert set(held) == set(SYMBOLS)
    assert "no Redis client" in held["AAPL"]


def test_a_server_that_never_answers_holds_every_symbol_after_the_read_timeout() -> None:
    with socket.socket() as server:  # accepts connections, never says a word
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        async def main() -> dict[str, str]:
            client = Redis(host="127.0.0.1", port=port)
            gate = FeedGate("alpaca", client, read_timeout=0.2, clock=lambda: datetime.now(UTC))
            try:
                return await gate.held(SYMBOLS)
            finally:
                await client.aclose()

        held = asyncio.run(main())
    assert set(held) == set(SYMBOLS)
    assert "could not be read from Redis (TimeoutError" in held["MSFT"]
