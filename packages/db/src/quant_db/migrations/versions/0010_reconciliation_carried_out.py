"""Reconciliation: when the runner carried an admin's resolution out

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL with a resolution recorded: the admin's choice waits for the runner (ADR 0029)
    op.add_column(
        "reconciliation",
        sa.Column("carried_out_at", sa.DateTime(timezone=True), nullable=True),
    )
    # an older resolution whose account was checked again since is settled; a pending one waits
    op.execute(
        "UPDATE reconciliation SET carried_out_at = checked_at "
        "WHERE resolution IS NOT NULL AND state <> 'pending'"
    )


def downgrade() -> None:
    op.drop_column("reconciliation", "carried_out_at")
