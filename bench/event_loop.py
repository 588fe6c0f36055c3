"""Event-driven engine throughput: momentum_v1 (SMA 20/50 crossover) on synthetic daily-style bars.

Run: .venv/bin/python bench/event_loop.py [--bars 1000000] [--repeat 3] [--profile]
Prints bars/second for the engine loop and for the whole run() (data already in memory), and
peak resident memory for several sizes, each measured in a fresh process pinned to one core.
With --profile, also where one engine loop's time goes (cProfile, in a fresh process): the
strategy's callbacks, order handling and the loop's own body, as shares of the profiled loop.
cProfile adds a cost to every Python call it counts, so the shares lean towards call-heavy parts.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _machine import describe, load_average

from quant_backtest import run
from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_marketdata import SyntheticSource
from quant_strategy import build_strategy, load_strategy_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "strategies" / "momentum_v1.yaml"


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def measure(bars: int, repeat: int) -> dict[str, float]:
    """Time generation, timeline, the engine loop and a full run() in this process."""
    _pin_one_core()
    source = SyntheticSource(seed=7, n_symbols=1, n_bars=bars)
    t0 = time.perf_counter()
    frame = source.get_bars("SYN000")
    generate = time.perf_counter() - t0
    config = load_strategy_config(CONFIG).updated(
        universe=["SYN000"], benchmark=None, start=None, end=None
    )
    bt = BacktestConfig()

    t0 = time.perf_counter()
    timeline = build_timeline({"SYN000": frame})
    build = time.perf_counter() - t0

    loops = []
    fills = 0
    for _ in range(repeat):
        strategy = build_strategy(config)
        t0 = time.perf_counter()
        result = BacktestEngine(bt).run(strategy, timeline)
        loops.append(time.perf_counter() - t0)
        fills = len(result.fills)
    t0 = time.perf_counter()
    full = run(config, source, bt)
    end_to_end = time.perf_counter() - t0
    return {
        "bars": bars,
        "generate_s": generate,
        "timeline_s": build,
        "loop_best_s": min(loops),
        "loop_median_s": statistics.median(loops),
        "loop_bars_per_s": bars / min(loops),
        "run_s": end_to_end,
        "run_bars_per_s": bars / end_to_end,
        "fills": fills,
        "trades": sum(1 for t in full.trades if not t.is_open),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# function names in the profile -> the part of the loop they belong to
PARTS = {
    "on_market_data": "strategy.on_market_data (indicator updates)",
    "generate_signals": "strategy.generate_signals",
    "risk_check": "sizing and orders (risk_check, submit, fills)",
    "submit": "sizing and orders (risk_check, submit, fills)",
    "_match_working": "sizing and orders (risk_check, submit, fills)",
    "daily_close": "strategy.daily_close",
}


def profile_loop(bars: int) -> dict[str, float]:
    """Shares of one profiled engine loop's time, by part; the rest is the loop's own body."""
    _pin_one_core()
    frame = SyntheticSource(seed=7, n_symbols=1, n_bars=bars).get_bars("SYN000")
    config = load_strategy_config(CONFIG).updated(
        universe=["SYN000"], benchmark=None, start=None, end=None
    )
    timeline = build_timeline({"SYN000": frame})
    strategy = build_strategy(config)
    engine = BacktestEngine(BacktestConfig())
    profile = cProfile.Profile()
    profile.runcall(engine.run, strategy, timeline)
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = next(ct for (_, _, name), (_, _, _, ct, _) in stats.items() if name == "run")
    shares: dict[str, float] = {}
    for (_, _, name), (_, _, _, cumulative, callers) in stats.items():
        # only the calls the loop makes itself (a helper calling submit is already inside risk_check)
        if name in PARTS and any(caller[2] == "run" for caller in callers):
            shares[PARTS[name]] = shares.get(PARTS[name], 0.0) + cumulative / total
    shares["the loop's own body (bars, marking equity, bookkeeping)"] = 1.0 - sum(shares.values())
    shares["profiled loop seconds"] = total
    return shares


def _child(bars: int, repeat: int, *extra: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--bars", str(bars), "--repeat", str(repeat), *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="where the loop's time goes")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = profile_loop(args.bars) if args.profile else measure(args.bars, args.repeat)
        print(json.dumps(result))
        return
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    main_run = _child(args.bars, args.repeat)
    print(
        f"\nmomentum_v1 on {main_run['bars']:,} synthetic bars (one core):\n"
        f"  generate data     {main_run['generate_s']:.2f} s\n"
        f"  build timeline    {main_run['timeline_s']:.2f} s\n"
        f"  engine loop       best {main_run['loop_best_s']:.2f} s, median {main_run['loop_median_s']:.2f} s"
        f"  -> {main_run['loop_bars_per_s']:,.0f} bars/s\n"
        f"  full run()        {main_run['run_s']:.2f} s -> {main_run['run_bars_per_s']:,.0f} bars/s"
        f" (timeline, loop, metrics, metadata)\n"
        f"  fills {main_run['fills']:,}, closed trades {main_run['trades']:,}, peak RSS {main_run['peak_rss_mb']:.0f} MB"
    )
    print("\nmemory growth (fresh process per size, one repeat):")
    sizes = [args.bars // 4, args.bars // 2, args.bars]
    rss = [_child(n, 1)["peak_rss_mb"] for n in sizes]
    for n, mb in zip(sizes, rss, strict=True):
        print(f"  {n:>10,} bars  peak RSS {mb:7.0f} MB")
    slope = (rss[-1] - rss[0]) / (sizes[-1] - sizes[0]) * 1e6
    print(f"  growth between the smallest and largest: {slope:.0f} MB per million bars")
    if args.profile:
        shares = _child(args.bars, 1, "--profile")
        seconds = shares.pop("profiled loop seconds")
        print(f"\nwhere one engine loop's time goes (cProfile, {seconds:.2f} s profiled):")
        for part, share in sorted(shares.items(), key=lambda item: -item[1]):
            print(f"  {share:6.1%}  {part}")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
