"""Reconciliation: does each broker account hold what the platform stored? Read by any signed-in
user; a blocked account is resolved by an admin (adopt or flatten), audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select

from quant_api.deps import AdminUser, CurrentUser, RequestId, SessionDep
from quant_api.errors import ApiError, error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.reconciliation import (
    DifferencePublic,
    ReconciliationPublic,
    ReconciliationResolve,
)
from quant_db.reconciliation import (
    NothingToResolve,
    reconciliation_state,
    resolve_reconciliation,
)
from quant_db.schema import User
from quant_db.schema.execution import Reconciliation

router = APIRouter(prefix="/reconciliation", tags=["reconciliation"])

NOTE = (
    "The execution service compares each broker account's working orders and positions with "
    "what PostgreSQL holds before a session's first order (a paper session today; after every "
    "reconnect once live brokers exist). Any difference blocks every order until an admin "
    "resolves it; nothing is traded to make the two agree. An account with no row was never "
    "checked, which also means no order may be sent for it."
)

RESOLVE_NOTE = (
    "Only a `blocked` account can be resolved (else 409; an account never checked is a 404). "
    "The decision is recorded with the admin and the reason, and audited "
    "(`reconciliation.resolve`); the account becomes `pending` until the execution service "
    "carries it out between two steps: `adopt` takes the broker's working orders and positions "
    "into our books (each audited; nothing is sent, no fill is invented), `flatten` does the "
    "same and then cancels every working order and closes every position through the broker. "
    "It then checks again: `clean` lets orders through, with `carried_out_at` set."
)

Account = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="the broker account, as GET /v1/reconciliation lists it",
    ),
]


def _public(row: Reconciliation, resolved_by: str | None) -> ReconciliationPublic:
    diff: dict[str, Any] = row.diff or {}
    return ReconciliationPublic(
        account=row.account,
        state=row.state.value,
        checked_at=row.checked_at,
        run_id=row.run_id,
        differences=[DifferencePublic(**d) for d in diff.get("differences", [])],
        resolution=None if row.resolution is None else row.resolution.value,
        resolved_by=resolved_by,
        resolved_at=row.resolved_at,
        reason=row.reason,
        carried_out_at=row.carried_out_at,
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
    rows = await session.execute(
        select(Reconciliation, User.username)
        .outerjoin(User, User.id == Reconciliation.resolved_by)
        .order_by(Reconciliation.account)
    )
    return [_public(row, username) for row, username in rows]


@router.post(
    "/{account}/resolve",
    summary="Resolve a blocked account: adopt the broker's state or flatten (admin; audited)",
    description=RESOLVE_NOTE,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def resolve(
    account: Account,
    body: ReconciliationResolve,
    admin: AdminUser,
    session: SessionDep,
    request_id: RequestId,
) -> ReconciliationPublic:
    if await reconciliation_state(session, account) is None:
        raise ApiError(
            404, f"account {account} was never reconciled; nothing to resolve", field="path.account"
        )
    try:
        row = await resolve_reconciliation(
            session,
            account=account,
            user=admin,
            resolution=body.action,
            reason=body.reason,
            request_id=request_id,
            via="api",
        )
    except NothingToResolve as exc:
        raise ApiError(409, str(exc), field="path.account") from None
    await session.commit()
    await session.refresh(row)
    return _public(row, admin.username)
