"""`quant reconcile status`: each broker account's last reconciliation, from the database."""

# ruff: noqa: PLC0415 - SQLAlchemy loads when a command runs, not for --help
from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from quant_cli.database import in_session
from quant_cli.errors import user_errors

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

reconcile_app = typer.Typer(
    help="Reconciliation of each broker account with what the platform stored.",
    no_args_is_help=True,
)


@reconcile_app.command("status")
@user_errors
def status_command() -> None:
    """Each account's last check: clean (orders may go), or pending/blocked with what differs."""

    async def read(session: AsyncSession) -> str:
        from sqlalchemy import select

        from quant_db.schema.execution import Reconciliation

        rows = (
            await session.scalars(select(Reconciliation).order_by(Reconciliation.account))
        ).all()
        if not rows:
            return "no account was ever checked (no order may be sent for an unchecked account)"
        lines = []
        for row in rows:
            state = row.state.value
            lines.append(f"{row.account}: {state} (checked {row.checked_at:%Y-%m-%d %H:%M:%S %Z})")
            for d in (row.diff or {}).get("differences", []):
                lines.append(f"  {d['kind']} {d['key']}: broker {d['broker']}, ours {d['ours']}")
        return "\n".join(lines)

    typer.echo(in_session(read))
