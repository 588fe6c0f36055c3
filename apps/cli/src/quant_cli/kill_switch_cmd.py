"""`quant kill-switch`: read, engage or release the kill switch straight in the database.

The break-glass path: it needs neither the API nor Redis (an outage of either is when an
operator most needs it), only the database and the name of an active admin to answer for the
change, which is audited like the API's (`via: cli`).
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

    from quant_db.schema import KillSwitchState

kill_switch_app = typer.Typer(
    help="Halt or resume trading straight in the database (works while the API is down).",
    no_args_is_help=True,
)

Reason = Annotated[str, typer.Option(help="why; recorded with the change and in the audit log")]
AsUser = Annotated[
    str, typer.Option("--user", help="an active admin's username, recorded as who did it")
]


class OperatorError(QuantError):
    """The change cannot be made as asked (no reason, not an admin)."""


def _describe(state: KillSwitchState, who: str | None) -> str:
    if state.changed_at is None:
        return "released (never changed)"
    word = "ENGAGED: trading is halted" if state.engaged else "released"
    return f"{word} since {state.changed_at:%Y-%m-%d %H:%M:%S %Z} by {who}: {state.reason}"


@kill_switch_app.command("status")
@user_errors
def status_command() -> None:
    """Print whether trading is halted, since when, by whom and why."""
    from quant_db import controls

    async def read(session: AsyncSession) -> str:
        state = await controls.kill_switch(session)
        return _describe(state, await controls.changed_by(session, state))

    typer.echo(in_session(read))


def _change(engaged: bool, reason: str, username: str) -> None:
    from sqlalchemy import select

    from quant_db import controls
    from quant_db.schema import User
    from quant_db.schema.identity import Role

    if not reason.strip():
        raise OperatorError("--reason: say why (it is recorded with the change)")

    async def change(session: AsyncSession) -> str:
        user = await session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active or user.role is not Role.ADMIN:
            raise OperatorError(f"--user: {username!r} is not an active admin")
        state = await controls.set_kill_switch(
            session,
            user=user,
            engaged=engaged,
            reason=reason,
            request_id=cli_request_id(),
            via=cli_via(),
        )
        await session.commit()
        return _describe(state, user.username)

    typer.echo(in_session(change))


@kill_switch_app.command("engage")
@user_errors
def engage_command(reason: Reason, user: AsUser) -> None:
    """Halt trading: engage the kill switch as --user, with --reason (audited)."""
    _change(True, reason, user)


@kill_switch_app.command("release")
@user_errors
def release_command(reason: Reason, user: AsUser) -> None:
    """Resume trading: release the kill switch as --user, with --reason (audited)."""
    _change(False, reason, user)
