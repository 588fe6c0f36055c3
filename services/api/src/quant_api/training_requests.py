"""A POST /v1/runs body of type `train` turned into the training config a worker will run, or a
422 naming the field (ADR 0053).

The config is validated here exactly as `quant train` validates its YAML (quant_models'
TrainingConfig), before anything is written; a file's mistakes are named by the file's name,
line and field (the server's paths stay private), an inline config's by its field under
`body.training.inline`. The run keeps the validated config, so a file edited after the run was
queued changes nothing for it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from quant_api.errors import ApiError, in_request_part, invalid, invalid_from
from quant_api.schemas.v1.runs import RunCreate, RunKind
from quant_domain import ConfigError
from quant_models.training_config import TrainingConfig, load_training_config

INLINE_SOURCE = "inline.yaml"
"""The file name an inline config stands for: relative table paths resolve in the folder."""

# the fields of a backtest or walk-forward request, which a train run does not take
_NOT_FOR_TRAINING = (
    "strategy_id",
    "universe",
    "symbols",
    "start",
    "end",
    "params",
    "backtest",
    "walk_forward",
)


def training_files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


def _from_file(folder: Path, name: str) -> TrainingConfig:
    file = folder / (name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if not file.is_file():
        known = ", ".join(training_files(folder)) or "none"
        raise invalid("training.config", f"no training config {name!r} (known: {known})")
    try:
        return load_training_config(file)
    except ConfigError as exc:
        where = file.name if exc.line is None else f"{file.name}:{exc.line}"
        what = f"{exc.field}: " if exc.field else ""
        raise invalid(
            "training.config", f"the training config is not valid: {where}: {what}{exc.message}"
        ) from None


def _inline(folder: Path, fields: dict[str, Any]) -> TrainingConfig:
    try:
        config = TrainingConfig.model_validate({**fields, "source": str(folder / INLINE_SOURCE)})
    except ValidationError as exc:
        raise invalid_from(exc, "training.inline") from None
    table = getattr(config.inputs, "table", None)
    if isinstance(table, str):
        path = PurePosixPath(table)
        if path.is_absolute() or ".." in path.parts:
            raise invalid(
                "training.inline.inputs.table",
                "an inline config reads tables of configs/training only: give a relative path "
                "without `..`",
            )
    return config


def _table_exists(config: TrainingConfig, field: str) -> None:
    """A table input must be there now: the worker reads it, and a missing one fails late."""
    if getattr(config.inputs, "table", None) is None:
        return
    path = config.table_path()
    if not path.is_file():
        raise invalid(field, f"the training table {path.name!r} does not exist in configs/training")


def plan_training(body: RunCreate, folder: Path) -> dict[str, Any]:
    """The training config the run keeps (`config`, with its `source` so relative table paths
    still resolve); raises ApiError 422 naming `body.<field>`. CPU and disk only: callers run it
    in a thread."""
    try:
        return _plan(body, folder)
    except ApiError as exc:
        raise in_request_part(exc, "body") from None


def _plan(body: RunCreate, folder: Path) -> dict[str, Any]:
    sent = [name for name in _NOT_FOR_TRAINING if name in body.model_fields_set]
    if sent:
        raise invalid(
            sent[0],
            f"a train run takes no {sent[0]}: it trains the model its training config names "
            "(send `training`)",
        )
    if body.training is None:
        raise invalid(
            "training",
            "a train run needs training: {config: <a file of configs/training>} or "
            "{inline: <a training config>}",
        )
    if body.training.config is not None:
        config = _from_file(folder, body.training.config)
        _table_exists(config, "training.config")
    else:
        assert body.training.inline is not None
        config = _inline(folder, body.training.inline)
        _table_exists(config, "training.inline.inputs.table")
    return {**config.model_dump(mode="json"), "source": config.source}


def refuse_training_fields(body: RunCreate) -> None:
    """A backtest or walk-forward body names its strategy and sends no training settings."""
    if body.type is RunKind.TRAIN:
        return
    if body.training is not None:
        raise invalid("body.training", "training settings need type train")
    if body.strategy_id is None:
        raise invalid("body.strategy_id", f"a {body.type.value} run needs a strategy_id")
