"""What a running app holds: database engine, Redis, rate limits, token and password services."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import anyio.to_thread
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from quant_api.auth import Passwords, Tokens
from quant_api.rate_limits import RateLimits
from quant_api.settings import ApiSettings, resolve_jwt_secret
from quant_api.strategy_catalog import sync_strategies
from quant_db import embedded
from quant_db.migrate import upgrade
from quant_db.settings import get_settings as storage_settings


@lru_cache(maxsize=1)
def package_version() -> str:
    try:
        return version("quant-api")
    except PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def git_hash() -> str:
    """Short commit of the checkout this code runs from, or "unknown" (an installed wheel)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "unknown"


@dataclass(frozen=True, slots=True)
class AppResources:
    settings: ApiSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    limits: RateLimits
    tokens: Tokens
    passwords: Passwords
    version: str
    git_hash: str

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()


async def open_resources(
    settings: ApiSettings, database_url: str | None, redis_url: str | None
) -> AppResources:
    """Resolve the URLs (embedded servers when none is configured), migrate, sync strategies."""
    if database_url is None:
        database_url = await anyio.to_thread.run_sync(embedded.database_url, storage_settings())
    if redis_url is None:
        redis_url = await anyio.to_thread.run_sync(embedded.redis_url, storage_settings())
    db_url, cache_url = database_url, redis_url
    await anyio.to_thread.run_sync(upgrade, db_url)
    engine = create_async_engine(db_url, pool_pre_ping=True)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        await sync_strategies(sessions, settings.strategies_dir)
        secret = await anyio.to_thread.run_sync(resolve_jwt_secret, settings)
        revision = await anyio.to_thread.run_sync(git_hash)
    except BaseException:
        await engine.dispose()
        raise
    return AppResources(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=Redis.from_url(cache_url, socket_timeout=2, socket_connect_timeout=2),
        limits=RateLimits(settings, cache_url),
        tokens=Tokens.from_settings(settings, secret),
        passwords=Passwords(settings),
        version=package_version(),
        git_hash=revision,
    )
