"""IbRealTimeBars: IB's 5-second real-time bars (reqRealTimeBars) through ib_async, in our task.

One connection of its own (a data clientId, read-only, nothing fetched at start-up), one
subscription per symbol (TRADES, all hours: the aggregator drops what falls outside the
session). ib_async emits bars from its own callbacks; they are queued and handed to `on_bar`
from our loop. A lost socket, a forced reconnect or error 1101 (TWS restored its link to IB
but the subscriptions are gone) ends the connection; `run` connects and subscribes again after
its backoff delay. ADR 0037.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from ib_async import IB, RealTimeBarList, StartupFetch

from quant_domain import Bar
from quant_marketdata.ib.mapping import realtime_bar, stock
from quant_marketdata.ib.settings import IbDataSettings, get_settings
from quant_marketdata.live_source import Backoff, BarHandler, LiveBarSource

log = logging.getLogger("quant.marketdata.ib")

CONNECT_TIMEOUT_S = 10.0
DATA_LOST = 1101
"""TWS reconnected to IB and lost every market-data subscription: subscribe again."""


class IbRealTimeBars(LiveBarSource):
    """5-second TRADES bars of `symbols` from TWS or IB Gateway."""

    name = "ib"
    bar_length = timedelta(seconds=5)

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        settings: IbDataSettings | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(list(dict.fromkeys(s.strip() for s in symbols if s.strip())), backoff)
        self._settings = settings if settings is not None else get_settings()
        self._queue: asyncio.Queue[Bar | None] = asyncio.Queue()
        self._ib: IB | None = None

    @property
    def endpoint(self) -> str:
        return f"ib://{self._settings.host}:{self._settings.port}"

    def reconnect(self) -> None:
        if self._ib is not None:
            log.warning("cutting the IB data connection %s to reconnect", self.endpoint)
            self._queue.put_nowait(None)

    async def run(self, on_bar: BarHandler, stop: asyncio.Event) -> None:
        while not stop.is_set():
            ib = IB()
            self._ib = ib
            try:
                await ib.connectAsync(
                    self._settings.host,
                    self._settings.port,
                    clientId=self._settings.client_id,
                    timeout=CONNECT_TIMEOUT_S,
                    readonly=True,
                    fetchFields=StartupFetch(0),
                )
                subscriptions = self._subscribe(ib)
                self.connects += 1
                log.info("streaming %s 5s bars from IB %s", ",".join(self.symbols), self.endpoint)
                await self._consume(on_bar, stop)
                for bars in subscriptions:
                    if ib.isConnected():
                        ib.cancelRealTimeBars(bars)
            except (OSError, TimeoutError, ConnectionError) as exc:
                log.warning("IB data connection %s failed: %r; reconnecting", self.endpoint, exc)
            finally:
                self._ib = None
                ib.disconnect()
                self._drain()
            if not stop.is_set():
                await self.pause(stop)

    def _subscribe(self, ib: IB) -> list[RealTimeBarList]:
        subscriptions = []
        for symbol in self.symbols:
            bars = ib.reqRealTimeBars(stock(symbol), 5, "TRADES", False)
            bars.updateEvent += self._on_update(symbol)
            subscriptions.append(bars)
        ib.disconnectedEvent += lambda: self._queue.put_nowait(None)
        ib.errorEvent += self._on_error
        return subscriptions

    def _on_update(self, symbol: str) -> Any:
        def update(bars: RealTimeBarList, has_new_bar: bool) -> None:
            if has_new_bar and bars:
                self._queue.put_nowait(realtime_bar(symbol, bars[-1]))

        return update

    def _on_error(self, req_id: int, code: int, message: str, *_: object) -> None:
        if code == DATA_LOST:
            log.warning("IB lost the market-data subscriptions (%d %s)", code, message)
            self._queue.put_nowait(None)

    async def _consume(self, on_bar: BarHandler, stop: asyncio.Event) -> None:
        """Hand queued bars to `on_bar` until stopped or the connection is to be renewed."""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                getting = asyncio.ensure_future(self._queue.get())
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    return
                bar = getting.result()
                if bar is None:
                    return
                self.backoff.reset()
                await on_bar(bar)
        finally:
            stopping.cancel()

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
