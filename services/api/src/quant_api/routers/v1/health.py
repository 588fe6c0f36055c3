"""GET /v1/health: always 200, so a monitoring probe can see which dependency is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from quant_api.deps import ResourcesDep
from quant_api.schemas.v1.health import DependencyStatus, HealthPublic

router = APIRouter(tags=["health"])


async def _probe(check: Callable[[], Awaitable[Any]], timeout: float) -> DependencyStatus:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await check()
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else "no answer"
        return DependencyStatus(
            status="down", latency_ms=None, error=f"{type(exc).__name__}: {reason}"
        )
    return DependencyStatus(
        status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2), error=None
    )


@router.get("/health", summary="Version and the status of PostgreSQL and Redis (no sign-in)")
async def health(request: Request, resources: ResourcesDep) -> HealthPublic:
    async def select_one() -> None:
        async with resources.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def ping() -> None:
        await resources.redis.ping()

    timeout = resources.settings.health_timeout_seconds
    database, redis = await asyncio.gather(_probe(select_one, timeout), _probe(ping, timeout))
    ok = database.status == "ok" and redis.status == "ok"
    return HealthPublic(
        status="ok" if ok else "degraded",
        version=request.app.version,
        git_hash=resources.git_hash,
        time=datetime.now(UTC),
        database=database,
        redis=redis,
    )
