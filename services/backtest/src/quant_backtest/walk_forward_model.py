"""Walk-forward results (settings and windows come from quant_engine.walk_forward_config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from quant_backtest.result import RunMetadata

__all__ = [
    "ParameterStability",
    "WalkForwardConfig",
    "WalkForwardResult",
    "Window",
    "WindowResult",
    "WindowType",
    "make_windows",
]
from quant_domain import Fill, Trade
from quant_engine import OrderRecord
from quant_engine.metrics import Metrics
from quant_engine.overfitting import DeflatedSharpe, PBOResult
from quant_engine.walk_forward_config import (
    WalkForwardConfig,
    Window,
    WindowType,
    make_windows,
)


@dataclass(slots=True)
class WindowResult:
    """What happened in one window: every combination's in-sample score and the chosen one's fate.

    `scores[c]` is combination c's in-sample objective, None when it made fewer than
    min_trades_required trades. `status` is "ok" or "skipped" (no combination qualified; the
    out-of-sample period is then spent in cash and `note` says why).
    """

    window: Window
    scores: list[float | None]
    trade_counts: list[int]
    status: str
    note: str = ""
    chosen_index: int | None = None
    chosen_params: dict[str, Any] | None = None
    in_sample_score: float | None = None
    in_sample_metrics: Metrics | None = None
    out_of_sample_score: float | None = None
    out_of_sample_metrics: Metrics | None = None
    in_sample_dsr: DeflatedSharpe | None = None
    plateau: float | None = None  # mean neighbour score / chosen score (1.0 = flat optimum)
    out_of_sample_start_equity: float = 0.0
    out_of_sample_end_equity: float = 0.0


@dataclass(frozen=True, slots=True)
class ParameterStability:
    """How one parameter's chosen value moved between windows."""

    name: str
    values: list[Any]  # chosen value per window (None for skipped windows)
    distinct: int
    mean_step_change: float  # mean |grid-index change| between consecutive chosen values
    normalised_change: (
        float  # mean_step_change / (grid size - 1); 0 = never moves, 1 = jumps end to end
    )


@dataclass(slots=True)
class WalkForwardResult:
    """A walk-forward optimisation: windows, the stitched out-of-sample run, and overfitting stats.

    `equity` holds the stitched out-of-sample curve (column "equity"), each window starting with
    the capital the previous one ended with; `benchmark` is buy-and-hold of the benchmark symbol
    over the same span. `pbo` is None when there is too little data or fewer than two
    combinations; `oos_dsr` deflates the stitched out-of-sample Sharpe by the grid size.
    """

    id: str
    strategy_id: str
    strategy_config: dict[str, Any]
    backtest_config: dict[str, Any]
    walk_forward_config: dict[str, Any]
    grid: list[dict[str, Any]]
    windows: list[WindowResult]
    equity: pd.DataFrame
    benchmark: pd.Series | None
    benchmark_symbol: str | None
    trades: list[Trade]
    fills: list[Fill]
    oos_metrics: Metrics
    stability: list[ParameterStability]
    degradation: list[float]
    efficiency: float
    oos_dsr: DeflatedSharpe | None
    pbo: PBOResult | None
    metadata: RunMetadata
    fast_path: bool
    workers: int
    timings: dict[str, float] = field(default_factory=dict)
    warmup_bars: int = 0  # bars before each window's start fed to the strategy, never traded
    # the out-of-sample windows' orders, ids prefixed by window like their fills ("w3-...")
    orders: list[OrderRecord] = field(default_factory=list)
