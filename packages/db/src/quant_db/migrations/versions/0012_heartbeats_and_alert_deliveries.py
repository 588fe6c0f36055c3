"""Monitoring: service heartbeats, alert dedupe keys and titles, the alert delivery queue

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("instance", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_beat", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column("metrics_url", sa.String(256), nullable=True),
        sa.Column("detail", postgresql.JSONB(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("service", "instance", name="pk_heartbeats"),
    )
    # nullable: services that insert only the older columns keep raising alerts as before
    op.add_column("alerts", sa.Column("dedupe_key", sa.String(200), nullable=True))
    op.add_column("alerts", sa.Column("title", sa.String(200), nullable=True))
    op.add_column("alerts", sa.Column("context", postgresql.JSONB(), nullable=True))
    op.add_column("alerts", sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_alerts_dedupe_key", "alerts", ["dedupe_key"])
    # alerts raised before the channels existed are not sent out now, days late
    op.execute("UPDATE alerts SET routed_at = ts")
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name="fk_alert_deliveries_alert_id_alerts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_alert_deliveries_alert_id", "alert_deliveries", ["alert_id"])
    op.create_index(
        "ix_alert_deliveries_channel_dedupe_key_created_at",
        "alert_deliveries",
        ["channel", "dedupe_key", "created_at"],
    )
    op.create_index(
        "ix_alert_deliveries_due",
        "alert_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alerts_dedupe_key", table_name="alerts")
    for column in ("routed_at", "context", "title", "dedupe_key"):
        op.drop_column("alerts", column)
    op.drop_table("heartbeats")
