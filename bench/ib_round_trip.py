"""Order round trip through IbBroker against the local TWS: submit -> accepted -> filled.

Run: .venv/bin/python bench/ib_round_trip.py [--orders 500] [--rate 40] [--warmup 20]
The fake TWS (tests/fakes/tws.py) runs as a process of its own, as TWS or IB Gateway would; the
adapter runs ib_async on its own thread. Each market order is timed with perf_counter_ns from
`submit` (caller's thread) to its OrderAccepted and to its OrderFilled (with its commission) as
the report handler sees them. Orders are sent one at a time, `--rate` per second at most: ib_async
throttles itself to 45 requests a second (IB's pacing rule), so a faster pace would time the
throttle's queue rather than the round trip. Buys and sells alternate, so the position stays flat.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from _machine import describe, load_average

from quant_brokers.ib.client import IbBroker
from quant_brokers.ib.settings import IbSettings
from quant_domain import Order, OrderSide
from quant_domain.events import ExecutionReport, OrderAccepted, OrderFilled

ROOT = Path(__file__).resolve().parents[1]


class Timings:
    """Report handler: the time each order's acceptance and fill reached it."""

    def __init__(self) -> None:
        self.accepted: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.done = threading.Event()
        self.waiting_for = ""

    def report(self, report: ExecutionReport) -> None:
        now = time.perf_counter_ns()
        if isinstance(report, OrderAccepted):
            self.accepted[report.client_order_id] = now
        elif isinstance(report, OrderFilled):
            coid = report.fill.client_order_id
            self.filled[coid] = now
            if coid == self.waiting_for:
                self.done.set()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def start_tws() -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "tests.fakes.tws", "--port", "0", "--price", "AAPL=100"]
    command += ["--bar-seconds", "0"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    address = process.stdout.readline().strip()
    return process, int(address.rpartition(":")[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rate", type=float, default=40.0, help="orders per second at most")
    args = parser.parse_args()
    print("command:", " ".join([".venv/bin/python", *sys.argv]))
    print("machine:", describe())
    process, port = start_tws()
    timings = Timings()
    broker = IbBroker(IbSettings(port=port, commission_wait=1.0), client_id=1)
    broker.set_report_handler(timings.report)
    started: dict[str, int] = {}
    try:
        broker.connect(timeout=10)
        gap = 1.0 / args.rate
        for k in range(args.warmup + args.orders):
            coid = f"bench-{k}"
            side = OrderSide.BUY if k % 2 == 0 else OrderSide.SELL
            order = Order(symbol="AAPL", side=side, quantity=Decimal(1), client_order_id=coid)
            timings.waiting_for = coid
            timings.done.clear()
            began = time.perf_counter()
            started[coid] = time.perf_counter_ns()
            broker.submit(order)
            if not timings.done.wait(10):
                raise SystemExit(f"{coid} was not filled within 10 s")
            time.sleep(max(0.0, gap - (time.perf_counter() - began)))
    finally:
        broker.close()
        process.terminate()
        process.wait(10)
    measured = [f"bench-{k}" for k in range(args.warmup, args.warmup + args.orders)]
    rows = {
        "submit -> accepted": [(timings.accepted[c] - started[c]) / 1e6 for c in measured],
        "submit -> filled": [(timings.filled[c] - started[c]) / 1e6 for c in measured],
    }
    print(f"n = {args.orders} market orders after {args.warmup} warm-up, {args.rate:g}/s at most")
    for name, values in rows.items():
        print(
            f"{name:>20}: p50 {statistics.median(values):.2f} ms  "
            f"p99 {percentile(values, 0.99):.2f} ms  max {max(values):.2f} ms"
        )
    print("load average after:", load_average())


if __name__ == "__main__":
    main()
