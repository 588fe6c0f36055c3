"""AlpacaBroker: the LiveBroker port over alpaca-py's REST client and our trade_updates socket."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection

from quant_brokers.alpaca import mapping
from quant_brokers.alpaca.desk import OrderDesk
from quant_brokers.alpaca.rest import AlpacaRest, AlpacaTimings
from quant_brokers.alpaca.settings import AlpacaBrokerSettings
from quant_brokers.alpaca.stream import StreamRefused, TradeUpdateStream
from quant_brokers.base import Backoff
from quant_domain import BrokerUnavailable, Order
from quant_domain.events import ExecutionReport, OrderRejected
from quant_domain.ports import (
    AccountSnapshot,
    BrokerAccountSummary,
    ConnectionHandler,
    ReportHandler,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class AlpacaBroker:
    """Alpaca through alpaca-py, following the LiveBroker threading contract.

    One thread ("alpaca-io") runs an event loop that owns the trade_updates socket, the order
    bookkeeping and every report delivery, so reports for an order arrive in order. Order REST
    calls (submit, cancel, lookups) run one at a time on a second thread ("alpaca-rest") that
    the loop awaits; `open_orders`, `positions`, `account` and `summary` block the caller.
    """

    name = "alpaca"

    def __init__(
        self,
        settings: AlpacaBrokerSettings,
        timings: AlpacaTimings | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        key_id, secret_key = settings.credentials()
        self._settings = settings
        self._timings = timings or AlpacaTimings()
        self._endpoint = settings.trading_endpoint
        self._stream = TradeUpdateStream(
            settings.stream_endpoint, key_id, secret_key, self._timings.open_timeout
        )
        self._rest = AlpacaRest(key_id, secret_key, settings, self._timings)
        self._query = AlpacaRest(key_id, secret_key, settings, self._timings)
        self._backoff = Backoff(
            self._timings.reconnect_base, self._timings.reconnect_cap, rng=rng or random.Random()
        )
        self._report: ReportHandler = self._unhandled
        self._on_connection: ConnectionHandler | None = None
        self._connected = threading.Event()
        self._settled = threading.Event()
        self._refused = ""
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._socket: ClientConnection | None = None
        self._desk = OrderDesk(self._rest, self._call, self._deliver, self._timings, self._endpoint)

    def __repr__(self) -> str:
        return f"AlpacaBroker({self._endpoint!r}, paper={self._settings.paper})"

    # -- link ----------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._report = handler

    def set_connection_handler(self, handler: ConnectionHandler) -> None:
        self._on_connection = handler

    def connect(self, timeout: float = 10.0) -> None:
        """Check the key over REST, open the stream and wait until it listens (or raise)."""
        if self._thread is not None:
            self.close()  # a second connect starts afresh rather than run two streams
        deadline = time.monotonic() + timeout
        self._blocking(self._query.account)
        self._closing, self._refused = False, ""
        self._settled.clear()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="alpaca-rest")
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="alpaca-io", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), loop).result(timeout)
        self._settled.wait(max(0.0, deadline - time.monotonic()))
        if not self._refused:
            self._connected.wait(max(0.0, deadline - time.monotonic()))
        if not self._connected.is_set():
            reason = self._refused or f"no trade_updates stream within {timeout:g} s"
            self.close()
            raise BrokerUnavailable(f"alpaca: {self._stream.url}: {reason}")

    def close(self) -> None:
        self._closing = True
        self._connected.clear()
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(self._stop(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._loop = self._thread = self._pool = None

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run()), loop.create_task(self._watch())]

    async def _stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        """Keep one stream session open; between sessions wait on the backoff."""
        while not self._closing:
            detail = await self._session()
            self._set_connected(False, detail)
            self._settled.set()
            if self._closing:
                return
            await asyncio.sleep(self._backoff.next_delay())

    async def _session(self) -> str:
        try:
            async with self._stream.open() as socket:
                self._socket = socket
                await self._desk.recover()
                self._backoff.reset()
                self._set_connected(True, f"trade_updates stream open at {self._stream.url}")
                self._settled.set()
                async for update in self._stream.updates(socket):
                    self._desk.on_update(update)
            return "the trade_updates stream closed"
        except StreamRefused as exc:
            self._refused = str(exc)
            return self._refused
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("alpaca: trade_updates session ended: %s", type(exc).__name__)
            return f"trade_updates stream lost ({type(exc).__name__})"
        finally:
            self._socket = None

    def _set_connected(self, up: bool, detail: str) -> None:
        if up == self._connected.is_set() or (self._closing and up):
            return
        (self._connected.set if up else self._connected.clear)()
        log.info("alpaca: %s (%s)", "connected" if up else "disconnected", detail)
        if self._on_connection is not None and not self._closing:
            try:
                self._on_connection(up, detail)
            except Exception:
                log.exception("alpaca: the connection handler failed")

    # -- orders --------------------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        loop = self._loop
        if loop is None or not self.connected:
            self._refuse_now(order, loop)
            return
        asyncio.run_coroutine_threadsafe(self._submit(order), loop)

    async def _submit(self, order: Order) -> None:
        if not self.connected:  # the link dropped since `submit` looked
            self._refuse_now(order, None)
            return
        await self._desk.submit(order)

    def _refuse_now(self, order: Order, loop: asyncio.AbstractEventLoop | None) -> None:
        refusal: list[ExecutionReport] = [
            OrderRejected(
                order.client_order_id,
                datetime.now(UTC),
                f"alpaca: not connected to {self._endpoint}; the order was not sent",
                "BROKER_UNAVAILABLE",
            )
        ]
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._deliver, refusal)
        else:
            self._deliver(refusal)

    def cancel(self, client_order_id: str, reason: str = "") -> None:
        loop = self._loop
        if loop is None:
            log.warning("alpaca: cancel of %s while closed: nothing sent", client_order_id)
            return
        asyncio.run_coroutine_threadsafe(self._desk.cancel(client_order_id, reason), loop)

    def _deliver(self, reports: list[ExecutionReport]) -> None:
        for report in reports:
            try:
                self._report(report)
            except Exception:
                log.exception("alpaca: the report handler failed on %s", type(report).__name__)

    def _unhandled(self, report: ExecutionReport) -> None:
        log.warning("alpaca: no report handler installed; dropped %s", type(report).__name__)

    def resolve(
        self, client_order_id: str, filled: Decimal = Decimal(0), notional: Decimal = Decimal(0)
    ) -> None:
        """Look up by its client order id an order an earlier process placed, and report what
        Alpaca holds of it beyond `filled` (at `notional`): what a restarted runner's books hold
        already. Never sends it again."""
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._desk.follow, client_order_id, filled, notional)

    # -- orders in doubt and a mute stream -----------------------------------------------------
    async def _watch(self) -> None:
        tick = min(self._timings.lookup_interval, self._timings.echo_timeout) / 4
        while not self._closing:
            await asyncio.sleep(tick)
            try:
                await self._desk.resolve_due()
                if self._desk.stream_is_mute() and self._socket is not None:
                    log.warning("alpaca: the stream did not echo an accepted order; reconnecting")
                    await self._socket.close()
            except Exception:  # the watcher must outlive any one failure: orders wait on it
                log.exception("alpaca: checking orders in doubt failed; trying again")

    # -- queries (blocking, caller's thread) ---------------------------------------------------
    def open_orders(self) -> list[Order]:
        """Working orders at Alpaca; each is watched from now on (its fills are reported)."""
        snapshots = self._blocking(self._query.open_orders)
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._desk.adopt, snapshots)
        return [mapping.domain_order(snapshot) for snapshot in snapshots]

    def positions(self) -> Mapping[str, Decimal]:
        return mapping.positions(self._blocking(self._query.positions))

    def account(self) -> AccountSnapshot:
        account = self._blocking(self._query.account)
        return mapping.account_snapshot(account, datetime.now(UTC))

    def summary(self) -> BrokerAccountSummary:
        account = self._blocking(self._query.account)
        return mapping.account_summary(account, self._endpoint, self._settings.paper)

    # -- plumbing ------------------------------------------------------------------------------
    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            raise BrokerUnavailable(f"alpaca: {self._endpoint}: the adapter is closed")
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    def _blocking(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return function(*args)
        except Exception as exc:
            raise BrokerUnavailable(f"alpaca: {self._desk.describe(exc)}") from None
