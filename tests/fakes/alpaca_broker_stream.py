"""The fake Alpaca broker's trade_updates websocket: handshake, fan-out, and its fault knobs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

Row = dict[str, Any]
_CLOSE: Row = {"close": True}


class TradeUpdatesEndpoint:
    """Serves /stream: `authenticate` then `listen`, then every published update, binary frames.

    `publish` may be called from any thread; updates go to the sockets listening at that moment.
    Knobs: `drop` (close every socket, optionally refuse new ones until `restore`), `silent`
    (sockets stay open, pings answered, no update sent), `refuse_auth`.
    """

    def __init__(self, key_id: str, secret_key: str) -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self.auth_attempts = 0
        self.refuse_auth = False
        self.refused = False
        self.silent = False
        self._subscribers: set[asyncio.Queue[Row]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def clients(self) -> int:
        return len(self._subscribers)

    def publish(self, message: Row) -> None:
        if not self.silent:
            for queue in list(self._subscribers):
                self._call(queue.put_nowait, message)

    def drop(self, *, refuse: bool) -> None:
        self.refused = refuse
        for queue in list(self._subscribers):
            self._call(queue.put_nowait, _CLOSE)

    def _call(self, function: Any, *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(function, *args)

    async def serve(self, socket: WebSocket) -> None:
        self._loop = asyncio.get_running_loop()
        await socket.accept()
        if self.refused:
            await socket.close(code=1011)
            return
        try:
            if not await self._handshake(socket):
                return
            queue: asyncio.Queue[Row] = asyncio.Queue()
            self._subscribers.add(queue)
            if self.refused:  # dropped while this socket was shaking hands
                queue.put_nowait(_CLOSE)
            reader = asyncio.create_task(self._read_until_closed(socket, queue))
            try:
                while (message := await queue.get()) is not _CLOSE:
                    await socket.send_bytes(json.dumps(message).encode())
            finally:
                self._subscribers.discard(queue)
                reader.cancel()
            await socket.close(code=1011)
        except (WebSocketDisconnect, RuntimeError):
            return

    async def _handshake(self, socket: WebSocket) -> bool:
        auth = json.loads(await socket.receive_text())
        self.auth_attempts += 1
        data = auth.get("data") or {}
        authorized = (
            not self.refuse_auth
            and auth.get("action") == "authenticate"
            and data.get("key_id") == self.key_id
            and data.get("secret_key") == self.secret_key
        )
        status = "authorized" if authorized else "unauthorized"
        reply = {"stream": "authorization", "data": {"action": "authenticate", "status": status}}
        await socket.send_bytes(json.dumps(reply).encode())
        if not authorized:
            await socket.close(code=1008)
            return False
        listen = json.loads(await socket.receive_text())
        streams = (listen.get("data") or {}).get("streams") or []
        ack = {"stream": "listening", "data": {"streams": streams}}
        await socket.send_bytes(json.dumps(ack).encode())
        return True

    async def _read_until_closed(self, socket: WebSocket, queue: asyncio.Queue[Row]) -> None:
        try:
            while True:
                await socket.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            queue.put_nowait(_CLOSE)
