"""`quant up --demo-broker alpaca|ib`: the demo's paper account on a local Alpaca or TWS server.

The servers are the ones the broker tests run against (tests/fakes: they speak Alpaca's REST and
trade_updates protocols and the TWS socket protocol), so the real alpaca-py or ib_async code runs
offline. They need a source checkout. Their market price follows the bars the data service
publishes: a thread reads each BarClosed as it is added to the stream (a group of its own, new
entries only) and sets the symbol's price to the bar's close, normally before the execution
service has decided on that bar; a fill can still land a bar late at full replay speed, so the
demo broker's fills may differ from the simulated broker's by a bar's move.
"""

# ruff: noqa: PLC0415 - the fakes, the SDKs and the bus load only when a demo broker is asked for

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import uuid
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any


class DemoBrokerKind(StrEnum):
    """The local servers `quant up --demo-broker` can start."""

    ALPACA = "alpaca"
    IB = "ib"


KINDS = tuple(kind.value for kind in DemoBrokerKind)
ROOT = Path(__file__).resolve().parents[4]


class DemoBroker:
    """One local broker server, its prices following the bus, and the environment for it."""

    def __init__(self, kind: str, redis_url: str, account: str = "paper") -> None:
        if kind not in KINDS:
            raise ValueError(f"--demo-broker: {kind!r} is not one of {', '.join(KINDS)}")
        self.kind = kind
        self.account = account
        self._redis_url = redis_url
        self._server: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.prices = 0  # bars whose close the server has taken as its price

    def start(self) -> DemoBroker:
        if not (ROOT / "tests" / "fakes" / "__init__.py").exists():
            raise FileNotFoundError(
                "--demo-broker needs the repository's tests/fakes (a source checkout)"
            )
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        if self.kind == "alpaca":
            module = importlib.import_module("tests.fakes.alpaca_broker")
            self._server = module.FakeAlpacaBroker()
            self._server.__enter__()
        else:
            module = importlib.import_module("tests.fakes.tws")
            self._server = module.FakeTws().start()
        self._thread = threading.Thread(target=self._follow, name="demo-broker-prices", daemon=True)
        self._thread.start()
        return self

    def environment(self) -> dict[str, str]:
        """What the execution service (and `quant brokers check`) need to use this server."""
        env = {"QUANT_ACCOUNT_BROKERS": f"{self.account}={self.kind}"}
        if self.kind == "alpaca":
            module = importlib.import_module("tests.fakes.alpaca_broker")
            env |= {
                "APCA_API_KEY_ID": module.KEY_ID,
                "APCA_API_SECRET_KEY": module.SECRET_KEY,
                "QUANT_ALPACA_BROKER_PAPER": "true",
                "QUANT_ALPACA_BROKER_TRADING_URL": self._server.url,
                "QUANT_ALPACA_BROKER_STREAM_URL": self._server.stream_url,
            }
        else:
            env |= {
                "QUANT_IB_HOST": "127.0.0.1",
                "QUANT_IB_PORT": str(self._server.port),
                "QUANT_IB_ACCOUNT": self._server.book.account,
            }
        return env

    def describe(self) -> str:
        if self.kind == "alpaca":
            return f"local Alpaca server {self._server.url} (alpaca-py, paper)"
        return f"local TWS server 127.0.0.1:{self._server.port} (ib_async)"

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._server is not None:
            if self.kind == "alpaca":
                self._server.__exit__(None, None, None)
            else:
                self._server.stop()

    def _follow(self) -> None:
        asyncio.run(self._follow_bars())

    async def _follow_bars(self) -> None:
        from redis.asyncio import Redis

        from quant_bus.base import Consumer, Delivery
        from quant_bus.redis_bus import RedisBus
        from quant_bus.streams import BARS_CLOSED, BarClosedEvent

        bus = RedisBus.from_url(self._redis_url)
        consumer = Consumer(
            BARS_CLOSED,
            f"demo-broker-{uuid.uuid4().hex[:8]}",
            "prices",
            new_only=True,
            block_ms=200,
        )
        stop = asyncio.Event()

        async def prices(deliveries: Sequence[Delivery]) -> None:
            for delivery in deliveries:
                event = delivery.event
                if isinstance(event, BarClosedEvent):
                    self._server.set_price(event.symbol, event.close)
                    self.prices += 1

        async def watch() -> None:
            while not self._stop.is_set():
                await asyncio.sleep(0.1)
            stop.set()

        watcher = asyncio.create_task(watch())
        try:
            await bus.run(consumer, prices, stop)
        finally:
            await watcher
            await bus.close()
            # the group is this process's alone: leave no lagging group for monitoring to report
            client = Redis.from_url(self._redis_url)
            try:
                await client.xgroup_destroy(BARS_CLOSED, consumer.group)
            finally:
                await client.aclose()
