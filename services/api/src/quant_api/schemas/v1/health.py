"""GET /v1/health: what runs, whether its database and Redis answer, its workers and its queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class DependencyStatus(BaseModel):
    status: Literal["ok", "down"]
    latency_ms: float | None = Field(description="round trip of SELECT 1 / PING when ok")
    error: str | None = Field(description="why it is down")


class WorkerPublic(BaseModel):
    """A live `quant worker` process, as it last announced itself in Redis."""

    id: str = Field(description="host:pid")
    host: str
    pid: int
    started_at: datetime
    last_seen: datetime = Field(description="its last beat (every ~10 s; gone after 30 s)")
    concurrency: int = Field(description="runs it executes at once")
    current_runs: list[uuid.UUID] = Field(description="ids of the runs it is executing now")


class WorkersStatus(BaseModel):
    """Live workers. Not part of the overall status: an API without workers still serves every
    read and accepts runs, which wait in the queue (see `queue.queued`) until a worker starts."""

    status: Literal["ok", "none", "unknown"] = Field(
        description="ok: at least one worker alive; none: no worker alive; "
        "unknown: Redis, where workers announce themselves, did not answer"
    )
    count: int | None = Field(description="live workers; null when unknown")
    items: list[WorkerPublic] = Field(description="by id; empty when none or unknown")


class QueueCounts(BaseModel):
    """Runs waiting for a worker and runs being executed, counted from the runs table."""

    queued: int = Field(ge=0)
    running: int = Field(ge=0)


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="degraded when PostgreSQL or Redis is down; workers do not count (see workers)"
    )
    version: str
    git_hash: str
    time: datetime
    database: DependencyStatus
    redis: DependencyStatus
    workers: WorkersStatus
    queue: QueueCounts | None = Field(description="null when the database is down")


class ServiceHeartbeatPublic(BaseModel):
    """A service instance as its last heartbeat described it."""

    service: str
    instance: str = Field(description="host:pid")
    state: Literal["ok", "missing", "stopped"] = Field(
        description="missing: no beat for three intervals (at least 15 s); stopped: it said so"
    )
    started_at: datetime
    last_beat: datetime
    age_s: float = Field(description="seconds since its last beat, by the database clock")
    interval_s: float = Field(description="how often it promised to beat")
    metrics_url: str | None = Field(description="where its Prometheus metrics are served")
    detail: dict[str, Any] = Field(description="what it reports, e.g. broker_connected")


class ServicesPublic(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded when any instance is missing")
    items: list[ServiceHeartbeatPublic] = Field(description="by service, then instance")
