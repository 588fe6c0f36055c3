"""A queued `train` run (POST /v1/runs type train, ADR 0053): train, store, register.

The CPU part (loading the inputs, walk-forward over every candidate, CPCV, the final fit, the
artifact's bytes) runs in a thread through quant_models' own training entry point, the one
`quant train` calls; progress goes out after each step and a cancel is honoured there. The
model is then registered as a candidate naming the run that trained it, and the run is marked
completed in the same transaction, so a completed train run always has its model and a model
trained by a run always has its completed run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from quant_db.provenance import code_version
from quant_db.schema import Run
from quant_db.schema.runs import RunStatus
from quant_db.settings import get_settings
from quant_models import registry
from quant_models.artifacts import ArtifactStore, StoredArtifact
from quant_models.dataset import TrainingSet
from quant_models.training import TrainingOutcome, load_inputs, train
from quant_models.training_config import TrainingConfig

Progress = Callable[[float, int, int, str], None]


@dataclass(frozen=True, slots=True)
class Trained:
    config: TrainingConfig
    outcome: TrainingOutcome
    data: TrainingSet
    artifact: StoredArtifact


def steps(config: TrainingConfig) -> int:
    """How many progress steps a training has: inputs, each candidate, CPCV, the final fit."""
    return 1 + len(config.model.all_params()) + (config.validation.cpcv is not None) + 1


def train_in_thread(config: TrainingConfig, progress: Progress) -> Trained:
    """Train as `config` says, reporting each step; `progress` raises to cancel."""
    total = steps(config)
    done = [0]

    def step(message: str) -> None:
        done[0] = min(done[0] + 1, total - 1)  # the last step is the stored artifact
        progress(done[0] / total, done[0], total, message)

    progress(0.0, 0, total, "loading the training inputs")
    data = load_inputs(config)
    step(f"{len(data):,} rows x {data.X.shape[1]} features")
    outcome = train(config, data, report=step)
    artifact = ArtifactStore.from_settings(get_settings()).put(outcome.model.to_bytes())
    progress(1.0, total, total, f"model fitted, artifact {artifact.sha256[:12]}")
    return Trained(config, outcome, data, artifact)


def feature_set_of(config: TrainingConfig) -> str:
    """The feature set version recorded with the model (as `quant train` records it)."""
    inputs = config.inputs
    stated = str(getattr(inputs, "feature_set_version", "") or "")
    if stated:
        return stated
    return "synthetic" if getattr(inputs, "synthetic", None) is not None else "unversioned"


def run_metrics(
    model_id: int, name: str, version: int, validation: dict[str, Any]
) -> dict[str, Any]:
    """What a completed train run shows: its model and the headline validation scores."""
    return {
        "model_id": model_id,
        "model_name": name,
        "model_version": version,
        **{key: validation.get(key) for key in ("oos_sharpe", "dsr", "pbo", "n_trials", "rows")},
    }


async def register_and_complete(url: str, run_id: uuid.UUID, trained: Trained) -> int:
    """Register the model (trained_by_run_id = the run) and complete the run, atomically;
    returns the model's id."""
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            model = await registry.register(
                session,
                name=trained.config.name,
                kind=trained.outcome.model.kind,
                feature_set_version=feature_set_of(trained.config),
                label_definition=trained.config.label.model_dump(exclude_none=True),
                train_window=trained.data.window(),
                data_fingerprint=trained.data.fingerprint(),
                params=trained.outcome.params.model_dump(),
                validation=trained.outcome.validation,
                artifact=trained.artifact,
                code_version=code_version(),
                trained_via=f"run {run_id}",
                request_id=f"run-{run_id}",
                trained_by_run_id=run_id,
            )
            await session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    status=RunStatus.COMPLETED,
                    progress=1.0,
                    message=f"registered {registry.describe(model)} as a candidate",
                    metrics=run_metrics(
                        model.id, model.name, model.version, trained.outcome.validation
                    ),
                    repro={
                        "code_version": model.code_version,
                        "data_fingerprint": model.data_fingerprint,
                        "artifact_sha256": model.artifact_sha256,
                    },
                    finished_at=func.now(),
                )
            )
            await session.commit()
            return model.id
    finally:
        await engine.dispose()
