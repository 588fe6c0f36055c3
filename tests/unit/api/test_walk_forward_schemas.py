"""The API restates the worker's walk-forward JSON; these keep the restated shapes in step."""

from __future__ import annotations

import dataclasses

from quant_api.schemas.v1 import walk_forward as api
from quant_backtest.walk_forward_model import ParameterStability
from quant_engine.metrics import Metrics
from quant_engine.overfitting import DeflatedSharpe


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_run_metrics_has_every_engine_metric_and_no_other() -> None:
    assert set(api.RunMetrics.model_fields) == _fields(Metrics)


def test_deflated_sharpe_and_stability_have_every_stored_field() -> None:
    assert set(api.DeflatedSharpe.model_fields) == _fields(DeflatedSharpe)
    assert set(api.ParameterStability.model_fields) == _fields(ParameterStability)
