"""Trades carry their maximum favourable and adverse excursion, the profit given back and the
market regime at entry

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("mfe", "mae", "given_back")


def upgrade() -> None:
    # per unit, against the entry price (quant_engine/excursions.py); null for trades stored
    # before this revision, which nothing measured
    for name in COLUMNS:
        op.add_column("trades", sa.Column(name, sa.Numeric(asdecimal=True), nullable=True))
    op.add_column("trades", sa.Column("regime", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("trades", "regime")
    for name in reversed(COLUMNS):
        op.drop_column("trades", name)
