"""The order path's latency with and without an alert receiver that hangs, in one interleaved run.

Run: .venv/bin/python bench/alert_isolation.py [--per-arm 400] [--block 50] [--max-minutes 15]
Embedded PostgreSQL and Valkey in a temporary folder, 127.0.0.1 only. Measured per order: a
bar handed to XADD -> the paper runner -> the order written ahead to PostgreSQL -> filled by the
paper broker and stored (tests/integration/monitoring/order_path.py).

One `quant monitoring run` (rules every 5 s) runs throughout, delivering to a Slack-style
receiver. Blocks of --block orders alternate A, B, A, B, ... so that whatever else loads the
machine falls on both arms alike, and both arms have the monitoring service doing the same work:
  A  the receiver answers at once: the deliveries hung in the last B block are over, four fresh
     alerts are raised and delivered before the block starts;
  B  the receiver holds every request for --hang-s seconds: four fresh alerts are raised and
     the block starts only once all four delivery slots hang on it.
Steps are published every --interval-ms, slower than a step takes, so each figure is one
order's latency, not a queue's. Stops at --per-arm orders per arm, or after --max-minutes (at
the end of an A-B pair, so both arms keep the same number of blocks). Prints p50/p90/p99/max per
arm, the B/A ratios and the median over pairs of each pair's B/A ratio of block medians; p99
needs n >= 100 to rest on more than one value.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared fakes in tests/

from _machine import describe, load_average
from sqlalchemy import select

from quant_db.embedded import database_url, redis_url
from quant_db.migrate import upgrade
from quant_db.schema import AlertDelivery
from quant_db.settings import StorageSettings
from tests.fakes.alert_receivers import HttpReceiver, http_receiver
from tests.integration.monitoring.delivery import raise_one, sessions
from tests.integration.monitoring.order_path import round_trips

QUANT = str(Path(sys.executable).with_name("quant"))
SLOTS = 4  # the monitoring service's delivery concurrency in this bench


async def _in_flight(url: str) -> int:
    async with sessions(url) as factory, factory() as session:
        statuses = (await session.scalars(select(AlertDelivery.status))).all()
        return sum(1 for s in statuses if s in ("pending", "sending"))


async def _hanging(url: str) -> int:
    async with sessions(url) as factory, factory() as session:
        statuses = (await session.scalars(select(AlertDelivery.status))).all()
        return sum(1 for s in statuses if s == "sending")


async def _raise(url: str, tag: str) -> None:
    async with sessions(url) as factory:
        for n in range(SLOTS):
            await raise_one(factory, f"bench:{os.getpid()}:{tag}:{n}")


async def _wait(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting {timeout:g} s for {what}")
        await asyncio.sleep(0.2)


async def answer_at_once(url: str, receiver: HttpReceiver, tag: str, hang_s: float) -> None:
    """Arm A: nothing hangs; SLOTS fresh alerts raised and delivered (the service's usual work)."""
    receiver.hang_s = 0.0

    async def settled() -> bool:
        return await _in_flight(url) == 0

    await _wait(settled, hang_s + 30, "the hung deliveries to end")
    await _raise(url, tag)
    await asyncio.sleep(1.0)  # the service picks the alerts up
    await _wait(settled, 60, "the fresh alerts to be delivered")


async def hang_every_slot(url: str, receiver: HttpReceiver, tag: str, hang_s: float) -> None:
    """Arm B: SLOTS fresh alerts raised and SLOTS deliveries hanging on the receiver."""
    receiver.hang_s = hang_s
    await _raise(url, tag)

    async def hung() -> bool:
        return await _hanging(url) >= SLOTS

    await _wait(hung, 60, f"{SLOTS} deliveries to hang")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    """The q-quantile in ms (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def report(arms: dict[str, list[float]], block: int) -> None:
    """p50/p90/p99/max per arm, the B/A ratios, and the median over A-B pairs of each pair's
    ratio of block medians (a burst of load that hits one block moves it little)."""
    labels = {"A": "A: receiver answering", "B": "B: receiver hanging"}
    print(f"{'arm':<26} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for key, values in arms.items():
        print(
            f"{labels[key]:<26} {len(values):>5} {pct(values, 0.5):>8.1f} "
            f"{pct(values, 0.9):>8.1f} {pct(values, 0.99):>8.1f} {max(values) * 1000:>8.1f}"
        )
    a, b = arms["A"], arms["B"]
    print(
        f"ratio B/A: p50 {pct(b, 0.5) / pct(a, 0.5):.2f}, p90 {pct(b, 0.9) / pct(a, 0.9):.2f}, "
        f"p99 {pct(b, 0.99) / pct(a, 0.99):.2f}"
    )
    pairs = [
        pct(b[i : i + block], 0.5) / pct(a[i : i + block], 0.5)
        for i in range(0, min(len(a), len(b)), block)
    ]
    print(
        f"per pair, B/A of the block medians: median {statistics.median(pairs):.2f}, "
        f"range {min(pairs):.2f}-{max(pairs):.2f} over {len(pairs)} pairs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-arm", type=int, default=400, help="orders per arm to stop at")
    parser.add_argument("--block", type=int, default=50, help="orders per block")
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--hang-s", type=float, default=30.0)
    parser.add_argument("--max-minutes", type=float, default=15.0)
    args = parser.parse_args()
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")
    print(f"machine: {describe()}")
    print(f"uptime before: {uptime()}")
    interval = args.interval_ms / 1000
    arms: dict[str, list[float]] = {"A": [], "B": []}
    blocks = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as state, http_receiver(hang_s=args.hang_s) as receiver:
        settings = StorageSettings(quant_state_dir=Path(state))
        url, cache = database_url(settings), redis_url(settings)
        upgrade(url)
        channels = Path(state) / "channels.yaml"
        channels.write_text(
            "channels:\n"
            f"  - {{name: dead, kind: slack, url: '{receiver.url()}', min_severity: info}}\n"
            f"delivery: {{timeout_s: {args.hang_s * 2:g}, concurrency: {SLOTS}}}\n"
            "daily_summary: {enabled: false}\n"
        )
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": cache}
        monitor = subprocess.Popen(
            [QUANT, "monitoring", "run", "--channels", str(channels), "--every", "5"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(6)  # past the service's start-up and a first round of its rules
            startup_cpu = cpu_seconds(monitor.pid)
            while min(len(v) for v in arms.values()) < args.per_arm:
                if time.monotonic() - started > args.max_minutes * 60:
                    print(f"stopped by --max-minutes {args.max_minutes:g}")
                    break
                asyncio.run(answer_at_once(url, receiver, f"a{blocks}", args.hang_s))
                arms["A"] += asyncio.run(round_trips(url, cache, args.block, interval))
                asyncio.run(hang_every_slot(url, receiver, f"b{blocks}", args.hang_s))
                arms["B"] += asyncio.run(round_trips(url, cache, args.block, interval))
                blocks += 1
            run_cpu = cpu_seconds(monitor.pid) - startup_cpu
        finally:
            monitor.kill()
            monitor.wait()
        print(
            f"A-B pairs: {blocks} of {args.block} orders; {time.monotonic() - started:.0f} s; "
            f"monitoring CPU: {startup_cpu:.1f} s start-up, {run_cpu:.1f} s during the pairs"
        )
        print(f"requests the receiver got: {len(receiver.requests)} (held {args.hang_s:g} s in B)")
    report(arms, args.block)
    print(f"uptime after: {uptime()}")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
