"""Runs may be training jobs: a `train` run type, and no strategy for a run that trains a model

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen here (not imported from quant_db.schema) so this revision means the same forever
_BEFORE = ("backtest", "walk_forward", "paper", "live")
_AFTER = (*_BEFORE, "train")


def _types(names: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{n}'" for n in names)
    return f"ALTER TABLE runs ADD CONSTRAINT ck_runs_run_type CHECK (type IN ({quoted}))"


def upgrade() -> None:
    op.execute("ALTER TABLE runs DROP CONSTRAINT ck_runs_run_type")
    op.execute(_types(_AFTER))
    # a training run trains a model from a training config, not a strategy (ADR 0053)
    op.execute("ALTER TABLE runs ALTER COLUMN strategy_id DROP NOT NULL")


def downgrade() -> None:
    # training runs cannot be expressed before this revision; their models keep their lineage
    # fields, and trained_by_run_id falls to null with the rows (ON DELETE SET NULL)
    op.execute("DELETE FROM runs WHERE type = 'train'")
    op.execute("ALTER TABLE runs ALTER COLUMN strategy_id SET NOT NULL")
    op.execute("ALTER TABLE runs DROP CONSTRAINT ck_runs_run_type")
    op.execute(_types(_BEFORE))
