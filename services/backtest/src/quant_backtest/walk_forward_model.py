"""Walk-forward configuration, windows and results (the engine lives in walk_forward.py)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quant_backtest.result import RunMetadata
from quant_domain import Fill, Trade
from quant_engine.metrics import Metrics
from quant_engine.objectives import Objective
from quant_engine.overfitting import DeflatedSharpe, PBOResult


class WindowType(StrEnum):
    ROLLING = "rolling"  # in-sample window of fixed length slides forward
    ANCHORED = "anchored"  # in-sample window always starts at the first bar and grows


class WalkForwardConfig(BaseModel):
    """How to cut history into in-sample / out-of-sample windows and what to optimise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_sample_days: int = Field(default=1095, ge=5, le=36_500, description="calendar days")
    out_of_sample_days: int = Field(default=365, ge=1, le=36_500, description="calendar days")
    step_days: int | None = Field(
        default=None, ge=1, le=36_500, description="default: out_of_sample_days"
    )
    window_type: WindowType = WindowType.ROLLING
    parameter_grid: dict[str, list[Any]] = Field(default_factory=dict)
    objective: Objective = Objective.SHARPE
    min_trades_required: int = Field(default=1, ge=0, le=100_000)
    max_windows: int | None = Field(
        default=None, ge=1, le=1000, description="keep only the last N windows"
    )
    windows: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="split what follows the first in-sample period into this many out-of-sample "
        "windows (sets out_of_sample_days and step_days)",
    )

    @field_validator("parameter_grid")
    @classmethod
    def _grid_values_are_lists(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for name, values in grid.items():
            if not values:
                raise ValueError(f"parameter {name!r} has no values to try")
            if len(set(map(repr, values))) != len(values):
                raise ValueError(f"parameter {name!r} lists a value twice")
        return grid

    @model_validator(mode="after")
    def _grid_not_too_large(self) -> WalkForwardConfig:
        size = 1
        for values in self.parameter_grid.values():
            size *= len(values)
        if size > 100_000:
            raise ValueError(f"the grid has {size:,} combinations; the limit is 100,000")
        return self

    @property
    def step(self) -> int:
        return self.step_days or self.out_of_sample_days

    def combinations(self, base: dict[str, Any]) -> list[dict[str, Any]]:
        """Every grid point laid over the strategy's own params, in grid order."""
        names = list(self.parameter_grid)
        if not names:
            return [dict(base)]
        return [
            {**base, **dict(zip(names, values, strict=True))}
            for values in itertools.product(*(self.parameter_grid[n] for n in names))
        ]


@dataclass(frozen=True, slots=True)
class Window:
    """One in-sample / out-of-sample pair; dates are inclusive."""

    number: int
    in_sample_start: date
    in_sample_end: date
    out_of_sample_start: date
    out_of_sample_end: date


def make_windows(first: date, last: date, config: WalkForwardConfig) -> list[Window]:
    """Cut [first, last] into windows; the last out-of-sample window may be shorter."""
    if config.windows is not None:
        rest = (last - first).days + 1 - config.in_sample_days
        if rest < config.windows:
            return []
        length = -(-rest // config.windows)  # ceiling division
        config = config.model_copy(
            update={"out_of_sample_days": length, "step_days": length, "windows": None}
        )
    windows: list[Window] = []
    start = first
    while True:
        is_start = first if config.window_type is WindowType.ANCHORED else start
        is_end = start + timedelta(days=config.in_sample_days - 1)
        oos_start = is_end + timedelta(days=1)
        if oos_start > last:
            break
        oos_end = min(oos_start + timedelta(days=config.out_of_sample_days - 1), last)
        windows.append(Window(len(windows) + 1, is_start, is_end, oos_start, oos_end))
        start += timedelta(days=config.step)
    if config.max_windows is not None and len(windows) > config.max_windows:
        windows = [
            Window(
                k + 1,
                w.in_sample_start,
                w.in_sample_end,
                w.out_of_sample_start,
                w.out_of_sample_end,
            )
            for k, w in enumerate(windows[-config.max_windows :])
        ]
    return windows


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
