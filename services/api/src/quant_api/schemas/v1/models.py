"""Trained models: the registry's rows, their lineage and validation, and stage decisions."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quant_db.schema import ModelStage


def _number(value: Any) -> float | None:
    """A stored score as a finite float, or null (not measured, or not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


class ModelScores(BaseModel):
    """The headline validation figures of the chosen candidate."""

    oos_sharpe: float | None = Field(
        description="annualised Sharpe of the stitched purged walk-forward out-of-sample returns"
    )
    dsr: float | None = Field(description="deflated Sharpe ratio over every candidate tried, 0..1")
    pbo: float | None = Field(description="probability of backtest overfitting, 0..1")
    n_trials: int | None = Field(description="candidates tried (they deflate the Sharpe)")

    @classmethod
    def of(cls, validation: dict[str, Any]) -> ModelScores:
        trials = validation.get("n_trials")
        return cls(
            oos_sharpe=_number(validation.get("oos_sharpe")),
            dsr=_number(validation.get("dsr")),
            pbo=_number(validation.get("pbo")),
            n_trials=trials if isinstance(trials, int) else None,
        )


class ModelSummary(BaseModel):
    """One registered model in a listing."""

    id: int
    name: str
    version: int
    kind: str = Field(description="the model's implementation (xgboost)")
    stage: ModelStage
    stage_since: datetime
    feature_set_version: str
    scores: ModelScores
    artifact_sha256: str
    trained_by_run_id: uuid.UUID | None = Field(
        description="the train run that trained it; null when trained by `quant train`"
    )
    created_at: datetime


class ValidationFold(BaseModel):
    """One out-of-sample fold: what it trained and tested on, what was purged, how it scored."""

    test_groups: list[int]
    n_train: int
    n_test: int
    purged: int = Field(description="training rows dropped: their labels overlap the test")
    embargoed: int = Field(description="training rows dropped just after the test (embargo)")
    start: str = Field(description="first test date")
    end: str = Field(description="last test date")
    sharpe: float | None = Field(description="annualised; null when not finite")
    hit_rate: float | None = Field(description="share of test rows whose direction was right")


class CpcvScores(BaseModel):
    """Combinatorial purged cross-validation: a distribution of out-of-sample Sharpe ratios."""

    n_groups: int
    n_test_groups: int
    summary: dict[str, float] = Field(
        description="paths, mean, median, std, p05, share_positive of the path Sharpes"
    )
    path_sharpes: list[float | None]
    folds: list[ValidationFold]


class FeatureImportance(BaseModel):
    feature: str
    importance: float = Field(description="xgboost gain, normalised to sum to 1 over features")


class StageChange(BaseModel):
    """A stage decision: from, to, why, by whom, when, and the gate's checks for a promotion."""

    model_config = ConfigDict(from_attributes=True)

    from_stage: str | None = Field(description="null for the registration")
    to_stage: str
    reason: str
    decided_by: str | None = Field(description="the admin's username; null when registered")
    decided_at: datetime
    gate: dict[str, Any] = Field(description="the policy and each check with its value")


class ModelDetail(ModelSummary):
    """A model's lineage, validation and stage history."""

    label_definition: dict[str, Any]
    train_start: datetime
    train_end: datetime
    data_fingerprint: str = Field(description="hash of the training rows and labels")
    params: dict[str, Any] = Field(description="the chosen candidate's parameters")
    code_version: str
    trained_via: str
    thresholds: dict[str, Any] = Field(description="probability thresholds scored by validation")
    walk_forward_folds: list[ValidationFold]
    cpcv: CpcvScores | None
    candidate_sharpes: list[float | None] = Field(
        description="the walk-forward OOS Sharpe of every candidate tried, in order"
    )
    chosen_candidate: int | None
    rows: int | None = Field(description="training rows")
    importances: list[FeatureImportance] = Field(description="largest first")
    stage_history: list[StageChange]


class StageDecisionCreate(BaseModel):
    """Why a model moves one stage (recorded with the decision and in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why: the reason is recorded with the decision and audited")
        return value


class StageDecisionPublic(BaseModel):
    id: int
    name: str
    version: int
    from_stage: str
    stage: ModelStage
    change: StageChange
