"""job queue: pgqueuer's tables (jobs enqueue in the same transaction as their run row); run attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _script(sql: str) -> None:
    """Run a multi-statement script: the raw asyncpg connection's simple protocol accepts one,
    SQLAlchemy's prepared statements do not."""
    dbapi = op.get_bind().connection.dbapi_connection
    dbapi.run_async(lambda driver: driver.execute(sql))  # type: ignore[union-attr]


def upgrade() -> None:
    # pgqueuer renders its own DDL; it is pinned in uv.lock, and an upgrade that changes its
    # schema gets a migration of its own (ADR 0009)
    _script(QueryBuilderEnvironment().build_install_query(create_schema=False))
    op.add_column("runs", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("runs", "attempts")
    _script(QueryBuilderEnvironment().build_uninstall_query())
