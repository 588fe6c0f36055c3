"""`quant api-keys`: create, list and revoke API keys straight in the database (audited)."""

# ruff: noqa: PLC0415 - the database and the API's modules load when a command runs, not for --help
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from quant_cli.database import cli_request_id, cli_via, in_session
from quant_cli.errors import user_errors
from quant_db.schema.identity import Role

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quant_api.api_keys import Actor

api_keys_app = typer.Typer(
    help="API keys for scripts (long-lived, revocable).", no_args_is_help=True
)


def _actor() -> Actor:
    from quant_api.api_keys import Actor

    return Actor(user=None, request_id=cli_request_id(), via=cli_via())


def _flag_error(exc: Exception) -> Exception:
    from quant_api.api_keys import ApiKeyError
    from quant_domain import QuantError

    if isinstance(exc, ApiKeyError):
        flag = {"role": "--role", "expires_at": "--expires-days", "key_id": "--id"}[exc.field]
        return QuantError(f"{flag}: {exc.message}")
    return exc


@api_keys_app.command("create")
@user_errors
def create_command(
    username: Annotated[str, typer.Option(help="the user the key acts for")],
    name: Annotated[str, typer.Option(help="what the key is for (1-64 characters)")],
    role: Annotated[Role, typer.Option(help="viewer < trader < admin; at most the user's")],
    expires_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="days until it expires (default: never)")
    ] = None,
) -> None:
    """Create a key; it is printed once, on stdout, and stored only as a hash (audited)."""
    from sqlalchemy import select

    from quant_api.api_keys import ApiKeyError, create_key
    from quant_db.schema import User
    from quant_domain import QuantError

    if not 1 <= len(name) <= 64 or "\x00" in name:
        raise QuantError("--name: 1 to 64 characters")
    expires = None if expires_days is None else datetime.now(UTC) + timedelta(days=expires_days)

    async def create(session: AsyncSession) -> str:
        owner = await session.scalar(select(User).where(User.username == username))
        if owner is None:
            raise QuantError(f"--username: no user {username!r}")
        try:
            key, secret = await create_key(
                session, owner, name=name, role=role, expires_at=expires, actor=_actor()
            )
        except ApiKeyError as exc:
            raise _flag_error(exc) from None
        await session.commit()
        typer.echo(
            f"created API key {key.id} ({key.prefix}) for {username!r} as {role.value}; "
            "it is shown this once:",
            err=True,
        )
        return secret

    typer.echo(in_session(create))


@api_keys_app.command("list")
@user_errors
def list_command(
    username: Annotated[str | None, typer.Option(help="only this user's keys")] = None,
) -> None:
    """Every key (or one user's): id, prefix, owner, role, name, created, last used, state."""
    from sqlalchemy import select

    from quant_api.api_keys import list_keys
    from quant_db.schema import User
    from quant_domain import QuantError

    async def listing(session: AsyncSession) -> str:
        owner_id = None
        if username is not None:
            owner_id = await session.scalar(select(User.id).where(User.username == username))
            if owner_id is None:
                raise QuantError(f"--username: no user {username!r}")
        keys = await list_keys(session, owner_id)
        if not keys:
            return (
                "no API keys yet: quant api-keys create --username NAME --name WHAT --role viewer"
            )
        now = datetime.now(UTC)
        lines = []
        for key, owner in keys:
            if key.revoked_at is not None:
                state = "REVOKED"
            elif key.expires_at is not None and key.expires_at <= now:
                state = "EXPIRED"
            else:
                state = "active" + (
                    "" if key.expires_at is None else f" to {key.expires_at:%Y-%m-%d}"
                )
            used = (
                "never used"
                if key.last_used_at is None
                else f"used {key.last_used_at:%Y-%m-%d %H:%M}"
            )
            lines.append(
                f"{key.id:>5}  {key.prefix}  {owner:<16} {key.role.value:<7} {key.name:<24} "
                f"created {key.created_at:%Y-%m-%d}  {used:<22} {state}"
            )
        return "\n".join(lines)

    typer.echo(in_session(listing))


@api_keys_app.command("revoke")
@user_errors
def revoke_command(
    key_id: Annotated[int, typer.Option("--id", min=1, help="the key's id (quant api-keys list)")],
) -> None:
    """Revoke a key: writes with it stop at once, reads within the API's auth cache (audited)."""
    from quant_api.api_keys import ApiKeyError, revoke_key

    async def revoke(session: AsyncSession) -> str:
        try:
            key, owner = await revoke_key(session, key_id, _actor())
        except ApiKeyError as exc:
            raise _flag_error(exc) from None
        await session.commit()
        return f"API key {key.id} ({key.prefix}) of {owner!r} revoked"

    typer.echo(in_session(revoke))
