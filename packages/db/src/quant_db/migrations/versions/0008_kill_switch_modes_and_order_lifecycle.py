"""kill_switch gets a mode (engaged becomes derived); orders get broker id, code, updated_at;
fills reference their order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen here (not imported from quant_domain) so this revision means the same forever
_MODES = ("active", "halt_entries", "reduce_only", "flatten_and_halt")
_FILL_ORDER_FK = "fk_fills_run_id_orders"


def upgrade() -> None:
    modes = ", ".join(f"'{m}'" for m in _MODES)
    op.execute(
        "ALTER TABLE kill_switch ADD COLUMN mode varchar(24) NOT NULL DEFAULT 'active', "
        f"ADD CONSTRAINT ck_kill_switch_mode CHECK (mode IN ({modes}))"
    )
    # an engaged switch stopped new entries; that is halt_entries (ADR 0024), never a flatten
    op.execute("UPDATE kill_switch SET mode = 'halt_entries' WHERE engaged")
    # engaged stays readable for old readers, derived from the mode so the two cannot disagree
    op.execute(
        "ALTER TABLE kill_switch DROP COLUMN engaged, "
        "ADD COLUMN engaged boolean GENERATED ALWAYS AS (mode <> 'active') STORED"
    )

    op.execute(
        "ALTER TABLE orders ADD COLUMN broker_order_id varchar(64), "
        "ADD COLUMN code varchar(64) NOT NULL DEFAULT '', "
        "ADD COLUMN updated_at timestamptz"
    )
    # a stored order last changed when it closed, or (still working) when it was submitted
    op.execute("UPDATE orders SET updated_at = coalesce(closed_at, submitted_at)")
    op.execute(
        "ALTER TABLE orders ALTER COLUMN updated_at SET DEFAULT now(), "
        "ALTER COLUMN updated_at SET NOT NULL"
    )

    # Walk-forward runs stored before this revision kept their fills but not their orders, so
    # the link is added unchecked (enforced for every row written from now on) and validated
    # only where no fill lacks its order; the ADR says why no order is made up for them.
    op.execute(
        f"ALTER TABLE fills ADD CONSTRAINT {_FILL_ORDER_FK} "
        "FOREIGN KEY (run_id, client_order_id) REFERENCES orders (run_id, client_order_id) "
        "ON DELETE CASCADE NOT VALID"
    )
    op.execute(
        "DO $$ BEGIN "
        "IF NOT EXISTS (SELECT 1 FROM fills f WHERE NOT EXISTS (SELECT 1 FROM orders o "
        "WHERE o.run_id = f.run_id AND o.client_order_id = f.client_order_id)) THEN "
        f"ALTER TABLE fills VALIDATE CONSTRAINT {_FILL_ORDER_FK}; "
        "END IF; END $$"
    )


def downgrade() -> None:
    op.execute(f"ALTER TABLE fills DROP CONSTRAINT {_FILL_ORDER_FK}")
    op.execute(
        "ALTER TABLE orders DROP COLUMN updated_at, DROP COLUMN code, DROP COLUMN broker_order_id"
    )
    # every mode but active stopped something, which the old switch can only say as engaged
    op.execute("ALTER TABLE kill_switch ADD COLUMN engaged_plain boolean NOT NULL DEFAULT false")
    op.execute("UPDATE kill_switch SET engaged_plain = engaged")
    op.execute("ALTER TABLE kill_switch DROP COLUMN engaged, DROP COLUMN mode")
    op.execute("ALTER TABLE kill_switch RENAME COLUMN engaged_plain TO engaged")
    op.execute("ALTER TABLE kill_switch ALTER COLUMN engaged DROP DEFAULT")
