"""Each account's reconciliation with its broker, as the execution service last stored it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from quant_api.schemas.v1.common import Reason


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
    resolved_by: str | None = Field(description="the admin who decided (username)")
    resolved_at: datetime | None
    reason: str
    carried_out_at: datetime | None = Field(
        description="when the execution service carried the decision out; null while it waits"
    )


class ReconciliationResolve(BaseModel):
    """An admin's decision on a blocked account, carried out by the execution service."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["adopt", "flatten"] = Field(
        description="adopt: our books take the broker's orders and positions, nothing is sent; "
        "flatten: the broker's working orders are cancelled and its positions closed"
    )
    reason: Reason = Field(description="why; recorded with the decision and in the audit log")
