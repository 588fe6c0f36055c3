"""The model registry: models with their lineage and validation, and their stage history

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "candidate",
                "paper",
                "live",
                "retired",
                name="model_stage",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("stage_since", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("feature_set_version", sa.String(64), nullable=False),
        sa.Column("label_definition", postgresql.JSONB(), nullable=False),
        sa.Column("train_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("train_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_fingerprint", sa.String(64), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("validation", postgresql.JSONB(), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_uri", sa.Text(), nullable=False),
        sa.Column("code_version", sa.String(64), nullable=False),
        sa.Column("trained_by_run_id", sa.Uuid(), nullable=True),
        sa.Column("trained_via", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("name", "version", name="uq_models_name_version"),
        sa.ForeignKeyConstraint(
            ["trained_by_run_id"],
            ["runs.id"],
            name="fk_models_trained_by_run_id_runs",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_models_stage", "models", ["stage"])
    op.create_table(
        "model_stage_changes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("from_stage", sa.String(24), nullable=True),
        sa.Column("to_stage", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("gate", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_stage_changes"),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name="fk_model_stage_changes_model_id_models",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name="fk_model_stage_changes_decided_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_model_stage_changes_model_id", "model_stage_changes", ["model_id"])


def downgrade() -> None:
    op.drop_table("model_stage_changes")
    op.drop_table("models")
