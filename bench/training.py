"""Training with purged walk-forward on a 500k x 50 synthetic panel, and one-row inference.

Run: .venv/bin/python bench/training.py [--symbols 100 --dates 5000 --features 50 --rounds 200
     --splits 5 --nthread 2]

100 symbols x 5,000 business days (20 years of daily rows) x 50 float32 features with a planted
signal (quant_models.synthetic), 5-day labels; XGBoost (hist, depth 4) validated by purged
walk-forward (5 folds, 5-day embargo), then refit on all rows, as `quant train` does. Then the
refit model predicts one row at a time on one thread (what a strategy does per bar), and
explains one row through xgboost's pred_contribs. Peak memory is the process's maximum RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import describe, load_average

from quant_models.splits import PurgedWalkForward
from quant_models.synthetic import synthetic_panel
from quant_models.validation import Thresholds, walk_forward
from quant_models.xgboost_model import XGBoostModel, XGBoostParams


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """CPU seconds this process used (user + system, all threads): on a machine shared with
    other work it says what the wall time would be with the cores to ourselves."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentiles(samples: list[float]) -> str:
    values = np.array(samples) * 1e6
    return (
        f"p50 {np.percentile(values, 50):.0f} us, p99 {np.percentile(values, 99):.0f} us, "
        f"max {values.max():.0f} us (n={values.size:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--dates", type=int, default=5_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--nthread", type=int, default=2)
    parser.add_argument("--predictions", type=int, default=10_000)
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")

    start = time.perf_counter()
    data = synthetic_panel(args.symbols, args.dates, args.features, horizon=5, signal=0.1)
    built = time.perf_counter() - start
    print(f"\npanel: {len(data):,} rows x {data.X.shape[1]} features, built in {built:.1f} s")

    params = XGBoostParams(n_estimators=args.rounds, max_depth=4, nthread=args.nthread)
    splitter = PurgedWalkForward(n_splits=args.splits, embargo=pd.Timedelta(days=5))
    start, cpu = time.perf_counter(), _cpu()
    result = walk_forward(lambda: XGBoostModel(params), data, splitter, Thresholds())
    validated, validated_cpu = time.perf_counter() - start, _cpu() - cpu
    start, cpu = time.perf_counter(), _cpu()
    model = XGBoostModel(params).fit(data.X, data.y, data.weight)
    refit, refit_cpu = time.perf_counter() - start, _cpu() - cpu
    print(
        f"purged walk-forward, {args.splits} folds, {args.rounds} rounds, {args.nthread} threads: "
        f"{validated:.1f} s wall, {validated_cpu:.1f} s CPU (OOS Sharpe {result.sharpe:.2f}, hit rates "
        f"{', '.join(f'{f.hit_rate:.3f}' for f in result.folds)})"
    )
    print(f"refit on all rows: {refit:.1f} s wall, {refit_cpu:.1f} s CPU")
    print(
        f"training total (walk-forward + refit): {validated + refit:.1f} s wall, "
        f"{validated_cpu + refit_cpu:.1f} s CPU   (target < 60 s wall)"
    )

    rows = data.X.to_numpy(dtype=np.float32)[: args.predictions]
    model.predict(rows[0])  # first call sets up the predictor
    samples, cpu_samples = [], []
    for row in rows:
        t, c = time.perf_counter(), time.thread_time()
        model.predict(row)
        cpu_samples.append(time.thread_time() - c)
        samples.append(time.perf_counter() - t)
    print(f"one-row predict, 1 thread, wall: {_percentiles(samples)}   (target p99 < 1 ms)")
    print(f"one-row predict, 1 thread, CPU:  {_percentiles(cpu_samples)}")
    frames = [data.X.iloc[[i]] for i in range(min(1_000, len(data)))]
    samples = []
    for frame in frames:
        t = time.perf_counter()
        model.explain(frame)
        samples.append(time.perf_counter() - t)
    print(f"one-row explain (pred_contribs), 1 thread: {_percentiles(samples)}")
    print(f"peak memory (max RSS): {_peak_mb():,.0f} MB")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
