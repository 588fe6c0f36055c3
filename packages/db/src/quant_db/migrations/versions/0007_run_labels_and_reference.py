"""runs: a label, the strategy's reference run, the params overridden, sortable key metrics

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen here (not imported from quant_db.schema) so this revision means the same forever
_KEY_METRICS = (
    "total_return",
    "annual_return",
    "sharpe",
    "max_drawdown_pct",
    "win_rate",
    "num_trades",
)


def _key_metric(name: str) -> str:
    value = f"metrics -> '{name}'"
    return (
        f"CASE WHEN status = 'completed' AND jsonb_typeof({value}) = 'number' "
        f"THEN CASE WHEN abs(({value})::numeric) < 1e300 THEN ({value})::numeric::float8 END END"
    )


def upgrade() -> None:
    # one ALTER TABLE: each stored generated column rewrites the table, so add them together
    columns = [
        "ADD COLUMN label varchar(120)",
        "ADD COLUMN is_reference boolean NOT NULL DEFAULT false",
        "ADD COLUMN params_overrides jsonb",
    ] + [
        f"ADD COLUMN key_{name} double precision GENERATED ALWAYS AS ({_key_metric(name)}) STORED"
        for name in _KEY_METRICS
    ]
    op.execute(f"ALTER TABLE runs {', '.join(columns)}")
    op.create_index(
        "ux_runs_reference_per_strategy",
        "runs",
        ["strategy_id"],
        unique=True,
        postgresql_where=sa.text("is_reference"),
    )


def downgrade() -> None:
    op.drop_index("ux_runs_reference_per_strategy", table_name="runs")
    for name in _KEY_METRICS:
        op.drop_column("runs", f"key_{name}")
    op.drop_column("runs", "params_overrides")
    op.drop_column("runs", "is_reference")
    op.drop_column("runs", "label")
