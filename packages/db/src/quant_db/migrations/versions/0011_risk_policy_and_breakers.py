"""The risk policy's versions and the breakers' state

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_policies",
        sa.Column("version", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("policy", postgresql.JSONB(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("version", name="pk_risk_policies"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_risk_policies_created_by_users",
            ondelete="SET NULL",
        ),
    )
    # the breakers start with no memory: the first equity point they see sets peak and baseline
    op.create_table(
        "risk_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", postgresql.JSONB(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_risk_state"),
        sa.CheckConstraint("id = 1", name="ck_risk_state_single_row"),
    )
    op.execute("INSERT INTO risk_state (id, state) VALUES (1, '{}'::jsonb)")


def downgrade() -> None:
    op.drop_table("risk_state")
    op.drop_table("risk_policies")
