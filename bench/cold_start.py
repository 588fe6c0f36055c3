"""What the first fast-path backtest of a process costs: a cold numba compile, a cache load, or
nothing once the kernels were compiled ahead (`quant compile`, which `make setup` runs, and the
worker before its first job).

Run: .venv/bin/python bench/cold_start.py [--bars 100000] [--repeat 3]

Each figure comes from a fresh process running momentum_v1's fast path (vector targets and the
compiled kernel) on one synthetic symbol:
  cold      numba's cache is an empty folder (NUMBA_CACHE_DIR): the first call compiles
  cached    the install's cache (after `quant compile`): the first call loads it
  ahead     compile_kernels() ran first in the process (the worker's start): the first call
            of a job, after that warm-up, against a second call (the floor)
"""

# ruff: noqa: PLC0415 - the child times its own imports

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import describe, load_average

ROOT = Path(__file__).resolve().parents[1]


def _first_backtest(bars: int, ahead: bool) -> dict[str, float]:
    started = time.perf_counter()
    from quant_engine import BacktestConfig
    from quant_engine.compilation import compile_kernels
    from quant_engine.vectorised import PriceMatrix, simulate
    from quant_marketdata import SyntheticSource
    from quant_strategy import build_strategy, load_strategy_config

    imported = time.perf_counter() - started
    warm = compile_kernels() if ahead else 0.0
    source = SyntheticSource(seed=1, n_symbols=1, n_bars=bars)
    frames = {s: source.get_bars(s) for s in source.symbols()}
    config = load_strategy_config(ROOT / "configs/strategies/momentum_v1.yaml").updated(
        universe=list(frames), benchmark=None
    )
    prices = PriceMatrix.of(frames)
    times = []
    for _ in range(2):
        t = time.perf_counter()
        simulate(build_strategy(config), prices, BacktestConfig())
        times.append(time.perf_counter() - t)
    return {"import_s": imported, "ahead_s": warm, "first_s": times[0], "second_s": times[1]}


def _child(bars: int, ahead: bool, cache: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    args = [sys.executable, __file__, "--child", "--bars", str(bars)]
    if ahead:
        args.append("--ahead")
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ahead", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_first_backtest(args.bars, args.ahead)))
        return
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    _child(args.bars, True, None)  # the install's cache holds the kernels (what make setup does)
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "cached": [], "ahead": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as empty:
            runs["cold"].append(_child(args.bars, False, empty))
        runs["cached"].append(_child(args.bars, False, None))
        runs["ahead"].append(_child(args.bars, True, None))
    print(f"\nfirst fast-path backtest of a process, {args.bars:,} bars, median of {args.repeat}:")
    for name, samples in runs.items():
        first = statistics.median(s["first_s"] for s in samples)
        second = statistics.median(s["second_s"] for s in samples)
        extra = ""
        if name == "ahead":
            extra = f" (compile_kernels at start: {statistics.median(s['ahead_s'] for s in samples):.2f} s)"
        print(f"  {name:<7} first {first:6.2f} s, second {second:6.3f} s{extra}")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
