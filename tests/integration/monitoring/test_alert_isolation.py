"""A receiver that hangs does not delay an order: delivery runs in the monitoring service's own
process, through the queue in PostgreSQL, while a paper order round trip completes quickly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from quant_db.schema import AlertDelivery
from tests.fakes.alert_receivers import http_receiver
from tests.integration.monitoring.delivery import raise_one, sessions
from tests.integration.monitoring.order_path import round_trips

QUANT = str(Path(sys.executable).with_name("quant"))
HANG_S = 30.0  # the receiver holds every request this long (the test does not wait for it)


async def _sending(url: str) -> int:
    async with sessions(url) as factory, factory() as session:
        rows = (await session.scalars(select(AlertDelivery.status))).all()
        return sum(1 for status in rows if status == "sending")


def test_order_round_trip_stays_fast_while_a_delivery_hangs_in_flight(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    with http_receiver(hang_s=HANG_S) as receiver:
        channels = tmp_path / "channels.yaml"
        channels.write_text(
            "channels:\n"
            f"  - {{name: dead, kind: slack, url: '{receiver.url()}', min_severity: info}}\n"
            "delivery: {timeout_s: 60, max_attempts: 1, concurrency: 2}\n"
            "daily_summary: {enabled: false}\n"
        )
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
        monitor = subprocess.Popen(
            [QUANT, "monitoring", "run", "--channels", str(channels), "--every", "0.5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            async def scenario() -> list[float]:
                async with sessions(database_url) as factory:
                    await raise_one(factory, "iso:1")
                    await raise_one(factory, "iso:2")
                await asyncio.to_thread(receiver.wait_for, 2, 60.0)
                assert await _sending(database_url) == 2  # both deliveries hang in flight
                started = time.monotonic()
                latencies = await round_trips(database_url, redis_url, steps=10, interval=0.05)
                assert time.monotonic() - started < HANG_S / 2
                assert await _sending(database_url) == 2  # still hanging meanwhile
                return latencies

            latencies = asyncio.run(scenario())
            assert monitor.poll() is None
        finally:
            monitor.kill()
            monitor.wait()
    assert len(latencies) == 10
    # a bar -> order -> fill stored takes ~10 ms on a quiet machine (a few hundred on a loaded
    # one); a hang reaching the order path would add the receiver's 30 s to an order
    assert max(latencies) < HANG_S / 6, sorted(latencies)[-3:]
