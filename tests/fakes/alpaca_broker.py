"""A local Alpaca trading server (REST under /v2 and the trade_updates websocket) for alpaca-py.

It speaks what alpaca-py 0.44.0's TradingClient and TradingStream send and expect (research:
trading-loop.md section 3): APCA-API-KEY-ID / APCA-API-SECRET-KEY headers, JSON errors
{code, message}, 204 on a single cancel and 207 on cancel-all, a stream at /stream that answers
`authenticate` and `listen` and then sends trade updates as binary frames like the paper API.
Fault knobs make the cases an order manager must survive happen on demand. Run it alone with
`python -m tests.fakes.alpaca_broker --port 0`: it prints its base URL and stream URL.
"""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from tests.fakes.alpaca_broker_book import Book, BookError, Row, stamp
from tests.fakes.alpaca_broker_stream import TradeUpdatesEndpoint

KEY_ID = "fake-broker-key-id"
SECRET_KEY = "fake-broker-secret-key"


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


class FakeAlpacaBroker:
    """Serves one paper account on 127.0.0.1; use as a context manager.

    Knobs: `set_price`, `book.partial_fills`, `reject_symbol`, `accept_then_504`, `rate_limit`,
    `drop_stream` / `restore_stream`, `silence_stream`, `refuse_stream_auth`; a wrong key gets
    401 (REST) or `unauthorized` (stream). `requests` records (method, path) of every REST call,
    `book.events` every trade update, delivered or not.
    """

    def __init__(
        self, *, key_id: str = KEY_ID, secret_key: str = SECRET_KEY, port: int = 0
    ) -> None:
        self.key_id = key_id
        self.secret_key = secret_key
        self.stream = TradeUpdatesEndpoint(key_id, secret_key)
        self.book = Book(self.stream.publish)
        self.requests: list[tuple[str, str]] = []
        self._fail_504 = 0
        self._rate_limited: dict[str, int] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = port

    # -- knobs -------------------------------------------------------------------------------
    def set_price(self, symbol: str, price: Decimal | str | float) -> None:
        """The market price of `symbol`: market orders fill at it, limit orders when it crosses."""
        self.book.set_price(symbol, Decimal(str(price)))

    def reject_symbol(self, symbol: str) -> None:
        """Orders for `symbol` are accepted, then a `rejected` trade update follows."""
        self.book.reject_symbols.add(symbol)

    def accept_then_504(self, times: int = 1) -> None:
        """The next `times` order submissions create the order, then answer 504."""
        self._fail_504 += times

    def rate_limit(self, times: int = 1, method: str = "POST") -> None:
        """The next `times` `method` requests answer 429 without doing anything."""
        self._rate_limited[method] = self._rate_limited.get(method, 0) + times

    def drop_stream(self, *, refuse: bool = True) -> None:
        """Close every trade_updates socket; with `refuse`, new ones fail until restore_stream."""
        self.stream.drop(refuse=refuse)

    def restore_stream(self) -> None:
        self.stream.refused = False

    def silence_stream(self, silent: bool = True) -> None:
        """Keep sockets open (pings answered) but deliver no trade update."""
        self.stream.silent = silent

    @property
    def stream_clients(self) -> int:
        return self.stream.clients

    @property
    def refuse_stream_auth(self) -> bool:
        return self.stream.refuse_auth

    @refuse_stream_auth.setter
    def refuse_stream_auth(self, refuse: bool) -> None:
        """REST keeps accepting the key; the stream answers `unauthorized`."""
        self.stream.refuse_auth = refuse

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def stream_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/stream"

    def __enter__(self) -> FakeAlpacaBroker:
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self._port,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-alpaca", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake Alpaca server did not start")
            threading.Event().wait(0.01)
        self._port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.drop_stream()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- REST --------------------------------------------------------------------------------
    def app(self) -> Starlette:
        rest = self._rest
        routes = [
            Route("/v2/account", rest(self._account)),
            Route("/v2/clock", rest(self._clock)),
            Route("/v2/calendar", rest(self._calendar)),
            Route("/v2/positions", rest(self._positions)),
            Route("/v2/positions/{symbol}", rest(self._position)),
            Route("/v2/orders", rest(self._orders), methods=["GET", "POST", "DELETE"]),
            Route("/v2/orders:by_client_order_id", rest(self._by_client_id)),
            Route("/v2/orders/{order_id}", rest(self._order), methods=["GET", "DELETE"]),
            WebSocketRoute("/stream", self.stream.serve),
        ]
        return Starlette(routes=routes)

    def _rest(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            self.requests.append((request.method, request.url.path))
            headers = request.headers
            if (
                headers.get("APCA-API-KEY-ID") != self.key_id
                or headers.get("APCA-API-SECRET-KEY") != self.secret_key
            ):
                return _error(401, 40110000, "request is not authorized")
            if self._rate_limited.get(request.method, 0) > 0:
                self._rate_limited[request.method] -= 1
                return _error(429, 42910000, "rate limit exceeded")
            try:
                result: Response = await handler(request)
            except BookError as exc:
                return JSONResponse(exc.body, status_code=exc.status)
            return result

        return endpoint

    async def _account(self, request: Request) -> Response:
        with self.book.lock:
            return JSONResponse(self.book.account_json())

    async def _clock(self, request: Request) -> Response:
        now = datetime.now(UTC)
        return JSONResponse(
            {
                "timestamp": stamp(now),
                "is_open": True,
                "next_open": stamp(now + timedelta(hours=18)),
                "next_close": stamp(now + timedelta(hours=6)),
            }
        )

    async def _calendar(self, request: Request) -> Response:
        start = date.fromisoformat(request.query_params.get("start", date.today().isoformat()))
        end = date.fromisoformat(request.query_params.get("end", start.isoformat()))
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        sessions = [
            {"date": day.isoformat(), "open": "09:30", "close": "16:00"}
            for day in days
            if day.weekday() < 5
        ]
        return JSONResponse(sessions)

    async def _positions(self, request: Request) -> Response:
        with self.book.lock:
            return JSONResponse([self.book.position_json(s) for s in sorted(self.book.positions)])

    async def _position(self, request: Request) -> Response:
        symbol = request.path_params["symbol"]
        with self.book.lock:
            if symbol not in self.book.positions:
                return _error(404, 40410000, "position does not exist")
            return JSONResponse(self.book.position_json(symbol))

    async def _orders(self, request: Request) -> Response:
        if request.method == "POST":
            order = self.book.submit(await request.json())
            if self._fail_504 > 0:
                self._fail_504 -= 1
                return _error(504, 50400000, "gateway timeout")
            return JSONResponse(order.to_json())
        if request.method == "DELETE":
            with self.book.lock:
                working = [o for o in self.book.orders.values() if o.is_open]
                answers = [
                    {"id": o.id, "status": 200, "body": self.book.cancel(o.id).to_json()}
                    for o in working
                ]
            return JSONResponse(answers, status_code=207)
        return JSONResponse(self._listed(request))

    def _listed(self, request: Request) -> list[Row]:
        query = request.query_params
        status = query.get("status", "open")
        after = _instant(query.get("after"))
        until = _instant(query.get("until"))
        symbols = set(filter(None, query.get("symbols", "").split(",")))
        with self.book.lock:
            chosen = [
                o
                for o in self.book.orders.values()
                if (status == "all" or (status == "open") == o.is_open)
                and (after is None or o.created_at > after)
                and (until is None or o.created_at < until)
                and (not symbols or o.symbol in symbols)
            ]
            chosen.sort(key=lambda o: o.created_at, reverse=query.get("direction") != "asc")
            return [o.to_json() for o in chosen[: int(query.get("limit", 50))]]

    async def _by_client_id(self, request: Request) -> Response:
        client_id = request.query_params.get("client_order_id", "")
        with self.book.lock:
            order = self.book.by_client_id.get(client_id)
            if order is None:
                return _error(404, 40410000, "order not found")
            return JSONResponse(order.to_json())

    async def _order(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        if request.method == "DELETE":
            self.book.cancel(order_id)
            return Response(status_code=204)
        with self.book.lock:
            order = self.book.orders.get(order_id)
            if order is None:
                return _error(404, 40410000, "order not found")
            return JSONResponse(order.to_json())


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; print the base URL and the stream URL, one per line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--key-id", default=KEY_ID)
    parser.add_argument("--secret-key", default=SECRET_KEY)
    parser.add_argument("--price", action="append", default=[], metavar="SYMBOL=PRICE")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with FakeAlpacaBroker(key_id=args.key_id, secret_key=args.secret_key, port=args.port) as fake:
        for pair in args.price:
            symbol, _, price = pair.partition("=")
            fake.set_price(symbol, price)
        print(fake.url, flush=True)
        print(fake.stream_url, flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
