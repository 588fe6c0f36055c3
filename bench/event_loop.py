"""Event-driven engine throughput: momentum_v1 (SMA 20/50 crossover) on synthetic daily-style bars.

Run: .venv/bin/python bench/event_loop.py [--bars 1000000] [--repeat 3] [--profile]
                                          [--workload daily|hourly] [--against TREE --rounds 3]
Prints bars/second for the engine loop and for the whole run() (data already in memory), and
peak resident memory for several sizes, each measured in a fresh process pinned to one core.
With --profile, also where one engine loop's time goes (cProfile, in a fresh process): the
strategy's callbacks, order handling and the loop's own body, as shares of the profiled loop.
cProfile adds a cost to every Python call it counts, so the shares lean towards call-heavy parts.

--workload hourly is issue 14's single backtest instead: SMA 10/20 on hourly bars, all-in,
0.1 % commission, no slippage, fills at the close (bench/single_run.py's settings), with run()
forced to the event loop.

--against TREE is an A/B run: TREE is another checkout of this repository (for example
`git archive main | tar -x -C /tmp/base`); each round measures TREE's engine and this one's, in
fresh processes, alternating which goes first, and prints both with their ratio (each side
imports its own tree's packages, so run the script from a checkout that nothing edits meanwhile). The rounds
also measure run()'s peak resident memory alone (a process that generates the bars and runs
run() once), and check that both trees made the same fills and final equity.
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
from decimal import Decimal
from pathlib import Path

from _machine import describe, load_average

from quant_backtest import run
from quant_engine import BacktestConfig, BacktestEngine, build_timeline
from quant_engine.config import EngineChoice
from quant_marketdata import SyntheticSource
from quant_strategy import StrategyConfig, build_strategy, load_strategy_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "strategies" / "momentum_v1.yaml"


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def workload(name: str, bars: int) -> tuple[SyntheticSource, StrategyConfig, BacktestConfig]:
    """The bars, strategy and run settings of a workload (see the module's docstring)."""
    config = load_strategy_config(CONFIG).updated(
        universe=["SYN000"], benchmark=None, start=None, end=None
    )
    if name == "daily":
        return SyntheticSource(seed=7, n_symbols=1, n_bars=bars), config, BacktestConfig()
    hourly = config.updated(params={"fast": 10, "slow": 20}, timeframe="1h")
    bt = BacktestConfig(
        commission_per_trade=Decimal(0),
        commission_bps=Decimal(10),
        slippage_bps=Decimal(0),
        engine=EngineChoice.EVENT,
    )
    return SyntheticSource(seed=7, n_symbols=1, n_bars=bars, timeframe="1h"), hourly, bt


def measure(bars: int, repeat: int, name: str = "daily") -> dict[str, float | str]:
    """Time generation, timeline, the engine loop and a full run() in this process."""
    _pin_one_core()
    source, config, bt = workload(name, bars)
    t0 = time.perf_counter()
    frame = source.get_bars("SYN000")
    generate = time.perf_counter() - t0

    t0 = time.perf_counter()
    timeline = build_timeline({"SYN000": frame})
    build = time.perf_counter() - t0

    loops = []
    cpu = []
    fills = 0
    final = ""
    for _ in range(repeat):
        strategy = build_strategy(config)
        t0 = time.perf_counter()
        c0 = time.process_time()
        result = BacktestEngine(bt).run(strategy, timeline)
        loops.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        fills = len(result.fills)
        final = str(result.final_equity)
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
        "loop_cpu_bars_per_s": bars / min(cpu),  # per CPU second: steadier on a loaded machine
        "run_s": end_to_end,
        "run_bars_per_s": bars / end_to_end,
        "fills": fills,
        "final_equity": final,
        "trades": sum(1 for t in full.trades if not t.is_open),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_memory(bars: int, name: str) -> dict[str, float | str]:
    """Peak resident memory of one run() on freshly generated bars (imports included), and the
    resident memory after the imports alone and after generating the bars."""
    _pin_one_core()
    imported = _rss_mb()
    source, config, bt = workload(name, bars)
    source.get_bars("SYN000")
    generated = _rss_mb()
    generated_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = run(config, source, bt)
    return {
        "bars": bars,
        "imports_mb": imported,
        "after_generate_mb": generated,
        "generate_peak_mb": generated_peak,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "final_equity": f"{float(result.equity['equity'].iloc[-1]):,.2f}",
        "path": result.metadata.engine,
    }


def _rss_mb() -> float:
    """Resident memory now (Linux: /proc/self/statm), in MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# function names in the profile -> the part of the loop they belong to
PARTS = {
    "on_market_data": "strategy.on_market_data (indicator updates)",
    "generate_signals": "strategy.generate_signals",
    "risk_check": "sizing and orders (risk_check, submit, fills)",
    "send": "sizing and orders (risk_check, submit, fills)",
    "match": "sizing and orders (risk_check, submit, fills)",
    "daily_close": "strategy.daily_close",
    "__getitem__": "step datetimes (built a chunk at a time)",
}
# the frames that call those parts: the loop itself and the trading loop's step closures
CALLERS = {"run", "step", "step_one", "_decide"}


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
        # only the calls the loop and its step make (a helper calling submit is inside send)
        if name in PARTS and any(caller[2] in CALLERS for caller in callers):
            shares[PARTS[name]] = shares.get(PARTS[name], 0.0) + cumulative / total
    shares["the loop's own body (bars, marking equity, bookkeeping)"] = 1.0 - sum(shares.values())
    shares["profiled loop seconds"] = total
    return shares


def _child(bars: int, repeat: int, *extra: str, tree: Path | None = None) -> dict[str, float | str]:
    """Run this script's child in a fresh process; with `tree`, on that checkout's packages."""
    env = dict(os.environ)
    if tree is not None:
        sources = sorted(str(p) for p in tree.glob("*/*/src") if p.is_dir())
        env["PYTHONPATH"] = os.pathsep.join([*sources, env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--bars", str(bars), "--repeat", str(repeat), *extra],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def compare(args: argparse.Namespace) -> None:
    """A/B: the engine of `args.against` and this one's, alternating, in fresh processes."""
    tree = Path(args.against).resolve()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    print(f"A: {tree}   B: {ROOT}   workload: {args.workload}, {args.bars:,} bars")
    common = ["--workload", args.workload]
    rows: dict[str, list[dict[str, float | str]]] = {"A": [], "B": []}
    memory: dict[str, list[dict[str, float | str]]] = {"A": [], "B": []}
    for r in range(args.rounds):
        order = [("A", tree), ("B", ROOT)] if r % 2 == 0 else [("B", ROOT), ("A", tree)]
        for label, where in order:
            row = _child(args.bars, args.repeat, *common, tree=where)
            mem = _child(args.bars, 1, *common, "--memory", tree=where)
            rows[label].append(row)
            memory[label].append(mem)
            print(
                f"  round {r + 1} {label}: loop {float(row['loop_bars_per_s']):>10,.0f} bars/s"
                f" ({float(row['loop_cpu_bars_per_s']):>9,.0f} per CPU s)"
                f"  run() {float(row['run_bars_per_s']):>10,.0f} bars/s"
                f"  run() alone peak {float(mem['peak_rss_mb']):5.0f} MB"
                f" (imports {float(mem['imports_mb']):.0f}, bars generated"
                f" {float(mem['after_generate_mb']):.0f}, generation's peak"
                f" {float(mem['generate_peak_mb']):.0f})"
            )
    print()
    best: dict[str, dict[str, float]] = {}
    for label in ("A", "B"):
        loops = [float(row["loop_bars_per_s"]) for row in rows[label]]
        cpus = [float(row["loop_cpu_bars_per_s"]) for row in rows[label]]
        runs = [float(row["run_bars_per_s"]) for row in rows[label]]
        peaks = [float(mem["peak_rss_mb"]) for mem in memory[label]]
        best[label] = {"loop": max(loops), "cpu": max(cpus), "run": max(runs)}
        print(
            f"{label}: loop best {max(loops):,.0f} bars/s (median {statistics.median(loops):,.0f};"
            f" per CPU second best {max(cpus):,.0f}),"
            f" run() best {max(runs):,.0f} bars/s, run() alone peak {min(peaks):.0f}-"
            f"{max(peaks):.0f} MB; fills {rows[label][0]['fills']},"
            f" final equity {rows[label][0]['final_equity']}"
        )
    same = all(
        (row["fills"], row["final_equity"]) == (rows["A"][0]["fills"], rows["A"][0]["final_equity"])
        for label in ("A", "B")
        for row in rows[label]
    )
    print(
        f"B / A: loop {best['B']['loop'] / best['A']['loop']:.2f}x"
        f" (per CPU second {best['B']['cpu'] / best['A']['cpu']:.2f}x),"
        f" run() {best['B']['run'] / best['A']['run']:.2f}x; same fills and final equity: {same}"
    )
    print(f"load average after: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="where the loop's time goes")
    parser.add_argument("--workload", choices=["daily", "hourly"], default="daily")
    parser.add_argument("--against", metavar="TREE", help="A/B against another checkout")
    parser.add_argument("--rounds", type=int, default=3, help="A/B rounds (with --against)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result: dict[str, float | str] | dict[str, float]
        if args.profile:
            result = profile_loop(args.bars)
        elif args.memory:
            result = run_memory(args.bars, args.workload)
        else:
            result = measure(args.bars, args.repeat, args.workload)
        print(json.dumps(result))
        return
    if args.against:
        compare(args)
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
    rss = [float(_child(n, 1)["peak_rss_mb"]) for n in sizes]
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
