"""Commands that run a strategy load the registry model its config names, then provide it."""

# ruff: noqa: PLC0415 - SQLAlchemy and xgboost load only for a strategy that needs a model
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quant_models.predictor import LoadedModel
    from quant_strategy import StrategyConfig


@contextmanager
def loaded_models(
    config: StrategyConfig, *, per_window_ok: bool = False
) -> Iterator[dict[str, LoadedModel]]:
    """The config's registry model (artifact checksum verified) provided for the block; an
    empty mapping for a strategy without one. `train: per_window` is for walk-forwards only."""
    from quant_backtest.model_link import load_models_from, model_reference, provided
    from quant_strategy.predictors import PER_WINDOW

    reference = model_reference(config)
    if reference is None or reference == PER_WINDOW:
        if reference == PER_WINDOW and not per_window_ok:
            raise config.error(
                "params.train",
                "train: per_window trains a model in each window of `quant walk-forward`; "
                "give params.model (a registry reference) to run it here",
            )
        yield {}
        return
    from quant_db.migrate import migrated_url
    from quant_db.settings import get_settings

    models = load_models_from(migrated_url(get_settings()), config)
    with provided(models):
        yield models
