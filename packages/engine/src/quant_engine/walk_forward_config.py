"""Walk-forward settings and window arithmetic: pure, so the API can validate them too."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quant_engine.objectives import Objective


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
