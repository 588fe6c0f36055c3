"""`quant kill-switch`: read or set the kill-switch mode straight in the database.

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
from quant_domain import ConfigError, KillSwitchMode, QuantError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quant_db.schema import KillSwitchState

kill_switch_app = typer.Typer(
    help="Set the kill-switch mode straight in the database (works while the API is down).",
    no_args_is_help=True,
)

WHAT_PASSES = {
    KillSwitchMode.ACTIVE: "orders pass the other risk rules",
    KillSwitchMode.HALT_ENTRIES: (
        "orders that open or grow a position are refused; reductions and cancels pass"
    ),
    KillSwitchMode.REDUCE_ONLY: "only orders that reduce a position pass",
    KillSwitchMode.FLATTEN_AND_HALT: (
        "working orders are cancelled and positions closed, then nothing is sent"
    ),
}
MODES = ", ".join(m.value for m in KillSwitchMode)

Reason = Annotated[str, typer.Option(help="why; recorded with the change and in the audit log")]
AsUser = Annotated[
    str, typer.Option("--user", help="an active admin's username, recorded as who did it")
]


class OperatorError(QuantError):
    """The change cannot be made as asked (no reason, not an admin)."""


def _describe(state: KillSwitchState, who: str | None) -> str:
    mode = KillSwitchMode(state.mode)
    if who is None and not state.reason:
        return f"{mode.value} (never changed): {WHAT_PASSES[mode]}"
    word = mode.value if mode is KillSwitchMode.ACTIVE else f"ENGAGED, {mode.value}"
    since = f"{state.changed_at:%Y-%m-%d %H:%M:%S %Z}"
    return f"{word}: {WHAT_PASSES[mode]}; since {since} by {who}: {state.reason}"


def _mode(value: str) -> KillSwitchMode:
    try:
        return KillSwitchMode(value)
    except ValueError:
        raise ConfigError(
            f"{value!r} is not a kill-switch mode; choose {MODES}", field="MODE"
        ) from None


@kill_switch_app.command("status")
@user_errors
def status_command() -> None:
    """Print the kill-switch mode, what it lets through, since when, by whom and why."""
    from quant_db import controls

    async def read(session: AsyncSession) -> str:
        state = await controls.kill_switch(session)
        return _describe(state, await controls.changed_by(session, state))

    typer.echo(in_session(read))


def _change(mode: KillSwitchMode, reason: str, username: str) -> None:
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
        state = await controls.set_kill_switch_mode(
            session,
            user=user,
            mode=mode,
            reason=reason,
            request_id=cli_request_id(),
            via=cli_via(),
        )
        await session.commit()
        return _describe(state, user.username)

    typer.echo(in_session(change))


@kill_switch_app.command("set-mode")
@user_errors
def set_mode_command(
    mode: Annotated[str, typer.Argument(metavar="MODE", help=f"one of {MODES}")],
    reason: Reason,
    user: AsUser,
) -> None:
    """Set the kill-switch mode as --user, with --reason (audited; see ADR 0024)."""
    _change(_mode(mode), reason, user)


@kill_switch_app.command("engage")
@user_errors
def engage_command(reason: Reason, user: AsUser) -> None:
    """Halt new entries: set halt_entries as --user, with --reason (audited)."""
    from quant_db.controls import ENGAGE_MODE

    _change(ENGAGE_MODE, reason, user)


@kill_switch_app.command("release")
@user_errors
def release_command(reason: Reason, user: AsUser) -> None:
    """Resume trading: set active as --user, with --reason (audited)."""
    _change(KillSwitchMode.ACTIVE, reason, user)
