"""Compiling the numba kernels ahead of use, so no user's first sweep or worker's first job pays it.

Numba compiles a kernel on its first call for each argument signature and keeps the machine code
in its cache (`cache=True`, in the package's __pycache__). A cold compile of the simulation
kernel and the indicator kernels costs seconds; loading them from the cache costs about a second
per process. `compile_kernels()` runs every built-in vectorised strategy through the real fast
path on a few synthetic bars, in both fill timings, so the signatures production uses are the
ones compiled: `make setup` calls it once per install (`quant compile`), and the backtest worker
calls it before it takes its first job.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from quant_engine.config import BacktestConfig, FillTiming
from quant_engine.vectorised import KernelRun, PriceMatrix, simulate
from quant_features.compiled import clear_sma_cache
from quant_strategy import StrategyConfig, build_strategy

_STRATEGIES: tuple[dict[str, Any], ...] = (
    {
        "id": "compile_momentum",
        "class": "quant_strategy.builtin.momentum:SmaCrossover",
        "params": {"fast": 3, "slow": 7},
    },
    {"id": "compile_buy_and_hold", "class": "quant_strategy.builtin.buy_and_hold:BuyAndHold"},
)


def _frames(symbols: list[str], n: int = 64) -> dict[str, pd.DataFrame]:
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
    walk = 100.0 + np.cumsum(np.sin(np.arange(n) / 3.0))
    frames = {}
    for k, symbol in enumerate(symbols):
        close = walk * (1.0 + 0.01 * k)
        frames[symbol] = pd.DataFrame(
            {
                "open": close,
                "high": close * 1.01,
                "low": close * 0.99,
                "close": close,
                "volume": np.full(n, 1_000.0),
            },
            index=index,
        )
    return frames


def compile_kernels() -> float:
    """Compile (or load from numba's cache) every kernel the fast path uses; seconds taken."""
    started = time.perf_counter()
    for symbols in (["A"], ["A", "B"]):
        prices = PriceMatrix.of(_frames(symbols))
        for spec in _STRATEGIES:
            config = StrategyConfig.model_validate({**spec, "universe": symbols})
            for timing in FillTiming:
                strategy = build_strategy(config)
                simulate(strategy, prices, BacktestConfig(fill_timing=timing))
                # and a chunk at a time, as compiled_run goes (kernel.start/advance/finish)
                chunked = KernelRun(
                    build_strategy(config), prices, BacktestConfig(fill_timing=timing)
                )
                chunked.advance_to(len(prices.index) // 2)
                chunked.advance_to(len(prices.index))
                chunked.result()
    clear_sma_cache()  # leave nothing of the tiny data behind
    return time.perf_counter() - started
