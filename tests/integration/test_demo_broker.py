"""`quant up --demo-broker alpaca|ib`: a local protocol server whose prices follow the bars on the
bus, and an environment under which the real adapter reaches it (`quant brokers check` passes)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from quant_bus.redis_bus import RedisBus
from quant_bus.streams import BARS_CLOSED, BarClosedEvent
from quant_cli.demo_broker import DemoBroker

QUANT = str(Path(sys.executable).parent / "quant")


async def _publish(redis_url: str, close: float) -> None:
    bus = RedisBus.from_url(redis_url)
    try:
        await bus.publish(
            BARS_CLOSED,
            BarClosedEvent(
                idempotency_key=f"bar:replay:SPY:1d:{close}",
                symbol="SPY",
                timeframe="1d",
                timestamp=datetime(2018, 1, 2, 21, tzinfo=UTC),
                open=close,
                high=close,
                low=close,
                close=close,
                volume=1_000.0,
                source="replay",
            ),
        )
    finally:
        await bus.close()


def _price(broker: DemoBroker) -> float | None:
    price = broker._server.book.prices.get("SPY")  # the test reads the fake's own book
    return None if price is None else float(price)


@pytest.mark.parametrize("kind", ["alpaca", "ib"])
def test_demo_broker_prices_follow_the_bus_and_the_adapter_reaches_it(
    kind: str, redis_url: str
) -> None:
    broker = DemoBroker(kind, redis_url).start()
    try:
        deadline = time.monotonic() + 20
        while _price(broker) != 271.5 and time.monotonic() < deadline:
            asyncio.run(_publish(redis_url, 271.5))  # the group may join after the first one
            time.sleep(0.3)
        assert _price(broker) == 271.5
        env = {**os.environ, **broker.environment()}
        check = subprocess.run(
            [QUANT, "brokers", "check", "--broker", kind, "--account", "paper"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert "paper" in check.stdout.lower() or "DU" in check.stdout, check.stdout
    finally:
        broker.close()


def test_demo_broker_refuses_an_unknown_kind(redis_url: str) -> None:
    with pytest.raises(ValueError, match="--demo-broker: 'binance' is not one of alpaca, ib"):
        DemoBroker("binance", redis_url)
