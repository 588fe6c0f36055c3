"""GET /v1/health: what runs, whether its database and Redis answer, its workers and its queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

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
