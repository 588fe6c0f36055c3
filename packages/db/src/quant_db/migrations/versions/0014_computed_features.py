"""The feature store: feature_set_versions, computed_feature_inputs, computed_features (year blocks)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feature_set_versions",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False),
        sa.Column("columns", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_feature_set_versions")),
    )
    op.create_index(
        op.f("ix_feature_set_versions_name"), "feature_set_versions", ["name"], unique=False
    )
    op.create_table(
        "computed_feature_inputs",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("bars", sa.Integer(), nullable=False),
        sa.Column("first_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["feature_set_versions.version"],
            name=op.f("fk_computed_feature_inputs_version_feature_set_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version", "symbol", name=op.f("pk_computed_feature_inputs")),
    )
    op.create_table(
        "computed_features",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["feature_set_versions.version"],
            name=op.f("fk_computed_features_version_feature_set_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version", "symbol", "year", name=op.f("pk_computed_features")),
    )
    # packed floats: pglz would spend time finding nothing to compress (as price_blocks, ADR 0012)
    op.execute("ALTER TABLE computed_features ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("computed_features")
    op.drop_table("computed_feature_inputs")
    op.drop_index(op.f("ix_feature_set_versions_name"), table_name="feature_set_versions")
    op.drop_table("feature_set_versions")
