"""What a running app holds: database engine, Redis, rate limits, token and password services."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Generic, TypeVar

import anyio.to_thread
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from quant_api.auth import Passwords, SignedInUsers, Tokens
from quant_api.login_limits import LoginLimits
from quant_api.rate_limits import RateLimits
from quant_api.settings import ApiSettings, resolve_jwt_secret
from quant_api.strategy_catalog import StrategyCatalog
from quant_db import embedded
from quant_db.migrate import upgrade
from quant_db.provenance import code_version
from quant_db.settings import get_settings as storage_settings
from quant_telemetry import add_secrets

K = TypeVar("K")
V = TypeVar("V")
CURVE_CACHE_SIZE = 256
CONNECT_TIMEOUT_S = 5.0  # a server that does not answer: 503 after this, not a hung request
POOL_WAIT_S = 10.0  # every pooled connection busy for this long: 503 (SQLAlchemy waits 30 s)


def package_version() -> str:
    try:
        return version("quant-api")
    except PackageNotFoundError:
        return "unknown"


class BoundedCache(Generic[K, V]):
    """At most `size` entries; the least recently used one goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


@dataclass(frozen=True, slots=True)
class AppResources:
    settings: ApiSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    limits: RateLimits
    tokens: Tokens
    passwords: Passwords
    git_hash: str  # short commit of the checkout (QUANT_CODE_VERSION when set), or "unknown"
    signed_in: SignedInUsers
    catalog: StrategyCatalog  # the strategy folders, synced again when a file in them changes
    login_limits: LoginLimits
    # completed runs' chart answers (equity curve, analytics) as JSON by (route, run id,
    # points): they never change, dashboards poll them
    equity_curves: BoundedCache[tuple[str, uuid.UUID, int], bytes] = field(
        default_factory=lambda: BoundedCache(CURVE_CACHE_SIZE)
    )

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
    await anyio.to_thread.run_sync(upgrade, database_url)
    engine = create_async_engine(
        database_url,
        # a connection that died with its server is replaced on checkout, so the API serves again
        # by itself when PostgreSQL comes back; until then requests fail fast with a 503
        pool_pre_ping=True,
        pool_timeout=POOL_WAIT_S,
        connect_args={
            "timeout": CONNECT_TIMEOUT_S,
            # set per connection by the server itself: it also bounds COPY and raw asyncpg calls
            "server_settings": {"statement_timeout": str(settings.statement_timeout_ms)},
        },
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        catalog = StrategyCatalog(sessions, settings.strategies_dir)
        await catalog.sync()
        secret = await anyio.to_thread.run_sync(resolve_jwt_secret, settings)
        add_secrets([secret])  # a generated signing key is never logged either
        revision = await anyio.to_thread.run_sync(partial(code_version, short=True))
    except BaseException:
        await engine.dispose()
        raise
    redis = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    return AppResources(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=redis,
        limits=RateLimits(settings, redis_url),
        tokens=Tokens.from_settings(settings, secret),
        passwords=Passwords(settings),
        git_hash=revision,
        signed_in=SignedInUsers(settings.auth_cache_seconds),
        catalog=catalog,
        login_limits=LoginLimits(settings, redis),
    )
