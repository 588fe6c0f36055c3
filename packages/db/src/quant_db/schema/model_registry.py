"""The model registry: every trained model with its lineage, and the history of its stages."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from quant_db.schema.base import Base
from quant_db.schema.identity import enum_column


class ModelStage(StrEnum):
    """Where a model may act: nowhere yet, in paper trading, with real money; or retired."""

    CANDIDATE = "candidate"
    PAPER = "paper"
    LIVE = "live"
    RETIRED = "retired"


class RegisteredModel(Base):
    """One trained model: what it learned from, how it was validated, where its bytes are."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    stage: Mapped[ModelStage] = mapped_column(
        enum_column(ModelStage, "model_stage"), default=ModelStage.CANDIDATE, index=True
    )
    stage_since: Mapped[datetime] = mapped_column(server_default=func.now())
    feature_set_version: Mapped[str] = mapped_column(String(64))
    label_definition: Mapped[dict[str, Any]]
    train_start: Mapped[datetime]
    train_end: Mapped[datetime]
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]]
    validation: Mapped[dict[str, Any]]
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_uri: Mapped[str] = mapped_column(Text)
    code_version: Mapped[str] = mapped_column(String(64))
    trained_by_run_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("runs.id", ondelete="SET NULL")
    )
    trained_via: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ModelStageChange(Base):
    """A stage decision: from, to, why, by whom, and the gate's checks when it was a promotion."""

    __tablename__ = "model_stage_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(24))
    to_stage: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(server_default=func.now())
    gate: Mapped[dict[str, Any]] = mapped_column(default=dict)
