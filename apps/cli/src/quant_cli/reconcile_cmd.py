"""`quant reconcile status|adopt|flatten`: each broker account's last reconciliation, and an
admin's decision on a blocked one, straight in the database (audited like the API's, `via: cli`).

The decision is only recorded here; the execution service carries it out between two steps
and checks again (ADR 0029), so this works while the API is down.
"""

# ruff: noqa: PLC0415 - SQLAlchemy loads when a command runs, not for --help
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from quant_cli.database import cli_request_id, cli_via, in_session
from quant_cli.errors import user_errors
from quant_domain import QuantError

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
            if row.resolution is not None:
                done = (
                    "waiting for the execution service"
                    if row.carried_out_at is None
                    else f"carried out {row.carried_out_at:%Y-%m-%d %H:%M:%S %Z}"
                )
                lines.append(f"  {row.resolution.value}: {row.reason} ({done})")
            for d in (row.diff or {}).get("differences", []):
                lines.append(f"  {d['kind']} {d['key']}: broker {d['broker']}, ours {d['ours']}")
        return "\n".join(lines)

    typer.echo(in_session(read))


Account = Annotated[str, typer.Argument(metavar="ACCOUNT", help="the broker account to resolve")]
Reason = Annotated[
    str, typer.Option(help="why; recorded with the decision and in the audit log (required)")
]
AsUser = Annotated[
    str, typer.Option("--user", help="an active admin's username, recorded as who decided")
]


class OperatorError(QuantError):
    """The decision cannot be recorded as asked (no reason, not an admin)."""


def _resolve(account: str, action: str, reason: str, username: str) -> None:
    from sqlalchemy import select

    from quant_db.reconciliation import resolve_reconciliation
    from quant_db.schema import User
    from quant_db.schema.identity import Role

    if not reason.strip():
        raise OperatorError("--reason: say why (the decision is audited)")
    if not username.strip():
        raise OperatorError("--user: name the admin who decides")

    async def decide(session: AsyncSession) -> str:
        user = await session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active or user.role is not Role.ADMIN:
            raise OperatorError(f"--user: {username!r} is not an active admin")
        row = await resolve_reconciliation(
            session,
            account=account,
            user=user,
            resolution=action,
            reason=reason,
            request_id=cli_request_id(),
            via=cli_via(),
        )
        await session.commit()
        return (
            f"{row.account}: pending, {action} recorded by {user.username}; the execution "
            "service carries it out at its next step, then checks again"
        )

    typer.echo(in_session(decide))


@reconcile_app.command("adopt")
@user_errors
def adopt_command(account: Account, reason: Reason = "", user: AsUser = "") -> None:
    """Resolve a blocked ACCOUNT by taking the broker's orders and positions into our books."""
    _resolve(account, "adopt", reason, user)


@reconcile_app.command("flatten")
@user_errors
def flatten_command(account: Account, reason: Reason = "", user: AsUser = "") -> None:
    """Resolve a blocked ACCOUNT by cancelling the broker's orders and closing its positions."""
    _resolve(account, "flatten", reason, user)
