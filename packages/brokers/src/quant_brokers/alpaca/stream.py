"""Our own trade_updates websocket session (alpaca-py's TradingStream owns its loop and retries)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from alpaca.trading.models import TradeUpdate
from websockets.asyncio.client import ClientConnection, connect


def _quiet_wire_log() -> logging.Logger:
    """The websockets library logs every frame at DEBUG, our authenticate frame with the secret
    key included: its connection logs through this logger, which never lets DEBUG through."""
    wire = logging.getLogger("quant_brokers.alpaca.wire")
    wire.setLevel(logging.INFO)
    if not any(isinstance(f, _NoDebug) for f in wire.filters):
        wire.addFilter(_NoDebug())
    return wire


class _NoDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


class StreamRefused(Exception):
    """The stream did not authorize our key; the message names the endpoint, never the key."""


class TradeUpdateStream:
    """One connection at a time to Alpaca's trade_updates stream: authenticate, listen, read.

    The wire format is the one alpaca-py's TradingStream speaks (JSON messages, binary frames
    from the paper API); updates are parsed with the SDK's own TradeUpdate model. Reconnecting
    is the caller's job, on its own backoff.
    """

    __slots__ = ("_key_id", "_open_timeout", "_secret_key", "url")

    def __init__(self, url: str, key_id: str, secret_key: str, open_timeout: float) -> None:
        self.url = url
        self._key_id = key_id
        self._secret_key = secret_key
        self._open_timeout = open_timeout

    def __repr__(self) -> str:
        return f"TradeUpdateStream({self.url!r})"

    @asynccontextmanager
    async def open(self) -> AsyncIterator[ClientConnection]:
        """An authenticated socket listening to trade_updates.

        Raises:
            StreamRefused: the server did not authorize the key.
            OSError, TimeoutError, websockets.WebSocketException: no usable connection.
        """
        async with connect(
            self.url,
            open_timeout=self._open_timeout,
            ping_interval=10,
            ping_timeout=20,
            close_timeout=1,
            logger=_quiet_wire_log(),
        ) as socket:
            await asyncio.wait_for(self._handshake(socket), self._open_timeout)
            yield socket

    async def _handshake(self, socket: ClientConnection) -> None:
        credentials = {"key_id": self._key_id, "secret_key": self._secret_key}
        await socket.send(json.dumps({"action": "authenticate", "data": credentials}))
        reply = json.loads(await socket.recv())
        data = reply.get("data") or {}
        if reply.get("stream") != "authorization" or data.get("status") != "authorized":
            raise StreamRefused(
                f"{self.url} did not authorize the API key (status {data.get('status')!r}); "
                "check APCA_API_KEY_ID and APCA_API_SECRET_KEY"
            )
        await socket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        ack = json.loads(await socket.recv())
        streams = (ack.get("data") or {}).get("streams") or []
        if ack.get("stream") != "listening" or "trade_updates" not in streams:
            raise StreamRefused(f"{self.url} did not subscribe us to trade_updates ({ack!r:.200})")

    @staticmethod
    async def updates(socket: ClientConnection) -> AsyncIterator[TradeUpdate]:
        """Trade updates in arrival order until the socket closes (other messages skipped).

        A message the SDK's model cannot parse raises: the session ends and the caller's
        recovery reads the orders' state over REST instead of losing the update.
        """
        async for raw in socket:
            message = json.loads(raw)
            if message.get("stream") == "trade_updates":
                yield TradeUpdate(**message["data"])
