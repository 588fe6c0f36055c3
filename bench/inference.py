"""Per-bar inference of xgb_direction_v1: the feature update plus one prediction, one symbol.

Run: .venv/bin/python bench/inference.py [--symbol SP500 --rounds 200 --depth 4 --passes 3]

What the strategy does on every bar in every mode (ADR 0052): FeatureUpdater.update for one
symbol's bar (the daily_core_v1 set, 24 columns: returns, RSI, MACD, Bollinger, ATR, moving
averages, rolling statistics, volume, calendar, regime), then ModelPredictor.predict_proba on
that row (XGBoost in-place prediction, one thread). The model is trained first on the sample's
bars (200 trees of depth 4 by default, as issue 16's one-row figure); then each pass replays the
whole sample through a fresh updater and times every bar past the feature set's warm-up. Wall
time and this thread's CPU time are both reported: on a loaded machine the wall p99 is mostly
the scheduler, the CPU p99 what the code costs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from _machine import describe, load_average

from quant_features import FeatureUpdater, LabelSpec, bars_panel, load_feature_set
from quant_marketdata import SampleSource
from quant_models.feature_training import labelled_set
from quant_models.predictor import ModelPredictor
from quant_models.xgboost_model import XGBoostModel, XGBoostParams


def _line(name: str, samples: list[float]) -> str:
    values = np.array(samples) * 1e6
    return (
        f"{name:<26} p50 {np.percentile(values, 50):7.1f} us  p99 {np.percentile(values, 99):7.1f}"
        f" us  max {values.max():8.1f} us  (n={values.size:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbol", default="SP500")
    parser.add_argument("--features", default="configs/features/daily_core_v1.yaml")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {describe()}")

    feature_set = load_feature_set(args.features)
    bars = bars_panel({args.symbol: SampleSource().get_bars(args.symbol, None, None)})
    features = FeatureUpdater(feature_set).replay(bars)
    label = LabelSpec(kind="fixed_horizon", horizon=5, threshold=0.0, binary=True)
    data = labelled_set(feature_set, features, bars, label)
    params = XGBoostParams(n_estimators=args.rounds, max_depth=args.depth, nthread=1)
    model = XGBoostModel(params).fit(data.X, data.y, data.weight)
    predictor = ModelPredictor(model)
    print(
        f"model: {args.rounds} trees, depth {args.depth}, trained on {len(data):,} rows x "
        f"{data.X.shape[1]} features; {len(bars):,} bars of {args.symbol}, warm-up "
        f"{feature_set.warmup_bars} bars"
    )

    frame = bars.xs(args.symbol, level="symbol")
    ohlcv = frame[["open", "high", "low", "close", "volume"]].to_numpy(np.float64)
    stamps = [t.to_pydatetime() for t in frame.index]
    update_wall: list[float] = []
    predict_wall: list[float] = []
    total_wall: list[float] = []
    total_cpu: list[float] = []
    clock, cpu = time.perf_counter, time.thread_time
    for _ in range(args.passes):
        updater = FeatureUpdater(feature_set)
        for i, stamp in enumerate(stamps):
            o, h, low, c, v = (float(x) for x in ohlcv[i])
            bar = {args.symbol: (o, h, low, c, v)}
            w0, c0 = clock(), cpu()
            row = updater.update(stamp, bar)[args.symbol]
            w1 = clock()
            predictor.predict_proba(row)
            w2, c2 = clock(), cpu()
            if i >= feature_set.warmup_bars:
                update_wall.append(w1 - w0)
                predict_wall.append(w2 - w1)
                total_wall.append(w2 - w0)
                total_cpu.append(c2 - c0)
    print(_line("feature update (wall)", update_wall))
    print(_line("predict (wall)", predict_wall))
    print(_line("update + predict (wall)", total_wall))
    print(_line("update + predict (CPU)", total_cpu))
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
