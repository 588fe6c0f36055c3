"""Event bus throughput and latency: publish, then consume with acknowledgement, through one group.

Run: .venv/bin/python bench/bus.py [--events 20000] [--batch 100] [--paced 2000] [--rate 1000]

Uses QUANT_BENCH_REDIS_URL when set (127.0.0.1 or localhost only; it must not hold a
`bars.closed` stream already, and the streams the run makes are deleted after), else an embedded
Valkey in a temporary folder. Three measurements through quant_bus.RedisBus, one process:
  1. publish: --events BarClosed events, one XADD per event awaited in turn (the port's
     publish, MINID trimming included) -> events/s;
  2. consume + ack: one consumer of one group drains them in batches of --batch (XREADGROUP,
     decode, a handler that only counts, XACK) -> events/s;
  3. end-to-end latency: --paced events published at --rate events/s while the consumer runs
     (XREADGROUP BLOCK), from the start of publish() to the handler receiving the event and to
     the round's acknowledgement returning -> p50/p99 in ms.
For 1 and 2 it also prints the share of the wall time this process spent on CPU: near 100 %
means the client, not the server, sets the pace.
Bounded: it gives up (exit 1) past --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from _machine import describe, load_average

from quant_bus import BARS_CLOSED, BarClosedEvent, Consumer, Delivery, RedisBus, dead_letter_stream
from quant_db.embedded import embedded_redis_url

GROUP = "bench"
MIN_SAMPLES_FOR_P99 = 100
T0 = datetime(2020, 1, 1, tzinfo=UTC)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _event(n: int) -> BarClosedEvent:
    return BarClosedEvent(
        idempotency_key=f"bar:bench:SYN:1m:{n}",
        symbol="SYN",
        timeframe="1m",
        timestamp=T0 + timedelta(minutes=n),
        open=100.0,
        high=101.0,
        low=99.5,
        close=100.5,
        volume=1_000.0,
        source="bench",
    )


def _server() -> str:
    external = os.environ.get("QUANT_BENCH_REDIS_URL")
    if external:
        host = urlsplit(external).hostname
        if host not in {"127.0.0.1", "localhost"}:
            print(f"bench/bus.py: QUANT_BENCH_REDIS_URL must point at 127.0.0.1, not {host}")
            sys.exit(2)
        return external
    folder = Path(tempfile.mkdtemp(prefix="quant-bench-bus-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # runs after the server stops
    return embedded_redis_url(folder)


async def _throughput(bus: RedisBus, events: int, batch: int) -> tuple[float, float, float, float]:
    """Events/s published and consumed with ack, and this process's CPU share of each phase."""
    prepared = [_event(n) for n in range(events)]
    t0, cpu0 = time.perf_counter(), time.process_time()
    for event in prepared:
        await bus.publish(BARS_CLOSED, event)
    published, publish_cpu = time.perf_counter() - t0, time.process_time() - cpu0

    seen = 0

    async def count(batch_: Sequence[Delivery]) -> None:
        nonlocal seen
        seen += len(batch_)

    c = Consumer(BARS_CLOSED, GROUP, "throughput", batch=batch, block_ms=100)
    acked = 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    while acked < events:
        acked += (await bus.consume(c, count)).acked
    consumed, consume_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert seen == events, (seen, events)
    return events / published, events / consumed, publish_cpu / published, consume_cpu / consumed


async def _latency(
    bus: RedisBus, reader: RedisBus, paced: int, rate: float, batch: int
) -> tuple[list[float], list[float]]:
    started: dict[str, float] = {}
    delivered: dict[str, float] = {}
    acked: dict[str, float] = {}
    c = Consumer(BARS_CLOSED, GROUP, "latency", batch=batch, block_ms=200)

    async def handler(batch_: Sequence[Delivery]) -> None:
        now = time.perf_counter()
        for d in batch_:
            delivered[d.event.idempotency_key] = now

    async def consume() -> None:
        while len(acked) < paced:
            before = set(delivered)
            await reader.consume(c, handler)
            now = time.perf_counter()
            for k in set(delivered) - before:
                acked[k] = now

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.3)  # the consumer is waiting on XREADGROUP BLOCK
    prepared = [_event(1_000_000 + n) for n in range(paced)]
    t0 = time.perf_counter()
    for n, event in enumerate(prepared):
        due = t0 + n / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        started[event.idempotency_key] = time.perf_counter()
        await bus.publish(BARS_CLOSED, event)
    await consumer
    to_handler = [(delivered[k] - s) * 1e3 for k, s in started.items()]
    to_ack = [(acked[k] - s) * 1e3 for k, s in started.items()]
    return to_handler, to_ack


async def _run(url: str, args: argparse.Namespace) -> None:
    bus = RedisBus.from_url(url)
    reader = RedisBus.from_url(url)
    try:
        if await bus._client.exists(BARS_CLOSED):
            print(f"bench/bus.py: {url} already holds a {BARS_CLOSED} stream; use an empty server")
            sys.exit(2)
        await bus._client.xgroup_create(BARS_CLOSED, GROUP, id="0", mkstream=True)
        pub_rate, consume_rate, pub_cpu, consume_cpu = await _throughput(
            bus, args.events, args.batch
        )
        to_handler, to_ack = await _latency(bus, reader, args.paced, args.rate, args.batch)
        print(f"\n{args.events:,} BarClosed events, one group, batches of {args.batch}:")
        print(
            f"  publish (one XADD awaited per event)      {pub_rate:>9,.0f} events/s"
            f"   (this process on CPU {pub_cpu:.0%} of the time)"
        )
        print(
            f"  consume + ack (XREADGROUP, decode, XACK)  {consume_rate:>9,.0f} events/s"
            f"   (this process on CPU {consume_cpu:.0%} of the time)"
        )
        n = len(to_handler)
        label = "p99" if n >= MIN_SAMPLES_FOR_P99 else "max"
        q = 0.99 if n >= MIN_SAMPLES_FOR_P99 else 1.0
        print(f"end-to-end latency, {n:,} events paced at {args.rate:,.0f}/s (n={n}):")
        for name, values in (("publish -> handler", to_handler), ("publish -> acked", to_ack)):
            print(
                f"  {name:<20} p50 {_percentile(values, 0.5):6.2f} ms   "
                f"{label} {_percentile(values, q):6.2f} ms   max {max(values):6.2f} ms"
            )
    finally:
        await bus._client.delete(BARS_CLOSED, dead_letter_stream(BARS_CLOSED))
        await bus.close()
        await reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--paced", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=1_000.0, help="events/s when paced")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args()
    if not (0 < args.events <= 1_000_000 and 0 < args.paced <= 100_000 and args.rate > 0):
        print("bench/bus.py: --events 1..1,000,000, --paced 1..100,000, --rate > 0")
        sys.exit(2)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    url = _server()
    server = (
        "QUANT_BENCH_REDIS_URL" if os.environ.get("QUANT_BENCH_REDIS_URL") else "embedded Valkey"
    )
    print(f"server: {server}")
    try:
        asyncio.run(asyncio.wait_for(_run(url, args), args.max_seconds))
    except TimeoutError:
        print(f"bench/bus.py: gave up after {args.max_seconds:.0f} s")
        sys.exit(1)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
