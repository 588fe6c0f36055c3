"""Alerts raised by the platform and their acknowledgement."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


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
