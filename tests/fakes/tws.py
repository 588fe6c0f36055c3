"""FakeTws: a local server speaking the TWS socket protocol (server version 178) to ib_async.

It runs in a background thread (`with FakeTws() as tws:`, or `python -m tests.fakes.tws --port 0`,
which prints `host:port`) and serves what `IB.connectAsync` asks at start-up (positions, open and
completed orders, account updates, executions) plus account summary, place/cancel order, fills
with execDetails and commissionReport, live position updates and reqIds. Market orders fill at
the price given by `set_price`; limit and stop orders work until the price reaches them.

Real-time bars (for a live feed's tests): `ib.reqRealTimeBars(Stock("AAPL", "SMART", "USD"), 5,
"TRADES", False)` subscribes a connection to a symbol; `push_bar(symbol, o, h, l, c, v, at)` sends
every subscriber a realtimeBar (50: reqId, epoch seconds, open, high, low, close, volume, wap,
count), which ib_async appends to the RealTimeBarList it returned (`barUpdateEvent`);
`bar_seconds > 0` (`--bar-seconds`, 5 by default from the command line) also sends a flat bar at
the last price every that many seconds; `cancelRealTimeBars` ends the subscription.

Fault knobs (all thread-safe): `fill_in_parts`, `reject_next` (error 201), `hold_acks` (orders
recorded, never answered), `lose_orders` (never arrive), `executions_before_open`, `refuse_client_id` (326 on connect),
`notify` (1100 / 1101 / 1102), `drop_connections`, `restart` (drops every connection and rolls
nextValidId back), `correct_execution` (the same execId with a new suffix).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

from tests.fakes import tws_messages as msg
from tests.fakes.tws_book import TwsBook
from tests.fakes.tws_messages import SERVER_VERSION, WireExecution, WireOrder, frame
from tests.fakes.tws_requests import dispatch

T = TypeVar("T")
CLIENT_ID_IN_USE = (
    "Unable to connect as the client id is already in use. Retry with a unique client id."
)


@dataclass(eq=False)
class Session:
    """One API connection: its client id and what it subscribed to."""

    writer: asyncio.StreamWriter
    client_id: int = -1
    positions: bool = False
    account_updates: bool = False
    bars: dict[int, str] = field(default_factory=dict)  # reqId -> symbol

    def send(self, fields: list[msg.Field]) -> None:
        if not self.writer.is_closing():
            self.writer.write(frame(fields))


class FakeTws:
    """A TWS / IB Gateway stand-in on 127.0.0.1 that the real ib_async client talks to."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        account: str = "DU1234567",
        next_valid_id: int = 1,
        bar_seconds: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.book = TwsBook(account=account)
        self.next_valid_id = next_valid_id
        self.bar_seconds = bar_seconds
        self.sessions: list[Session] = []
        self.placed: list[tuple[int, int, str]] = []  # (client id, order id, orderRef) received
        self.duplicate_ids: list[int] = []  # order ids refused with 103
        self.fill_parts = 1
        self.reject = 0
        self.ack_held = False
        self.losses = 0
        self.lost: list[tuple[int, int, str]] = []  # placeOrders dropped by `lose_orders`
        self.execs_first = False
        self.refusals = 0
        self.link_down = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeTws:
        self._thread = threading.Thread(target=self._serve, name="fake-tws", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("FakeTws did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeTws:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        ticker = asyncio.create_task(self._bars()) if self.bar_seconds > 0 else None
        self._started.set()
        await self._stopping.wait()
        if ticker is not None:
            ticker.cancel()
        self._server.close()
        for session in list(self.sessions):
            session.writer.close()
        await self._server.wait_closed()

    def _call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (where all state lives) and wait for its result."""
        assert self._loop is not None, "FakeTws is not started"
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(fn())
            except Exception as exc:  # handed to the caller's thread
                done.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return done.result(10)

    # -- knobs ---------------------------------------------------------------------------------
    def set_price(self, symbol: str, price: float) -> None:
        """Last price of `symbol`: market orders fill at it, working orders it reaches fill."""

        def apply() -> None:
            self.book.prices[symbol] = float(price)
            for order in list(self.book.orders):
                if order.symbol == symbol and not self.ack_held:
                    self.try_fill(order)

        self._call(apply)

    def fill_in_parts(self, parts: int) -> None:
        """Each order that trades fills in `parts` executions (the last takes the remainder)."""
        self.fill_parts = max(1, parts)

    def reject_next(self, count: int = 1) -> None:
        """The next `count` orders are refused with error 201."""
        self.reject = count

    def hold_acks(self, held: bool = True) -> None:
        """Orders are recorded but get no answer (an ambiguous submit); reqOpenOrders shows them."""
        self.ack_held = held

    def lose_orders(self, count: int = 1) -> None:
        """The next `count` placeOrders vanish on the way (kept in `lost`, never in the book)."""
        self.losses = count

    def executions_before_open(self, first: bool = True) -> None:
        """A fill's execDetails and commissionReport arrive before its openOrder and orderStatus."""
        self.execs_first = first

    def refuse_client_id(self, times: int = 1) -> None:
        """The next `times` connections are refused with error 326 (client id in use)."""
        self.refusals = times

    def notify(self, code: int, text: str = "") -> None:
        """Send every connection a link notice: 1100 lost, 1101 / 1102 restored (1101 with the
        connections' subscriptions dropped: positions, account updates, real-time bars)."""
        texts = {
            1100: "Connectivity between IB and Trader Workstation has been lost.",
            1101: "Connectivity between IB and TWS has been restored- data lost.",
            1102: "Connectivity between IB and TWS has been restored- data maintained.",
        }

        def send() -> None:
            self.link_down = code == 1100
            for session in self.sessions:
                if code == 1101:  # "data lost": every subscription must be made again
                    session.positions = session.account_updates = False
                    session.bars.clear()
                session.send(msg.error(-1, code, text or texts.get(code, "")))

        self._call(send)

    def drop_connections(self) -> None:
        """Close every API connection (TWS quit, the network went away)."""

        def drop() -> None:
            for session in list(self.sessions):
                session.writer.close()
            self.sessions.clear()

        self._call(drop)

    def restart(self, next_valid_id: int | None = None) -> None:
        """A gateway restart: connections close, nextValidId may roll back; orders survive."""
        self.drop_connections()
        if next_valid_id is not None:
            self.next_valid_id = next_valid_id

    def correct_execution(self, exec_id: str, price: float) -> str:
        """Send the owner a correction of `exec_id` at `price`; returns the new execId."""

        def correct() -> str:
            corrected = self.book.correct(exec_id, price)
            self.send_execution(corrected)
            return corrected.exec_id

        return self._call(correct)

    def push_bar(
        self, symbol: str, o: float, h: float, low: float, c: float, v: float, at: int = 0
    ) -> int:
        """Send a realtimeBar to every subscriber of `symbol`; returns how many got it."""
        stamp = at or int(time.time())

        def push() -> int:
            sent = 0
            for session in self.sessions:
                for req_id, subscribed in session.bars.items():
                    if subscribed == symbol:
                        bar: list[msg.Field] = [
                            msg.REAL_TIME_BAR,
                            3,
                            req_id,
                            stamp,
                            o,
                            h,
                            low,
                            c,
                            v,
                            c,
                            1,
                        ]
                        session.send(bar)
                        sent += 1
            return sent

        return self._call(push)

    def orders(self) -> list[WireOrder]:
        return self._call(lambda: list(self.book.orders))

    def positions(self) -> dict[str, float]:
        return self._call(lambda: {s: q for s, (q, _) in self.book.positions.items()})

    def executions(self) -> list[WireExecution]:
        return self._call(lambda: list(self.book.executions))

    # -- the order path (on the server's loop) ---------------------------------------------------
    def owner(self, client_id: int) -> Session | None:
        return next((s for s in self.sessions if s.client_id == client_id), None)

    def send_status(self, order: WireOrder) -> None:
        session = self.owner(order.client_id)
        if session is not None:
            session.send(msg.open_order(order))
            session.send(msg.order_status(order))

    def send_execution(self, execution: WireExecution) -> None:
        session = self.owner(execution.order.client_id)
        if session is not None:
            session.send(msg.exec_details(execution))
            session.send(msg.commission_report(execution))

    def try_fill(self, order: WireOrder) -> None:
        """Trade `order` if the price allows: in `fill_parts` executions, positions sent live."""
        price = self.book.fill_price(order)
        if price is None:
            return
        parts = self.fill_parts
        base = round(order.remaining / parts) if parts > 1 else order.remaining
        for part in range(parts):
            shares = order.remaining if part == parts - 1 else base
            if shares <= 0:
                continue
            execution = self.book.execute(order, shares, price)
            if self.execs_first:
                self.send_execution(execution)
                self.send_status(order)
            else:
                session = self.owner(order.client_id)
                if session is not None:
                    session.send(msg.exec_details(execution))
                    session.send(msg.order_status(order))
                    session.send(msg.commission_report(execution))
            self.send_positions(order.symbol)

    def send_positions(self, symbol: str) -> None:
        quantity, avg = self.book.positions.get(symbol, (0.0, 0.0))
        row = msg.position(self.book.account, self.book.con_id(symbol), symbol, quantity, avg)
        for session in self.sessions:
            if session.positions:
                session.send(row)

    # -- connections ---------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(writer)
        try:
            if await reader.readexactly(4) != b"API\0":
                return
            size = int.from_bytes(await reader.readexactly(4), "big")
            await reader.readexactly(size)  # "v157..178": we answer at 178 whatever was offered
            stamp = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")
            writer.write(frame([SERVER_VERSION, stamp]))
            buffer = bytearray()
            while chunk := await reader.read(65536):
                buffer += chunk
                for fields in msg.split_frames(buffer):
                    if not self._handle(session, fields):
                        return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _handle(self, session: Session, fields: list[str]) -> bool:
        """Answer one request; False closes the connection (a refused start)."""
        if fields[0] == "71":  # startApi: 71, 2, clientId, optionalCapabilities
            client_id = int(fields[2])
            if self.refusals > 0 or self.owner(client_id) is not None:
                self.refusals = max(0, self.refusals - 1)
                session.send(msg.error(-1, 326, CLIENT_ID_IN_USE))
                return False
            session.client_id = client_id
            self.sessions.append(session)
            session.send([msg.NEXT_VALID_ID, 1, self.next_valid_id])
            session.send([msg.MANAGED_ACCOUNTS, 1, self.book.account])
            return True
        dispatch(self, session, fields)
        return True

    async def _bars(self) -> None:
        while True:
            await asyncio.sleep(self.bar_seconds)
            stamp = int(time.time())
            for session in self.sessions:
                for req_id, symbol in session.bars.items():
                    price = self.book.prices.get(symbol)
                    if price is not None:
                        bar: list[Any] = [msg.REAL_TIME_BAR, 3, req_id, stamp]
                        session.send([*bar, price, price, price, price, 0, price, 0])


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted; prints `host:port` once listening."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.tws", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account", default="DU1234567")
    parser.add_argument("--price", action="append", default=[], help="SYMBOL=PRICE, repeatable")
    parser.add_argument("--bar-seconds", type=float, default=5.0, help="0: no periodic bars")
    args = parser.parse_args(argv)
    tws = FakeTws(args.host, args.port, args.account, bar_seconds=args.bar_seconds).start()
    for item in args.price:
        symbol, _, price = item.partition("=")
        tws.set_price(symbol.upper(), float(price))
    print(f"{tws.host}:{tws.port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        tws.stop()


if __name__ == "__main__":
    main()
