"""GET /v1/health: what runs, and whether its database and Redis answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class DependencyStatus(BaseModel):
    status: Literal["ok", "down"]
    latency_ms: float | None = Field(description="round trip of SELECT 1 / PING when ok")
    error: str | None = Field(description="why it is down")


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded when any dependency is down")
    version: str
    git_hash: str
    time: datetime
    database: DependencyStatus
    redis: DependencyStatus
