"""price_bars: stored float8 twins of the NUMERIC columns, for fast reads into the engine

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("open", "high", "low", "close", "volume")


def upgrade() -> None:
    # NUMERIC stays the exact record; the engine reads float64 (ADR 0004), and casting NUMERIC on
    # every read costs more than the read itself, so the cast is done once, at write time
    for column in COLUMNS:
        op.execute(
            f"ALTER TABLE price_bars ADD COLUMN {column}_f double precision "
            f"GENERATED ALWAYS AS ({column}::double precision) STORED"
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_column("price_bars", f"{column}_f")
