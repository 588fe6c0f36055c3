"""Paper session throughput: the same strategy and bars through PaperSession (step by step, a
growing timeline, sessions labelled as bars arrive) and through BacktestEngine, in one process.

Run: .venv/bin/python bench/paper_replay.py [--steps 5000] [--symbols 1 5] [--repeat 3]
Prints steps/s and bars/s for each path, best of --repeat, pinned to one core, and checks that
the two runs are identical (the parity report). The replay is at `max` speed: this measures what
a paper session costs per closing bar on top of the decision loop, not a wait.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _machine import describe, load_average

from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_engine.paper import PaperSession
from quant_engine.parity import parity_report
from quant_marketdata import SyntheticSource
from quant_marketdata.replay import replay_steps
from quant_strategy import build_strategy, load_strategy_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "strategies" / "momentum_v1.yaml"


def measure(steps: int, symbols: int, repeat: int) -> dict[str, float]:
    source = SyntheticSource(seed=7, n_symbols=symbols, n_bars=steps)
    names = [f"SYN{k:03d}" for k in range(symbols)]
    frames = {s: source.get_bars(s) for s in names}
    config = load_strategy_config(CONFIG).updated(
        universe=names, benchmark=None, start=None, end=None
    )
    bt = BacktestConfig()
    replayed = list(replay_steps(frames))
    timeline = build_timeline(frames)
    best_paper = best_backtest = float("inf")
    for _ in range(repeat):
        session = PaperSession(build_strategy(config), bt, daily=timeline.daily, account="bench")
        t0 = time.perf_counter()
        for now, bars in replayed:
            session.on_bars(now, bars)
        paper = session.close()
        best_paper = min(best_paper, time.perf_counter() - t0)
        t0 = time.perf_counter()
        backtest = BacktestEngine(bt).run(build_strategy(config), timeline, account="bench")
        best_backtest = min(best_backtest, time.perf_counter() - t0)
    report = parity_report(paper, backtest)
    bars = steps * symbols
    return {
        "paper_steps_s": steps / best_paper,
        "paper_bars_s": bars / best_paper,
        "backtest_bars_s": bars / best_backtest,
        "orders": len(paper.orders),
        "identical": float(report.identical),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--symbols", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}")
    print(f"machine: {describe()}")
    print(
        f"{'symbols':>7} {'paper steps/s':>14} {'paper bars/s':>13} {'backtest bars/s':>16} "
        f"{'paper/backtest':>15} {'orders':>7} parity"
    )
    for symbols in args.symbols:
        r = measure(args.steps, symbols, args.repeat)
        print(
            f"{symbols:>7} {r['paper_steps_s']:>14,.0f} {r['paper_bars_s']:>13,.0f} "
            f"{r['backtest_bars_s']:>16,.0f} {r['paper_bars_s'] / r['backtest_bars_s']:>15.2f} "
            f"{r['orders']:>7.0f} {'identical' if r['identical'] else 'DIFFERENT'}"
        )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
