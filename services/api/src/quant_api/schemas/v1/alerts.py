"""Alerts raised by the platform and their acknowledgement."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator


class AlertPublic(BaseModel):
    id: int
    ts: datetime
    severity: str
    source: str
    message: str
    strategy_id: str | None
    run_id: uuid.UUID | None
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    dedupe_key: str | None = Field(
        default=None, description="names the fact; the same key is delivered once per 5 minutes"
    )
    title: str | None = None
    context: dict[str, Any] | None = Field(default=None, description="figures behind the alert")


class AlertsAcknowledge(BaseModel):
    """Alerts to acknowledge at once (the dashboard's "acknowledge selected")."""

    ids: list[int] = Field(min_length=1, max_length=500, description="alert ids, each once")

    @field_validator("ids")
    @classmethod
    def _once_each(cls, ids: list[int]) -> list[int]:
        if len(set(ids)) != len(ids):
            raise ValueError("each id once")
        return ids


class AlertsAcknowledged(BaseModel):
    acknowledged: list[int] = Field(description="acknowledged by this request")
    already: list[int] = Field(description="acknowledged before (left as they were)")


class AlertCounts(BaseModel):
    """Unacknowledged alerts by severity, for the dashboard's header."""

    critical: int = Field(ge=0)
    warning: int = Field(ge=0)
    info: int = Field(ge=0)
    other: int = Field(ge=0, description="severities other than the three above")
    total: int = Field(ge=0)
