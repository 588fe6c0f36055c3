"""`quant api` serves the /v1 HTTP API; `quant users` manages who may sign in to it."""

# ruff: noqa: PLC0415 - FastAPI, uvicorn and the database load when a command runs, not for --help
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quant_cli.database import cli_request_id, cli_via, in_session
from quant_cli.errors import user_errors
from quant_db.embedded import database_url, redis_url
from quant_db.schema.identity import Role
from quant_db.settings import get_settings as storage_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quant_api.users import Origin

PASSWORD_ENV = "QUANT_PASSWORD"
WORKER_HEALTHCHECK_S = 120

PasswordOption = Annotated[
    str | None,
    typer.Option(
        envvar=PASSWORD_ENV,
        help=f"default: ${PASSWORD_ENV}, else a prompt (safer: not in shell history)",
    ),
]

users_app = typer.Typer(help="Users of the HTTP API.", no_args_is_help=True)


@user_errors
def api_command(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            envvar="QUANT_API_WORKERS",
            help="processes serving requests (uvicorn workers); one per core for heavy load",
        ),
    ] = 1,
) -> None:
    """Serve the /v1 API (migrates the database and syncs configs/strategies at startup)."""
    import uvicorn

    base = f"http://{host}:{port}"
    typer.echo(f"API      {base}/v1")
    typer.echo(f"docs     {base}/docs")
    typer.echo(f"OpenAPI  {base}/v1/openapi.json")
    if workers > 1:
        _prepare_for_workers()
    else:  # a database that cannot be used is one line here, not a traceback at app startup
        from quant_db.migrate import check_reachable

        check_reachable(database_url(storage_settings()))
    from quant_api.settings import get_settings as api_settings

    # the API logs every request itself (JSON, with request ids); uvicorn's access log would repeat it
    uvicorn.run(
        "quant_api.app:create_app",
        factory=True,
        host=host,
        port=port,
        access_log=False,
        workers=workers,
        # a spawned worker imports the API's stack (FastAPI, SQLAlchemy, the strategy classes:
        # seconds on a busy machine) before it can answer
        # the supervisor's health check; uvicorn's default 5 s would kill it over and over
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        **proxy_options(api_settings().trusted_proxies),
    )


def proxy_options(trusted: list[str]) -> dict[str, Any]:
    """uvicorn's proxy-header settings: X-Forwarded-For/-Proto believed only from `trusted`
    (QUANT_TRUSTED_PROXIES), and with none, not read at all (ADR 0016).

    uvicorn's own default trusts 127.0.0.1 (or FORWARDED_ALLOW_IPS): any local process, the
    dashboard's server among them, could then pick the client address the API counts sign-ins by.
    """
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": list(trusted)}


def _prepare_for_workers() -> None:
    """Start embedded servers, migrate, sync strategies and make the JWT secret once, here.

    Each worker does the same at its startup, but then finds everything done: no two processes
    race to create tables, strategy rows or the secret file, and all share one set of servers.
    """
    from quant_api.resources import open_resources
    from quant_api.settings import get_settings as api_settings

    storage = storage_settings()
    db, cache = database_url(storage), redis_url(storage)

    async def prepare() -> None:
        resources = await open_resources(api_settings(), db, cache)
        await resources.close()

    asyncio.run(prepare())
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = db, cache
    _multiprocess_metrics(storage.quant_state_dir)


def _multiprocess_metrics(state_dir: Path) -> None:
    """Workers share their metrics through files in one folder (ADR 0039): PROMETHEUS_MULTIPROC_DIR
    if set, else one in the state folder; emptied first, as a previous run's files would add up.
    Set here, before uvicorn spawns the workers, which read it when they import
    prometheus_client."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or state_dir / "metrics-api")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


@users_app.command("create")
@user_errors
def create_command(
    username: Annotated[str, typer.Option(help="sign-in name (3-64 of A-Z a-z 0-9 . _ @ -)")],
    role: Annotated[Role, typer.Option(help="viewer < trader < admin")],
    password: PasswordOption = None,
) -> None:
    """Create an active API user with an argon2-hashed password."""
    from quant_api.auth import Passwords
    from quant_api.settings import get_settings as api_settings
    from quant_api.users import check_new_user, create_user
    from quant_db.urls import redacted

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    check_new_user(username, password)  # before the database is started

    async def create(session: AsyncSession) -> str:
        passwords = Passwords(api_settings())
        await create_user(session, passwords, username=username, password=password, role=role)
        await session.commit()
        return f"created {role.value} {username!r} in {redacted(database_url(storage_settings()))}"

    typer.echo(in_session(create))


Username = Annotated[str, typer.Option(help="the user's sign-in name")]


def _origin() -> Origin:
    from quant_api.users import Origin

    return Origin(via=cli_via(), request_id=cli_request_id())


@users_app.command("list")
@user_errors
def list_command() -> None:
    """Every user: name, role, whether they may sign in, when they were created."""
    from quant_api.users import list_users

    async def listing(session: AsyncSession) -> str:
        users = await list_users(session)
        if not users:
            return "no users yet: quant users create --username NAME --role admin"
        return "\n".join(
            f"{u.username:<24} {u.role.value:<8} {'active' if u.is_active else 'DEACTIVATED':<11} "
            f"created {u.created_at:%Y-%m-%d %H:%M} UTC"
            for u in users
        )

    typer.echo(in_session(listing))


def _set_active(username: str, active: bool) -> None:
    from quant_api.users import set_active

    async def change(session: AsyncSession) -> str:
        revoked = await set_active(session, username, active, origin=_origin())
        await session.commit()
        if active:
            return f"{username!r} may sign in again"
        return f"{username!r} deactivated; {revoked} refresh token(s) revoked"

    typer.echo(in_session(change))


@users_app.command("deactivate")
@user_errors
def deactivate_command(username: Username) -> None:
    """Stop a user signing in; their sessions end at once (audited)."""
    _set_active(username, False)


@users_app.command("activate")
@user_errors
def activate_command(username: Username) -> None:
    """Let a deactivated user sign in again, with their password (audited)."""
    _set_active(username, True)


@users_app.command("set-role")
@user_errors
def set_role_command(
    username: Username, role: Annotated[Role, typer.Option(help="viewer < trader < admin")]
) -> None:
    """Change a user's role; it applies to their next request (audited)."""
    from quant_api.users import set_role

    async def change(session: AsyncSession) -> str:
        before = await set_role(session, username, role, origin=_origin())
        await session.commit()
        return f"{username!r}: {before.value} -> {role.value}"

    typer.echo(in_session(change))


@users_app.command("set-password")
@user_errors
def set_password_command(
    username: Username,
    password: PasswordOption = None,
) -> None:
    """Give a user a new password; their sessions end at once (audited)."""
    from quant_api.auth import Passwords
    from quant_api.settings import get_settings as api_settings
    from quant_api.users import check_password, set_password

    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    check_password(password, username)  # before the database is started

    async def change(session: AsyncSession) -> str:
        passwords = Passwords(api_settings())
        revoked = await set_password(session, passwords, username, password, origin=_origin())
        await session.commit()
        return f"new password for {username!r}; {revoked} refresh token(s) revoked"

    typer.echo(in_session(change))
