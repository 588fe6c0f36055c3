"""`quant api` serves the /v1 HTTP API; `quant users create` adds someone who may sign in to it."""

# ruff: noqa: PLC0415 - FastAPI, uvicorn and the database load when a command runs, not for --help
from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from quant_cli.errors import user_errors
from quant_db.embedded import database_url, redis_url
from quant_db.schema.identity import Role
from quant_db.settings import get_settings as storage_settings

PASSWORD_ENV = "QUANT_PASSWORD"
WORKER_HEALTHCHECK_S = 120

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
        from quant_db.migrate import migrated_url

        migrated_url(storage_settings())
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
    )


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


async def _create(url: str, username: str, password: str, role: Role) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from quant_api.auth import Passwords
    from quant_api.settings import get_settings as api_settings
    from quant_api.users import create_user

    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            await create_user(
                session, Passwords(api_settings()), username=username, password=password, role=role
            )
    finally:
        await engine.dispose()


@users_app.command("create")
@user_errors
def create_command(
    username: Annotated[str, typer.Option(help="sign-in name (3-64 of A-Z a-z 0-9 . _ @ -)")],
    role: Annotated[Role, typer.Option(help="viewer < trader < admin")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar=PASSWORD_ENV,
            help=f"default: ${PASSWORD_ENV}, else a prompt (safer: not in shell history)",
        ),
    ] = None,
) -> None:
    """Create an active API user with an argon2-hashed password."""
    from quant_api.users import check_new_user
    from quant_db.migrate import upgrade
    from quant_db.urls import redacted

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    check_new_user(username, password)  # before the database is started
    url = database_url(storage_settings())
    upgrade(url)
    asyncio.run(_create(url, username, password, role))
    typer.echo(f"created {role.value} {username!r} in {redacted(url)}")
