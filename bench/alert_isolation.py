"""The order path's latency with and without an alert receiver that hangs.

Run: .venv/bin/python bench/alert_isolation.py [--steps 100] [--repeats 2] [--hang-s 30]
Embedded PostgreSQL and Valkey in a temporary folder, 127.0.0.1 only. Measured per order: a
bar handed to XADD -> the paper runner -> the order written ahead to PostgreSQL -> filled by the
paper broker and stored (tests/integration/monitoring/order_path.py). Rounds alternate: without
the monitoring service, then with `quant monitoring run` (rules every 5 s, its default) delivering
to a Slack-style receiver that holds every request for --hang-s seconds, all four of its delivery
slots hung while the orders flow. Steps are published every --interval-ms, slower than a step
takes, so each figure is one order's latency, not a queue's. Prints p50/p99/max of both.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared fakes in tests/

from _machine import describe, load_average
from sqlalchemy import select

from quant_db.embedded import database_url, redis_url
from quant_db.migrate import upgrade
from quant_db.schema import AlertDelivery
from quant_db.settings import StorageSettings
from tests.fakes.alert_receivers import http_receiver
from tests.integration.monitoring.delivery import raise_one, sessions
from tests.integration.monitoring.order_path import round_trips

QUANT = str(Path(sys.executable).with_name("quant"))


async def _hanging(url: str) -> int:
    async with sessions(url) as factory, factory() as session:
        statuses = (await session.scalars(select(AlertDelivery.status))).all()
        return sum(1 for s in statuses if s == "sending")


async def with_hanging_receiver(url: str, cache: str, steps: int, interval: float) -> list[float]:
    """Round trips once every delivery slot of the monitoring service hangs on the receiver."""
    async with sessions(url) as factory:
        for n in range(4):
            await raise_one(factory, f"bench:{os.getpid()}:{n}")
    while await _hanging(url) < 4:
        await asyncio.sleep(0.2)
    await asyncio.sleep(6)  # past the service's start-up and a first round of its rules
    return await round_trips(url, cache, steps, interval)


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--hang-s", type=float, default=30.0)
    args = parser.parse_args()
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")
    print(f"machine: {describe()}")
    interval = args.interval_ms / 1000
    results: dict[str, list[float]] = {"without": [], "hanging": []}
    with tempfile.TemporaryDirectory() as state, http_receiver(hang_s=args.hang_s) as receiver:
        settings = StorageSettings(quant_state_dir=Path(state))
        url, cache = database_url(settings), redis_url(settings)
        upgrade(url)
        channels = Path(state) / "channels.yaml"
        channels.write_text(
            "channels:\n"
            f"  - {{name: dead, kind: slack, url: '{receiver.url()}', min_severity: info}}\n"
            f"delivery: {{timeout_s: {args.hang_s * 2:g}, concurrency: 4}}\n"
            "daily_summary: {enabled: false}\n"
        )
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": cache}
        used: list[float] = []
        for _ in range(args.repeats):
            results["without"] += asyncio.run(round_trips(url, cache, args.steps, interval))
            monitor = subprocess.Popen(
                [QUANT, "monitoring", "run", "--channels", str(channels), "--every", "5"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                results["hanging"] += asyncio.run(
                    with_hanging_receiver(url, cache, args.steps, interval)
                )
                used.append(cpu_seconds(monitor.pid))
            finally:
                monitor.kill()
                monitor.wait()
        print(f"CPU of the monitoring service per round (start-up included): {used} s")
        print(f"requests the receiver held: {len(receiver.requests)} (each for {args.hang_s:g} s)")
    print(f"{'condition':<40} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    labels = {
        "without": "no monitoring service",
        "hanging": "monitoring, receiver hanging",
    }
    for key, values in results.items():
        print(
            f"{labels[key]:<40} {len(values):>5} {_pct(values, 0.5):>8.1f} "
            f"{_pct(values, 0.99):>8.1f} {max(values) * 1000:>8.1f}"
        )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
