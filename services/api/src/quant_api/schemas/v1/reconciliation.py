"""Each account's reconciliation with its broker, as the execution service last stored it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class DifferencePublic(BaseModel):
    kind: Literal["unknown_broker_order", "order_not_at_broker", "position_mismatch"]
    key: str = Field(description="the client order id, or the symbol of a position")
    broker: str = Field(description="what the broker holds, in words")
    ours: str = Field(description="what the platform stored, in words")


class ReconciliationPublic(BaseModel):
    account: str
    state: Literal["clean", "pending", "blocked"] = Field(
        description="clean: orders may be sent; pending or blocked: every order is refused"
    )
    checked_at: datetime
    run_id: uuid.UUID | None = Field(description="the session that ran the check")
    differences: list[DifferencePublic]
    resolution: Literal["adopt", "flatten"] | None = Field(
        description="an admin's last decision on a blocked account"
    )
    resolved_at: datetime | None
    reason: str
