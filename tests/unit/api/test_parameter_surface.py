"""The dashboard's walk-forward heatmap is the HTML report's, read from what the worker stores."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from quant_api.parameter_surface import parameter_surface
from quant_backtest.walk_forward import WalkForwardEngine
from quant_backtest.walk_forward_json import walk_forward_summary
from quant_backtest.walk_forward_surface import objective_surface
from quant_engine import BacktestConfig
from quant_engine.walk_forward_config import WalkForwardConfig
from quant_marketdata import SampleSource
from quant_strategy import load_strategy_config

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "strategies"


@pytest.mark.parametrize(
    "grid",
    [
        {"slow": [50, 100], "fast": [10, 20, 40]},  # rows: slow, columns: fast
        {"fast": [5, 10, 20]},  # one parameter: a row per window
    ],
)
def test_the_surface_from_stored_scores_is_the_walk_forward_reports(
    grid: dict[str, list[Any]],
) -> None:
    walk_forward = {
        "in_sample_days": 730,
        "out_of_sample_days": 365,
        "parameter_grid": grid,
        "max_windows": 3,
    }
    config = load_strategy_config(CONFIGS / "momentum_v1.yaml").updated(walk_forward=walk_forward)
    result = WalkForwardEngine(
        SampleSource(), BacktestConfig(start=date(2009, 1, 1)), workers=1
    ).run(config, WalkForwardConfig.model_validate(walk_forward))
    report = objective_surface(result)
    assert report is not None
    # what the worker stores and the API reads back: JSON in runs.config and runs.metrics
    stored_config = json.loads(json.dumps(config.model_dump(mode="json", by_alias=True)))
    windows = json.loads(json.dumps(walk_forward_summary(result)))["windows"]

    served = parameter_surface(stored_config, windows)

    assert served is not None
    assert (served.x_title, served.y_title, served.x, served.y) == (
        report.x_title,
        report.y_title,
        report.x,
        report.y,
    )
    assert served.z == report.z
    assert {(c.row, c.column): c.windows for c in served.chosen} == report.chosen
    assert served.by_window == report.by_window
    assert served.objective == "sharpe"


def test_a_grid_that_varies_nothing_has_no_surface() -> None:
    config = (
        load_strategy_config(CONFIGS / "momentum_v1.yaml")
        .updated(walk_forward={"in_sample_days": 730})
        .model_dump(mode="json", by_alias=True)
    )
    assert parameter_surface(config, [{"number": 1, "scores": [0.5]}]) is None
