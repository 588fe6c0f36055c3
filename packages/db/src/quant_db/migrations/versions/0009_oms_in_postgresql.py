"""The OMS in PostgreSQL: order status history, positions per strategy, processed event keys,
reconciliation state

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen here (not imported from quant_db.schema) so this revision means the same forever
_STATES = ("clean", "pending", "blocked")
_RESOLUTIONS = ("adopt", "flatten")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("code", sa.String(64), server_default="", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(160), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_order_events_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id", "client_order_id"],
            ["orders.run_id", "orders.client_order_id"],
            name="fk_order_events_run_id_orders",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "run_id", "idempotency_key", name="uq_order_events_run_id_idempotency_key"
        ),
    )
    op.create_index(
        "ix_order_events_run_id_client_order_id", "order_events", ["run_id", "client_order_id"]
    )

    # Positions were never written before this revision (nothing traded outside a backtest), so
    # the key changes in place: one row per strategy and symbol, and the strategy's fees.
    op.drop_constraint("uq_positions_run_id_symbol", "positions", type_="unique")
    op.create_unique_constraint(
        "uq_positions_run_id_strategy_id_symbol", "positions", ["run_id", "strategy_id", "symbol"]
    )
    op.add_column(
        "positions", sa.Column("commission", sa.Numeric(), server_default="0", nullable=False)
    )

    op.create_table(
        "processed_events",
        sa.Column("consumer_group", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(160), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer_group", "idempotency_key", name="pk_processed_events"),
    )

    op.create_table(
        "reconciliation",
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("diff", postgresql.JSONB(), nullable=False),
        sa.Column("resolution", sa.String(24), nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("account", name="pk_reconciliation"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_reconciliation_run_id_runs", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name="fk_reconciliation_resolved_by_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(_in("state", _STATES), name="ck_reconciliation_state"),
        sa.CheckConstraint(_in("resolution", _RESOLUTIONS), name="ck_reconciliation_resolution"),
    )


def downgrade() -> None:
    op.drop_table("reconciliation")
    op.drop_table("processed_events")
    # one row per run and symbol again: refused while a run holds a symbol under two strategies,
    # rather than merging two strategies' books into one (that would lose their attribution)
    op.execute(
        "DO $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM positions GROUP BY run_id, symbol HAVING count(*) > 1) THEN "
        "RAISE EXCEPTION 'cannot downgrade below 0009: a run holds one symbol under two "
        "strategies in positions; close or delete those rows first'; "
        "END IF; END $$"
    )
    op.drop_column("positions", "commission")
    op.drop_constraint("uq_positions_run_id_strategy_id_symbol", "positions", type_="unique")
    op.create_unique_constraint("uq_positions_run_id_symbol", "positions", ["run_id", "symbol"])
    op.drop_index("ix_order_events_run_id_client_order_id", table_name="order_events")
    op.drop_table("order_events")
