"""One session on the platform's database for commands that change it from the shell."""

# ruff: noqa: PLC0415 - SQLAlchemy loads when a command runs, not for --help
from __future__ import annotations

import asyncio
import os
import socket
import uuid
from typing import TYPE_CHECKING

from quant_db.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession


def in_session(work: Callable[[AsyncSession], Awaitable[str]]) -> str:
    """Run `work` with a session on the platform's database (DATABASE_URL or the embedded one,
    migrated first) and return the line it reports; `work` commits what it changes."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from quant_db.migrate import migrated_url

    url = migrated_url(get_settings())

    async def run() -> str:
        engine = create_async_engine(url)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cli_via() -> str:
    """Who made a change from the shell, for its audit entry: this host and process."""
    return f"cli ({socket.gethostname()}, pid {os.getpid()})"


def cli_request_id() -> str:
    """A request id for an audit entry written by a command (`cli-...`, found together)."""
    return f"cli-{uuid.uuid4().hex[:16]}"
