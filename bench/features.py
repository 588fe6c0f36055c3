"""Feature computation for a universe: 100 symbols x 20 years of synthetic daily bars (issue 16).

Run: .venv/bin/python bench/features.py [--symbols 100] [--years 20] [--repeat 3]
         [--database-url postgresql+asyncpg://...]
Times, in a fresh process per feature set (so peak memory is that set's alone): generating the
bars, the batch features of each built-in set, triple-barrier labels, and the live path's cost
per symbol-bar (FeatureUpdater on 10 symbols x 500 bars). With --database-url, also the feature
store: the first computation (compute + write) and the second (a read), on that database.
Target (issue 16): features < 20 s for 100 x 20 years.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from _machine import describe, load_average

from quant_db.feature_store import features_with_store
from quant_db.migrate import upgrade
from quant_db.urls import asyncpg_dsn
from quant_features import (
    FeatureUpdater,
    LabelSpec,
    bars_panel,
    compute_features,
    load_feature_set,
    make_labels,
)
from quant_marketdata import SyntheticSource

ROOT = Path(__file__).resolve().parents[1]
SETS = ("daily_core_v1", "daily_ranks_v1")
BARS_PER_YEAR = 252


def _panel(symbols: int, years: int) -> Any:
    source = SyntheticSource(seed=11, n_symbols=symbols, n_bars=years * BARS_PER_YEAR)
    return bars_panel({symbol: source.get_bars(symbol) for symbol in source.symbols()})


def measure(name: str, symbols: int, years: int, repeat: int, url: str | None) -> dict[str, Any]:
    """One set's timings in this process (called in a child process by main)."""

    feature_set = load_feature_set(ROOT / "configs" / "features" / f"{name}.yaml")
    t0 = time.perf_counter()
    bars = _panel(symbols, years)
    generate = time.perf_counter() - t0
    batch = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        features = compute_features(feature_set, bars)
        batch.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    labels = make_labels(
        LabelSpec(kind="triple_barrier", profit_take=0.03, stop_loss=0.02, max_holding=10), bars
    )
    label_time = time.perf_counter() - t0
    stamps = bars.index.get_level_values("timestamp")
    few = bars[
        bars.index.get_level_values("symbol").isin(sorted(set(bars.index.get_level_values(0)))[:10])
    ]
    few = few[few.index.get_level_values("timestamp") <= sorted(set(stamps))[499]]
    t0 = time.perf_counter()
    FeatureUpdater(feature_set).replay(few)
    per_bar_us = (time.perf_counter() - t0) / len(few) * 1e6
    result: dict[str, Any] = {
        "set": name,
        "rows": len(features),
        "columns": len(feature_set.columns),
        "generate_s": generate,
        "batch_best_s": min(batch),
        "batch_median_s": statistics.median(batch),
        "labels_s": label_time,
        "label_rows": len(labels),
        "live_us_per_symbol_bar": per_bar_us,
    }
    if url:
        result.update(_store(url, feature_set, bars))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _store(url: str, feature_set: Any, bars: Any) -> dict[str, float]:
    upgrade(url)

    async def twice() -> dict[str, float]:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await connection.execute(
                "DELETE FROM feature_set_versions WHERE name = $1", feature_set.name
            )
            t0 = time.perf_counter()
            _, first = await features_with_store(connection, feature_set, bars)
            miss = time.perf_counter() - t0
            t0 = time.perf_counter()
            _, second = await features_with_store(connection, feature_set, bars)
            hit = time.perf_counter() - t0
            if first.hit or not second.hit:
                raise RuntimeError("the store should miss first and hit second")
            return {"store_miss_s": miss, "store_hit_s": hit}
        finally:
            await connection.close()

    return asyncio.run(twice())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                measure(args.child, args.symbols, args.years, args.repeat, args.database_url)
            )
        )
        return
    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {describe()}")
    print(f"{args.symbols} symbols x {args.years} years ({args.years * BARS_PER_YEAR} bars each)")
    for name in SETS:
        child = [
            sys.executable,
            __file__,
            "--child",
            name,
            "--symbols",
            str(args.symbols),
            "--years",
            str(args.years),
            "--repeat",
            str(args.repeat),
        ]
        if args.database_url:
            child += ["--database-url", args.database_url]
        done = subprocess.run(child, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        line = (
            f"{r['set']}: {r['rows']:,} rows x {r['columns']} columns; batch best "
            f"{r['batch_best_s']:.2f} s (median {r['batch_median_s']:.2f}); bars generated in "
            f"{r['generate_s']:.2f} s; triple-barrier labels {r['labels_s']:.2f} s; live "
            f"{r['live_us_per_symbol_bar']:.0f} us per symbol-bar; peak RSS {r['peak_rss_mb']:.0f} MB"
        )
        if "store_miss_s" in r:
            line += (
                f"; store first {r['store_miss_s']:.2f} s, second (read) {r['store_hit_s']:.2f} s"
            )
        print(line)
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
