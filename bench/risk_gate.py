"""Pre-trade risk gate latency: RiskGate.check over a 500-symbol book with every rule switched on.

Run: .venv/bin/python bench/risk_gate.py [--symbols 500] [--held 10 50 100 500] [--calls 100000]
For each held-position count: warm up, then time `--calls` checks one by one with
perf_counter_ns (the timer's own median cost subtracted) and print p50/p99/p99.9/max in
microseconds, plus the batched mean (one timer around the whole loop). Pinned to one core.
Orders come in steps of PER_STEP sharing one time, as a step's batch does in the loop: the
gross total over the held positions (O(held)) is refreshed once per step before the batch, as
TradingLoop does, and timed apart ("refresh us"); a check itself is O(1) in the positions held.
The target is p99 <= 10 us per check.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from typing import Any

from _machine import describe, load_average

from quant_engine.risk_gate import GateLimits, RiskGate, reason_name
from quant_strategy import RiskCaps

TARGET_P99_US = 10.0
EQUITY = 10_000_000.0
CAPS = RiskCaps(
    max_position_pct=0.05,
    max_gross_exposure=1.5,
    allow_short=True,
    max_positions=600,
    max_position_qty=50_000,
    max_order_notional=250_000,
    price_collar_pct=0.05,
    max_orders_per_minute=1_000,
)
BUDGET = Decimal(14_000_000)
"""The strategy's capital budget: above the book's gross (at most 90 % of the 150 % cap), so
the rule is compared on every growing order and binds only on the largest."""


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def build(symbols: int, held: int, seed: int) -> tuple[RiskGate, list[float]]:
    """A book of `symbols` with `held` positions, long and short, each 1 % of equity or less so
    that gross exposure stays under its cap (90 % of it at most)."""
    rng = random.Random(seed)
    names = [f"S{k:03d}" for k in range(symbols)]
    shortable = [rng.random() > 0.1 for _ in names]
    last = [round(rng.uniform(5.0, 500.0), 2) for _ in names]
    qty = [0.0] * symbols
    book: list[int] = []
    size = min(0.01, 0.9 * CAPS.max_gross_exposure / max(held, 1)) * EQUITY
    for k in rng.sample(range(symbols), held):
        side = -1.0 if shortable[k] and rng.random() < 0.3 else 1.0
        qty[k] = side * float(int(size / last[k]) or 1)
        book.append(k)
    gate = RiskGate(GateLimits.from_caps(CAPS, names, shortable, BUDGET), qty, last, book)
    # a busy minute: the rate ring holds recent sends, so the rate rule compares a real time
    for i in range(CAPS.max_orders_per_minute or 0):
        gate.accepted(0, 0.0, -1_000.0 + i * 0.001)
    return gate, last


PER_STEP = 20
"""Orders per step: the loop refreshes the gate's gross total once per step, before its batch."""


def orders(
    n: int, symbols: int, last: list[float], seed: int
) -> list[tuple[int, float, float, float]]:
    """(k, signed qty, price, now): market and limit orders, opening, growing and reducing."""
    rng = random.Random(seed + 1)
    out = []
    for i in range(n):
        k = rng.randrange(symbols)
        units = float(rng.randint(1, int(0.004 * EQUITY / last[k]) + 1))
        signed = units if rng.random() < 0.6 else -units
        price = round(last[k] * rng.uniform(0.97, 1.03), 2) if rng.random() < 0.4 else 0.0
        out.append((k, signed, price, float(i // PER_STEP)))  # a step's orders share its time
    return out


def timer_overhead_ns(samples: int = 200_000) -> int:
    clock = time.perf_counter_ns
    deltas = []
    for _ in range(samples):
        t0 = clock()
        deltas.append(clock() - t0)
    return int(statistics.median(deltas))


def measure(symbols: int, held: int, calls: int, seed: int) -> dict[str, Any]:
    gate, last = build(symbols, held, seed)
    work = orders(calls, symbols, last, seed)
    check = gate.check
    clock = time.perf_counter_ns
    refresh = gate.refresh
    for k, q, p, now in work[: min(calls, 20_000)]:  # warm-up
        check(k, q, p, EQUITY, now, True)
    overhead = timer_overhead_ns()
    samples = [0] * calls
    refreshes: list[int] = []
    codes: Counter[int] = Counter()
    stepped = -1.0
    for i, (k, q, p, now) in enumerate(work):
        if now != stepped:  # a new step: the loop's once-per-batch refresh, timed apart
            t0 = clock()
            refresh(now)
            refreshes.append(clock() - t0 - overhead)
            stepped = now
        t0 = clock()
        code = check(k, q, p, EQUITY, now, True)
        samples[i] = clock() - t0 - overhead
        codes[code] += 1
    t0 = clock()
    stepped = -1.0
    for k, q, p, now in work:
        if now != stepped:
            refresh(now)
            stepped = now
        check(k, q, p, EQUITY, now, True)
    batched = (clock() - t0) / calls
    samples.sort()

    def pct(q: float) -> float:
        return max(samples[min(int(q * calls), calls - 1)], 0) / 1000.0

    return {
        "held": held,
        "overhead_ns": overhead,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "p999": pct(0.999),
        "max": max(samples[-1], 0) / 1000.0,
        "batched_us": batched / 1000.0,
        "refresh_p50_us": statistics.median(refreshes) / 1000.0,
        "passed": codes[0] / calls,
        "reasons": ", ".join(f"{reason_name(c)} {n}" for c, n in codes.most_common()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--held", type=int, nargs="+", default=[10, 50, 100, 500])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    _pin_one_core()
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")
    print(f"machine: {describe()}")
    print(
        f"gc: {'enabled' if gc.isenabled() else 'disabled'}; pinned to one core; "
        f"n = {args.calls:,} timed checks per row over {args.symbols} symbols"
    )
    print(
        f"{'held':>5} {'p50 us':>8} {'p99 us':>8} {'p99.9 us':>9} {'max us':>8} "
        f"{'batched us':>11} {'refresh us':>11} {'timer ns':>9}  p99<=10us  passed  reasons"
    )
    for held in args.held:
        r = measure(args.symbols, held, args.calls, args.seed)
        ok = "yes" if r["p99"] <= TARGET_P99_US else "NO"
        print(
            f"{held:>5} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['p999']:>9.2f} {r['max']:>8.1f} "
            f"{r['batched_us']:>11.2f} {r['refresh_p50_us']:>11.2f} {r['overhead_ns']:>9.0f}  "
            f"{ok:>9}  {r['passed']:>6.1%}  "
            f"{r['reasons']}"
        )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
