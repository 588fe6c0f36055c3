"""AlpacaBarStream: Alpaca's live minute bars over its market-data websocket, in our own task.

A small client of ours (websockets + msgpack), not alpaca-py's StockDataStream: the SDK's `run()`
nests `asyncio.run` in a thread of its own, its stop flag is polled only every 5 s of silence,
and its staleness timeout counts any symbol's data, not each symbol's in market hours. The
wire protocol is the one the SDK speaks (proven against tests/fakes/alpaca_market_stream.py by a
contract test that drives the SDK itself): msgpack frames, `connected`, `auth`, `subscribe`,
bars with a msgpack Timestamp `t`. ADR 0037.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, WebSocketException

from quant_domain import ConfigError
from quant_marketdata.alpaca.mapping import stream_bar
from quant_marketdata.alpaca.settings import (
    KEY_ID_VARIABLE,
    SECRET_KEY_VARIABLE,
    AlpacaDataSettings,
    Feed,
    get_settings,
)
from quant_marketdata.live_source import Backoff, BarHandler, LiveBarSource

log = logging.getLogger("quant.marketdata.alpaca")

DEFAULT_STREAM_URL = "wss://stream.data.alpaca.markets"
HANDSHAKE_TIMEOUT_S = 10.0
"""Alpaca closes a socket that has not authenticated within 10 s; we wait no longer per reply."""
AUTH_FAILED = 402


class _Refused(Exception):
    """The server answered the handshake with an error message (code and text)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code


class AlpacaBarStream(LiveBarSource):
    """Minute bars of `symbols` from Alpaca's `feed` stream (iex or sip)."""

    name = "alpaca"
    bar_length = timedelta(minutes=1)

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        feed: Feed | None = None,
        settings: AlpacaDataSettings | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        """Check the keys; nothing connects until `run`.

        Raises:
            ConfigError: APCA_API_KEY_ID / APCA_API_SECRET_KEY unset.
        """
        super().__init__(list(dict.fromkeys(s.strip() for s in symbols if s.strip())), backoff)
        self._settings = settings if settings is not None else get_settings()
        self._key_id, self._secret = self._settings.credentials()
        self.feed: Feed = feed or self._settings.feed
        origin = self._settings.stream_url or DEFAULT_STREAM_URL
        self.url = f"{origin}/v2/{self.feed}"
        self._socket: ClientConnection | None = None

    @property
    def endpoint(self) -> str:
        return self.url

    @property
    def connected(self) -> bool:
        return self._socket is not None

    def reconnect(self) -> None:
        socket = self._socket
        if socket is not None:
            log.warning("cutting the %s stream to reconnect", self.url)
            socket.transport.abort()  # a mute peer may never answer a close handshake

    async def run(self, on_bar: BarHandler, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._until_stopped(self._session(on_bar, stop), stop)
            except _Refused as exc:
                if exc.code == AUTH_FAILED:
                    raise ConfigError(
                        f"Alpaca's stream refused the API keys ({exc}); check "
                        f"{KEY_ID_VARIABLE} and {SECRET_KEY_VARIABLE}"
                    ) from None
                log.warning("the %s stream refused us: %s; reconnecting", self.url, exc)
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as exc:
                log.warning("the %s stream failed: %r; reconnecting", self.url, exc)
            finally:
                self._socket = None
            if not stop.is_set():
                await self.pause(stop)

    @staticmethod
    async def _until_stopped(attempt: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
        """Run one connection's life; a stop cancels it even mid-connect or mid-handshake."""
        running = asyncio.ensure_future(attempt)
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not running.done():
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            return
        running.result()

    async def _session(self, on_bar: BarHandler, stop: asyncio.Event) -> None:
        async with connect(
            self.url,
            additional_headers={"Content-Type": "application/msgpack"},
            open_timeout=HANDSHAKE_TIMEOUT_S,
            ping_interval=10,
            ping_timeout=20,
            close_timeout=2,
            max_queue=1024,
        ) as socket:
            await self._handshake(socket)
            self._socket = socket
            self.connects += 1
            log.info("streaming %s bars from %s", ",".join(self.symbols), self.url)
            await self._consume(socket, on_bar, stop)

    async def _handshake(self, socket: ClientConnection) -> None:
        """connected -> auth -> subscribe, each answered within the handshake timeout."""
        await self._expect(socket, "success", "connected")
        await socket.send(
            msgpack.packb({"action": "auth", "key": self._key_id, "secret": self._secret})
        )
        await self._expect(socket, "success", "authenticated")
        await socket.send(msgpack.packb({"action": "subscribe", "bars": self.symbols}))
        await self._expect(socket, "subscription", None)

    async def _expect(self, socket: ClientConnection, kind: str, text: str | None) -> None:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
            while True:
                for message in _messages(await socket.recv()):
                    if message.get("T") == "error":
                        raise _Refused(int(message.get("code", 0)), str(message.get("msg", "")))
                    if message.get("T") == kind and (text is None or message.get("msg") == text):
                        return

    async def _consume(
        self, socket: ClientConnection, on_bar: BarHandler, stop: asyncio.Event
    ) -> None:
        """Hand every bar to `on_bar` until `stop` is set or the socket closes."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                receiving = asyncio.ensure_future(socket.recv())
                await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not receiving.done():
                    receiving.cancel()
                    return
                for message in _messages(receiving.result()):
                    bar = stream_bar(message)
                    if bar is not None:
                        self.backoff.reset()  # bars flow: the next failure starts afresh
                        await on_bar(bar)
                    elif message.get("T") == "error":
                        log.error("the %s stream says: %s", self.url, message)
        finally:
            stopping.cancel()


def _messages(frame: str | bytes) -> list[Mapping[str, Any]]:
    """The messages in one frame (msgpack, or JSON text when the server falls back to it)."""
    try:
        decoded = msgpack.unpackb(frame) if isinstance(frame, bytes) else json.loads(frame)
    except (ValueError, msgpack.ExtraData):
        log.warning("undecodable frame on the Alpaca stream (%d bytes)", len(frame))
        return []
    items = decoded if isinstance(decoded, list) else [decoded]
    return [item for item in items if isinstance(item, Mapping)]
