"""One backtest's speed: run() on its default path (auto) against run() forced to the event loop.

Run: .venv/bin/python bench/single_run.py [--bars 100000 1000000] [--repeat 3]
The strategy is an SMA 10/20 crossover (momentum_v1's class), all-in sizing, 0.1 % commission
(no per-trade fee, no slippage), fills at the close, on synthetic hourly bars. Each measurement
runs in a fresh process pinned to one core: the bars are generated and the kernel is loaded from
its cache first (a 1-bar-long warm-up run), then run() is timed from the strategy config to the
BacktestResult, metrics included. Prints bars/s, peak resident memory, the final equity of each
path (they must agree to the cent) and the ratio of the two speeds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from _machine import describe, load_average

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "strategies" / "momentum_v1.yaml"


def measure(bars: int, engine: str, repeat: int) -> dict[str, float | str]:
    """Time run() on `bars` synthetic hourly bars with `engine` in this (fresh) process."""
    from quant_backtest import run  # noqa: PLC0415 - imported inside the measured child only
    from quant_engine import BacktestConfig  # noqa: PLC0415
    from quant_engine.config import EngineChoice  # noqa: PLC0415
    from quant_marketdata import SyntheticSource  # noqa: PLC0415
    from quant_strategy import load_strategy_config  # noqa: PLC0415

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    source = SyntheticSource(seed=7, n_symbols=1, n_bars=bars, timeframe="1h")
    source.get_bars("SYN000")  # generated once, outside the timing (the source caches it)
    config = load_strategy_config(CONFIG).updated(
        universe=["SYN000"], benchmark=None, start=None, end=None, params={"fast": 10, "slow": 20}
    )
    bt = BacktestConfig(
        commission_per_trade=Decimal(0),
        commission_bps=Decimal(10),
        slippage_bps=Decimal(0),
        engine=EngineChoice(engine),
    )
    small = SyntheticSource(seed=7, n_symbols=1, n_bars=200, timeframe="1h")
    run(config, small, bt)  # loads the compiled kernel (cold start is bench/cold_start.py's)
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run(config, source, bt)
        times.append(time.perf_counter() - t0)
    assert result is not None
    best = min(times)
    return {
        "bars": bars,
        "engine": engine,
        "path": result.metadata.engine,
        "best_s": best,
        "bars_per_s": bars / best,
        "fills": len(result.fills),
        "final_equity": f"{float(result.equity['equity'].iloc[-1]):,.2f}",
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(bars: int, engine: str, repeat: int) -> dict[str, float | str]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, "--bars", str(bars), "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["auto", "event"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.bars[0], args.child, args.repeat)))
        return
    print(describe())
    header = f"{'bars':>10} {'engine':>7} {'path':>9} {'bars/s':>12} {'peak MB':>8} "
    print(header + f"{'fills':>7} {'final equity':>15}")
    for bars in args.bars:
        rows = {engine: _child(bars, engine, args.repeat) for engine in ("auto", "event")}
        for row in rows.values():
            print(
                f"{row['bars']:>10,} {row['engine']:>7} {row['path']:>9} "
                f"{float(row['bars_per_s']):>12,.0f} {float(row['peak_rss_mb']):>8.0f} "
                f"{row['fills']:>7} {row['final_equity']:>15}"
            )
        ratio = float(rows["auto"]["bars_per_s"]) / float(rows["event"]["bars_per_s"])
        same = rows["auto"]["final_equity"] == rows["event"]["final_equity"]
        print(f"{'':>10} default path / event loop: {ratio:.1f}x; final equities equal: {same}")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
