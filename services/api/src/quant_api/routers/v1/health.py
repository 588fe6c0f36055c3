"""GET /v1/health: always 200, so a monitoring probe can see which dependency is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select, text

from quant_api.deps import CurrentUser, ResourcesDep, SessionDep
from quant_api.errors import error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.resources import AppResources
from quant_api.schemas.v1.health import (
    DependencyStatus,
    HealthPublic,
    QueueCounts,
    ServiceHeartbeatPublic,
    ServicesPublic,
    WorkerPublic,
    WorkersStatus,
)
from quant_db.heartbeats import last_beats
from quant_db.presence import alive
from quant_db.schema import Run
from quant_db.schema.runs import RunStatus

router = APIRouter(tags=["health"])
T = TypeVar("T")


async def _probe(
    service: str, check: Callable[[], Awaitable[Any]], timeout: float
) -> DependencyStatus:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await check()
    except TimeoutError:
        error = f"{service} did not answer within {timeout:g} s"
        return DependencyStatus(status="down", latency_ms=None, error=error)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else "no answer"
        error = f"{service}: {type(exc).__name__}: {reason}"
        return DependencyStatus(status="down", latency_ms=None, error=error)
    return DependencyStatus(
        status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2), error=None
    )


async def _or_none(read: Callable[[], Awaitable[T]], timeout: float) -> T | None:
    """`read()`, or None when it fails or takes longer than `timeout` (health never fails)."""
    try:
        async with asyncio.timeout(timeout):
            return await read()
    except Exception:
        return None


async def _queue_counts(resources: AppResources) -> QueueCounts:
    async with resources.engine.connect() as connection:
        queued, running = (
            await connection.execute(
                select(
                    func.count().filter(Run.status == RunStatus.QUEUED),
                    func.count().filter(Run.status == RunStatus.RUNNING),
                ).where(Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
            )
        ).one()
    return QueueCounts(queued=queued, running=running)


async def _workers(resources: AppResources) -> WorkersStatus:
    found = await alive(resources.redis, resources.settings.worker_key_prefix)
    return WorkersStatus(
        status="ok" if found else "none",
        count=len(found),
        items=[WorkerPublic.model_validate(w.model_dump()) for w in found],
    )


@router.get(
    "/health",
    summary="Version, PostgreSQL and Redis status, live workers and the queue (no sign-in)",
)
async def health(request: Request, resources: ResourcesDep) -> HealthPublic:
    async def select_one() -> None:
        async with resources.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def ping() -> None:
        await resources.redis.ping()

    timeout = resources.settings.health_timeout_seconds
    database, redis, workers, queue = await asyncio.gather(
        _probe("PostgreSQL", select_one, timeout),
        _probe("Redis", ping, timeout),
        _or_none(lambda: _workers(resources), timeout),
        _or_none(lambda: _queue_counts(resources), timeout),
    )
    ok = database.status == "ok" and redis.status == "ok"
    return HealthPublic(
        status="ok" if ok else "degraded",
        version=request.app.version,
        git_hash=resources.git_hash,
        time=datetime.now(UTC),
        database=database,
        redis=redis,
        workers=workers
        if workers is not None and redis.status == "ok"
        else WorkersStatus(status="unknown", count=None, items=[]),
        queue=queue if database.status == "ok" else None,
    )


@router.get(
    "/health/services",
    summary="Each service's last heartbeat, its state (ok / missing / stopped) and metrics URL",
    # it reads PostgreSQL, so unlike /v1/health it answers 503 while the database is unreachable
    responses={**error_responses(401, 429), **error_responses(503, non_json_route=True)},
)
@rate_limited(LimitScope.READS)
async def services(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> ServicesPublic:
    beats = await last_beats(session)
    return ServicesPublic(
        status="degraded" if any(b.state == "missing" for b in beats) else "ok",
        items=[ServiceHeartbeatPublic.model_validate(asdict(b)) for b in beats],
    )
