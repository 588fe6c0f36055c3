"""Order round trip through AlpacaBroker against the local Alpaca server: submit -> accepted -> filled.

Run: .venv/bin/python bench/alpaca_round_trip.py [--orders 500] [--warmup 20]

Starts tests/fakes/alpaca_broker.py on 127.0.0.1 (in this process, on its own thread), connects
an AlpacaBroker to it (REST through alpaca-py, trade_updates through our socket) and sends
market orders one at a time, each waiting for its fill. For every order it times, from the
`submit()` call, the OrderAccepted and the OrderFilled reaching the report handler, and prints
p50/p99/max in ms. `submit()` itself must return at once (it only queues the order): its own
p99 is printed too. The server shares this process and its GIL, so the figures include the
server's work; against Alpaca the network round trip dominates instead.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from _machine import describe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quant_brokers.alpaca import AlpacaBroker, AlpacaBrokerSettings  # noqa: E402
from quant_domain import Order, OrderSide  # noqa: E402
from quant_domain.events import ExecutionReport, OrderAccepted, OrderFilled  # noqa: E402
from tests.fakes.alpaca_broker import FakeAlpacaBroker  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Clock:
    """When each order's accepted and filled reports reached the handler."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.filled: dict[str, float] = {}
        self.done = threading.Event()

    def report(self, report: ExecutionReport) -> None:
        now = time.perf_counter()
        if isinstance(report, OrderAccepted):
            self.accepted[report.client_order_id] = now
        elif isinstance(report, OrderFilled):
            self.filled[report.fill.client_order_id] = now
            self.done.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    print(
        f"command: .venv/bin/python bench/alpaca_round_trip.py --orders {args.orders} "
        f"--warmup {args.warmup}"
    )
    print(f"machine: {describe()}")
    clock = _Clock()
    with FakeAlpacaBroker() as fake:
        fake.set_price("AAPL", "100")
        settings = AlpacaBrokerSettings(
            api_key_id=fake.key_id,
            api_secret_key=fake.secret_key,
            trading_url=fake.url,
            stream_url=fake.stream_url,
        )
        broker = AlpacaBroker(settings)
        broker.set_report_handler(clock.report)
        broker.connect()
        sent: dict[str, float] = {}
        submit_cost: list[float] = []
        try:
            for n in range(args.warmup + args.orders):
                cid = f"bench-{n}"
                order = Order("AAPL", OrderSide.BUY, Decimal(1), client_order_id=cid)
                clock.done.clear()
                start = time.perf_counter()
                broker.submit(order)
                submit_cost.append(time.perf_counter() - start)
                sent[cid] = start
                if not clock.done.wait(10):
                    raise SystemExit(f"order {cid} not filled within 10 s")
        finally:
            broker.close()
    measured = [f"bench-{n}" for n in range(args.warmup, args.warmup + args.orders)]
    accepted = [(clock.accepted[c] - sent[c]) * 1e3 for c in measured]
    filled = [(clock.filled[c] - sent[c]) * 1e3 for c in measured]
    submit = [s * 1e3 for s in submit_cost[args.warmup :]]
    print(f"orders: {len(measured)} (after {args.warmup} warm-up), one at a time")
    for name, values in (
        ("submit() returns", submit),
        ("-> accepted", accepted),
        ("-> filled", filled),
    ):
        print(
            f"{name:>17}: p50 {_percentile(values, 0.5):.3f} ms  "
            f"p99 {_percentile(values, 0.99):.3f} ms  max {max(values):.3f} ms"
        )


if __name__ == "__main__":
    main()
