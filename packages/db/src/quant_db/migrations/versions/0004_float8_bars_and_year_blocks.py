"""price_bars: float8 prices instead of NUMERIC + generated twins; price_blocks, one packed year a row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("open", "high", "low", "close", "volume")

# A frozen copy of quant_db.bar_copy.BLOCK_SQL: a migration must not change when the code does.
_PACK = (
    "string_agg(int8send((extract(epoch FROM p.ts) * 1000000)::int8)"
    + "".join(f" || float8send(p.{c})" for c in COLUMNS)
    + ", ''::bytea ORDER BY p.ts)"
)


def upgrade() -> None:
    # float8 keeps every price of up to 15 significant digits exactly and costs about half the
    # write of NUMERIC + generated float8 twins (ADR 0012)
    for column in COLUMNS:
        op.drop_column("price_bars", f"{column}_f")
        op.execute(
            f"ALTER TABLE price_bars ALTER COLUMN {column} TYPE double precision "
            f"USING {column}::double precision"
        )
    op.create_table(
        "price_blocks",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("bars", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "timeframe", "year", name=op.f("pk_price_blocks")),
    )
    # the blocks are packed floats: pglz would spend time finding nothing to compress
    op.execute("ALTER TABLE price_blocks ALTER COLUMN data SET STORAGE EXTERNAL")
    op.execute(
        "INSERT INTO price_blocks (symbol, timeframe, year, bars, data) "
        "SELECT p.symbol, p.timeframe, extract(year FROM p.ts AT TIME ZONE 'UTC')::int2, "
        f"count(*), {_PACK} FROM price_bars p GROUP BY 1, 2, 3"
    )


def downgrade() -> None:
    op.drop_table("price_blocks")
    for column in COLUMNS:
        # float8 -> NUMERIC keeps 15 significant digits: every price ingestion accepted
        op.execute(
            f"ALTER TABLE price_bars ALTER COLUMN {column} TYPE numeric USING {column}::numeric"
        )
    for column in COLUMNS:
        op.execute(
            f"ALTER TABLE price_bars ADD COLUMN {column}_f double precision "
            f"GENERATED ALWAYS AS ({column}::double precision) STORED"
        )
