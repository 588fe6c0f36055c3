"""Reconciliation: does each broker account hold what the platform stored? (any signed-in user)"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from quant_api.deps import CurrentUser, SessionDep
from quant_api.errors import error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.reconciliation import DifferencePublic, ReconciliationPublic
from quant_db.schema.execution import Reconciliation

router = APIRouter(prefix="/reconciliation", tags=["reconciliation"])

NOTE = (
    "The execution service compares each broker account's working orders and positions with "
    "what PostgreSQL holds before a session's first order (a paper session today; after every "
    "reconnect once live brokers exist). Any difference blocks every order until an admin "
    "resolves it; nothing is traded to make the two agree. An account with no row was never "
    "checked, which also means no order may be sent for it."
)


def _public(row: Reconciliation) -> ReconciliationPublic:
    diff: dict[str, Any] = row.diff or {}
    return ReconciliationPublic(
        account=row.account,
        state=row.state.value,
        checked_at=row.checked_at,
        run_id=row.run_id,
        differences=[DifferencePublic(**d) for d in diff.get("differences", [])],
        resolution=None if row.resolution is None else row.resolution.value,
        resolved_at=row.resolved_at,
        reason=row.reason,
    )


@router.get(
    "",
    summary="Each account's last reconciliation with its broker",
    description=NOTE,
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def list_reconciliation(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> list[ReconciliationPublic]:
    rows = await session.scalars(select(Reconciliation).order_by(Reconciliation.account))
    return [_public(row) for row in rows]
