"""A 100-combination SMA-crossover sweep through the vectorised path, next to a NumPy floor.

Run: .venv/bin/python bench/sweep.py [--bars 100000] [--repeat 5]

Grid: fast 4, 6, ..., 22 x slow 25, 30, ..., 70 (100 combinations), one synthetic symbol.
The fast path runs momentum_v1's vector_targets and the compiled kernel with the full fill model
(close fills, 10 bps slippage, $1 commission, whole-unit fraction sizing, cash checks).
The NumPy floor computes the same 100 equity curves the simplest way: positions from the
crossover, returns times positions, a fee on every position change. Both run on one core, warm;
the one-time numba compile (or cache load) is reported separately.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _machine import describe, load_average

from quant_engine import BacktestConfig
from quant_engine.vectorised import PriceMatrix, simulate
from quant_features.compiled import clear_sma_cache
from quant_marketdata import SyntheticSource
from quant_strategy import build_strategy, load_strategy_config

ROOT = Path(__file__).resolve().parents[1]
FASTS = list(range(4, 23, 2))
SLOWS = list(range(25, 71, 5))


def numpy_floor(close: np.ndarray, fee: float) -> list[np.ndarray]:
    """100 equity curves (starting at 1.0) from plain NumPy, as a lower bound on the work."""
    cumsum = np.concatenate(([0.0], np.cumsum(close)))
    returns = np.zeros_like(close)
    returns[1:] = close[1:] / close[:-1] - 1.0
    curves = []
    for fast in FASTS:
        fast_sma = np.full(close.size, np.nan)
        fast_sma[fast - 1 :] = (cumsum[fast:] - cumsum[:-fast]) / fast
        for slow in SLOWS:
            slow_sma = np.full(close.size, np.nan)
            slow_sma[slow - 1 :] = (cumsum[slow:] - cumsum[:-slow]) / slow
            position = (fast_sma > slow_sma).astype(np.float64)
            held = np.zeros_like(position)
            held[1:] = position[:-1]  # decided at the close, held over the next bar
            changes = np.abs(np.diff(position, prepend=0.0))
            curves.append(np.cumprod(1.0 + returns * held - fee * changes))
    return curves


def fast_path(frames: dict, bt: BacktestConfig) -> list[np.ndarray]:
    clear_sma_cache()  # every measured sweep computes its indicators from scratch
    config = load_strategy_config(ROOT / "configs/strategies/momentum_v1.yaml").updated(
        universe=["SYN000"], benchmark=None
    )
    prices = PriceMatrix.of(frames)
    curves = []
    for fast in FASTS:
        for slow in SLOWS:
            strategy = build_strategy(config.updated(params={"fast": fast, "slow": slow}))
            curves.append(simulate(strategy, prices, bt).equity)
    return curves


def _timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")
    frames = {"SYN000": SyntheticSource(seed=11, n_symbols=1, n_bars=args.bars).get_bars("SYN000")}
    close = frames["SYN000"]["close"].to_numpy()
    bt = BacktestConfig()

    t0 = time.perf_counter()
    fast_path({"SYN000": frames["SYN000"].iloc[:200]}, bt)
    compile_s = time.perf_counter() - t0

    floor_best, floor_median, _ = _timed(lambda: numpy_floor(close, 0.001), args.repeat)
    fast_best, fast_median, curves = _timed(lambda: fast_path(frames, bt), args.repeat)
    assert isinstance(curves, list)
    assert len(curves) == 100
    print(f"\n100-combination SMA sweep over {args.bars:,} bars (one core, best of {args.repeat}):")
    print(f"  numba compile / cache load (once)  {compile_s:.2f} s")
    print(
        f"  NumPy floor                        best {floor_best:.3f} s, median {floor_median:.3f} s"
    )
    print(
        f"  vectorised fast path (full fills)  best {fast_best:.3f} s, median {fast_median:.3f} s"
    )
    print(f"  ratio fast path / NumPy floor      {fast_best / floor_best:.2f}x  (target <= 1.5x)")
    print(
        f"  per combination                    {fast_best / 100 * 1e3:.2f} ms "
        f"({args.bars * 100 / fast_best:,.0f} bar-evaluations/s)"
    )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
