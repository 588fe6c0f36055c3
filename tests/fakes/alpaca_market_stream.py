"""A local stand-in for Alpaca's stock market-data stream (/v2/iex, /v2/sip) that alpaca-py can use.

It speaks the protocol alpaca-py 0.44.0's StockDataStream speaks (alpaca/data/live/websocket.py):
msgpack frames when the client sends `Content-Type: application/msgpack` (JSON text otherwise),
every server message an array of objects; `[{"T":"success","msg":"connected"}]` on connect; an
`auth` action answered `authenticated` or `[{"T":"error","code":402,"msg":"auth failed"}]` (then
the socket closes); `subscribe` / `unsubscribe` answered with the full subscription; bars
`{"T":"b","S","o","h","l","c","v","t","n","vw"}` whose `t` is a msgpack Timestamp (ext type -1),
which the SDK converts with `.to_datetime()`.

Fault knobs: `silent` (the socket stays up, pings are answered, bars are swallowed: the mute
socket users report), `drop()` (every open socket is cut without a close frame), `fail_auth`.
Run alone with `python -m tests.fakes.alpaca_market_stream --port 0`: it prints its URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any

import msgpack
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

KEY_ID = "fake-key-id"
SECRET_KEY = "fake-secret-key"
PATHS = ("/v2/iex", "/v2/sip")
CHANNELS = (
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
)

Message = dict[str, Any]


@dataclass(eq=False)
class _Client:
    """One open socket: how it encodes, whether it authenticated, what it subscribed."""

    socket: ServerConnection
    msgpack: bool
    authenticated: bool = False
    channels: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in CHANNELS})

    def wants(self, channel: str, symbol: str) -> bool:
        chosen = self.channels.get(channel, set())
        return symbol in chosen or "*" in chosen

    def subscription(self) -> Message:
        return {"T": "subscription", **{c: sorted(s) for c, s in self.channels.items()}}


class FakeAlpacaMarketStream:
    """Alpaca's stock data stream on 127.0.0.1 (a free port unless `port` is given).

    Use as a context manager; `url` is the origin (ws://127.0.0.1:PORT) to which a client adds
    `/v2/iex` or `/v2/sip`. Counters (`connections`, `auth_attempts`) and `subscribed(symbol)` let
    a test wait for the client instead of sleeping.
    """

    def __init__(
        self, *, key_id: str = KEY_ID, secret_key: str = SECRET_KEY, port: int = 0
    ) -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self.silent = False
        self.fail_auth = False
        self.connections = 0
        self.auth_attempts = 0
        self.paths: list[str] = []
        self._port = port
        self._clients: set[_Client] = set()
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not running; use it as a context manager")
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    def __enter__(self) -> FakeAlpacaMarketStream:
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake market stream did not start within 10 s")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = self._server = self._thread = None

    def _serve(self, started: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            async with serve(
                self._session, "127.0.0.1", self._port, process_request=self._route
            ) as server:
                self._server = server
                started.set()
                await server.wait_closed()

        asyncio.run(main())

    # --- what a test does ------------------------------------------------------------------------

    def push_bar(
        self,
        symbol: str,
        t: datetime,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        *,
        trades: int = 1,
        vwap: float | None = None,
    ) -> int:
        """Send a minute bar to every socket subscribed to `symbol`'s bars; returns how many got
        it (0 when `silent`)."""
        bar: Message = {
            "T": "b",
            "S": symbol,
            "o": open,
            "h": high,
            "l": low,
            "c": close,
            "v": volume,
            "t": t.astimezone(UTC),
            "n": trades,
            "vw": vwap if vwap is not None else (high + low + close) / 3,
        }
        return self._call(self._publish("bars", symbol, [bar]))

    def drop(self) -> int:
        """Cut every open socket without a close frame; returns how many were cut."""
        return self._call(self._drop())

    def subscribed(self, symbol: str, channel: str = "bars") -> int:
        """How many authenticated sockets are subscribed to `symbol` on `channel` now."""
        with self._changed:
            return sum(c.authenticated and c.wants(channel, symbol) for c in self._clients)

    def wait_subscribed(self, symbol: str, *, after: int = 0, timeout: float = 5.0) -> None:
        """Wait until some socket opened as connection number > `after` subscribed `symbol`."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self.connections > after and self._subscribed_now(symbol), timeout
            )
        if not ok:
            raise TimeoutError(f"no client subscribed {symbol} within {timeout} s")

    def _subscribed_now(self, symbol: str) -> bool:
        return any(c.authenticated and c.wants("bars", symbol) for c in self._clients)

    def _call(self, coroutine: Any) -> int:
        if self._loop is None:
            raise RuntimeError("the fake is not running; use it as a context manager")
        return int(asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10))

    # --- the server side -------------------------------------------------------------------------

    def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path not in PATHS:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return None

    async def _session(self, socket: ServerConnection) -> None:
        headers: Headers = socket.request.headers if socket.request else Headers()
        client = _Client(socket, headers.get("Content-Type") == "application/msgpack")
        with self._changed:
            self.connections += 1
            self.paths.append(socket.request.path if socket.request else "")
            self._clients.add(client)
            self._changed.notify_all()
        try:
            await self._send(client, [{"T": "success", "msg": "connected"}])
            async for frame in socket:
                for action in _actions(frame):
                    if not await self._act(client, action):
                        return
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._clients.discard(client)
                self._changed.notify_all()

    async def _act(self, client: _Client, action: Message) -> bool:
        """Answer one client action; False when the socket must close."""
        kind = action.get("action")
        if kind == "auth":
            with self._changed:
                self.auth_attempts += 1
            ok = (
                not self.fail_auth
                and action.get("key") == self.key_id
                and action.get("secret") == self.secret_key
            )
            if not ok:
                await self._send(client, [{"T": "error", "code": 402, "msg": "auth failed"}])
                await client.socket.close()
                return False
            with self._changed:
                client.authenticated = True
                self._changed.notify_all()
            await self._send(client, [{"T": "success", "msg": "authenticated"}])
        elif not client.authenticated:
            await self._send(client, [{"T": "error", "code": 401, "msg": "not authenticated"}])
        elif kind in ("subscribe", "unsubscribe"):
            with self._changed:
                for channel in CHANNELS:
                    symbols = set(action.get(channel) or ())
                    if kind == "subscribe":
                        client.channels[channel] |= symbols
                    else:
                        client.channels[channel] -= symbols
                self._changed.notify_all()
            await self._send(client, [client.subscription()])
        else:
            await self._send(client, [{"T": "error", "code": 400, "msg": "invalid syntax"}])
        return True

    async def _publish(self, channel: str, symbol: str, messages: list[Message]) -> int:
        if self.silent:
            return 0
        with self._changed:
            chosen = [c for c in self._clients if c.authenticated and c.wants(channel, symbol)]
        for client in chosen:
            try:
                await self._send(client, messages)
            except ConnectionClosed:
                continue
        return len(chosen)

    async def _drop(self) -> int:
        with self._changed:
            chosen = list(self._clients)
        for client in chosen:
            client.socket.transport.abort()
        return len(chosen)

    @staticmethod
    async def _send(client: _Client, messages: list[Message]) -> None:
        if client.msgpack:
            await client.socket.send(msgpack.packb(messages, datetime=True))
        else:
            await client.socket.send(json.dumps(messages, default=_iso))


def _actions(frame: str | bytes) -> Iterable[Message]:
    """The client's actions in one frame (one object, or a list of them)."""
    try:
        decoded = msgpack.unpackb(frame) if isinstance(frame, bytes) else json.loads(frame)
    except (ValueError, msgpack.ExtraData):
        return [{}]
    items = decoded if isinstance(decoded, list) else [decoded]
    return [dict(item) for item in items if isinstance(item, Mapping)]


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    with FakeAlpacaMarketStream(port=args.port) as fake:
        print(fake.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
