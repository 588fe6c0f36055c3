"""Models into strategies: load what a strategy's config names from the registry, provide it.

A strategy never loads a model (quant_strategy is below quant_models); a strategy whose params
name a model reference (`params.reference`, as xgb_direction_v1's do) gets it here, from the
registry on PostgreSQL with the artifact's sha256 checked, provided through
quant_strategy.predictors for the run's duration (ADR 0052). `per_window` is not loaded: the
walk-forward engine trains and provides that model window by window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from quant_backtest.result import BacktestResult
from quant_engine.metrics import compute_metrics
from quant_models.predictor import LoadedModel, load_models, model_reference, trains_per_window
from quant_strategy import StrategyConfig
from quant_strategy.predictors import PER_WINDOW, PredictionJournal, providing


def load_models_from(url: str, config: StrategyConfig) -> dict[str, LoadedModel]:
    """load_models on a session of its own at `url` (for callers outside an event loop)."""
    if model_reference(config) in (None, PER_WINDOW):
        return {}

    async def load() -> dict[str, LoadedModel]:
        engine = create_async_engine(url, pool_size=1, max_overflow=0)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                return await load_models(session, config)
        finally:
            await engine.dispose()

    return asyncio.run(load())


@contextmanager
def provided(
    models: dict[str, LoadedModel], journal: PredictionJournal | None = None
) -> Iterator[dict[str, LoadedModel]]:
    """Strategies built inside the block find `models` through the predictor port."""
    with providing({ref: m.predictor for ref, m in models.items()}, journal):
        yield models


def describe(models: dict[str, LoadedModel]) -> str:
    return ", ".join(f"{m.label} artifact {m.entry.artifact_sha256[:12]}" for m in models.values())


__all__ = [
    "LoadedModel",
    "describe",
    "load_models",
    "load_models_from",
    "model_metadata",
    "model_reference",
    "provided",
    "trains_per_window",
]


def model_metadata(models: dict[str, LoadedModel], result: BacktestResult) -> dict[str, Any] | None:
    """What a run's report records of its registry model: identity, checksum, training window,
    validation, and the run's metrics over the bars after the training window (the part of
    the backtest the model never saw)."""
    if not models:
        return None
    loaded = next(iter(models.values()))
    entry = loaded.entry
    train_end = pd.Timestamp(entry.train_end)
    train_end = train_end.tz_localize("UTC") if train_end.tzinfo is None else train_end
    equity = result.equity["equity"]
    after = equity[equity.index > train_end]
    oos: dict[str, Any] | None = None
    if len(after) >= 2:
        before = equity[equity.index <= train_end]
        start = float(before.iloc[-1]) if len(before) else float(after.iloc[0])
        values = np.concatenate(([start], after.to_numpy(np.float64)))
        metrics = compute_metrics(values, periods_per_year=result.metrics.periods_per_year)
        oos = {
            "from": str(after.index[0].date()),
            "bars": len(after),
            "sharpe": metrics.sharpe,
            "total_return": metrics.total_return,
            "max_drawdown_pct": metrics.max_drawdown_pct,
        }
    return {
        "reference": loaded.reference,
        "id": entry.id,
        "name": entry.name,
        "version": entry.version,
        "stage": entry.stage.value,
        "sha256": entry.artifact_sha256,
        "feature_set_version": entry.feature_set_version,
        "train_start": str(pd.Timestamp(entry.train_start).date()),
        "train_end": str(train_end.date()),
        "validation_oos_sharpe": (entry.validation or {}).get("oos_sharpe"),
        "validation_dsr": (entry.validation or {}).get("dsr"),
        "out_of_sample": oos,
    }
