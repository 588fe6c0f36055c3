"""Alerts: list (any signed-in user) and acknowledge (trader or admin)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select, update

from quant_api.deps import (
    AlertDep,
    CurrentUser,
    PageParams,
    RequestId,
    SessionDep,
    TraderUser,
    equal_to,
    from_attributes,
)
from quant_api.errors import conflict, error_responses, not_found
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.alerts import (
    AlertCounts,
    AlertPublic,
    AlertsAcknowledge,
    AlertsAcknowledged,
)
from quant_api.schemas.v1.common import Label, Page
from quant_db.audit import record
from quant_db.schema import Alert

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get(
    "",
    summary="Alerts, newest first; filter on whether they are acknowledged",
    responses=error_responses(401, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_alerts(
    request: Request,
    response: Response,
    _user: CurrentUser,
    session: SessionDep,
    pages: PageParams,
    acknowledged: bool | None = None,
    severity: Label | None = None,
) -> Page[AlertPublic]:
    conditions = equal_to(Alert, severity=severity)
    if acknowledged is not None:
        conditions.append(
            Alert.acknowledged_at.is_not(None) if acknowledged else Alert.acknowledged_at.is_(None)
        )
    return await pages.fetch(
        session, Alert, conditions, [Alert.ts.desc(), Alert.id.desc()], from_attributes(AlertPublic)
    )


@router.patch(
    "/{alert_id}/acknowledge",
    summary="Acknowledge an alert (trader or admin); 409 when it already is",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def acknowledge_alert(
    trader: TraderUser, alert: AlertDep, session: SessionDep, request_id: RequestId
) -> AlertPublic:
    # conditional update: of two concurrent acknowledgements exactly one wins
    acknowledged = await session.scalar(
        update(Alert)
        .where(Alert.id == alert.id, Alert.acknowledged_at.is_(None))
        .values(acknowledged_at=datetime.now(UTC), acknowledged_by=trader.id)
        .returning(Alert.id)
        .execution_options(synchronize_session="fetch")
    )
    if acknowledged is None:
        raise conflict(f"alert {alert.id} was already acknowledged at {alert.acknowledged_at}")
    record(
        session,
        user=trader,
        action="alert.acknowledge",
        target_type="alert",
        target_id=str(alert.id),
        detail={"message": alert.message},
        request_id=request_id,
    )
    await session.commit()
    await session.refresh(alert)
    return AlertPublic.model_validate(alert, from_attributes=True)


@router.get(
    "/counts",
    summary="Unacknowledged alerts by severity (the dashboard's header)",
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def alert_counts(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> AlertCounts:
    rows = (
        await session.execute(
            select(Alert.severity, func.count())
            .where(Alert.acknowledged_at.is_(None))
            .group_by(Alert.severity)
        )
    ).all()
    counts = {str(severity): int(n) for severity, n in rows}
    known = {name: counts.pop(name, 0) for name in ("critical", "warning", "info")}
    return AlertCounts(**known, other=sum(counts.values()), total=sum(n for _, n in rows))


@router.post(
    "/acknowledge",
    summary="Acknowledge many alerts at once (trader or admin); 404 naming unknown ids",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def acknowledge_alerts(
    body: AlertsAcknowledge, trader: TraderUser, session: SessionDep, request_id: RequestId
) -> AlertsAcknowledged:
    found = set((await session.scalars(select(Alert.id).where(Alert.id.in_(body.ids)))).all())
    missing = [i for i in body.ids if i not in found]
    if missing:
        raise not_found("alert", ", ".join(str(i) for i in missing[:20]))
    # conditional update: an alert acknowledged concurrently is counted once, by whoever won
    done = set(
        (
            await session.scalars(
                update(Alert)
                .where(Alert.id.in_(body.ids), Alert.acknowledged_at.is_(None))
                .values(acknowledged_at=datetime.now(UTC), acknowledged_by=trader.id)
                .returning(Alert.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    for alert_id in sorted(done):
        record(
            session,
            user=trader,
            action="alert.acknowledge",
            target_type="alert",
            target_id=str(alert_id),
            detail={"bulk": len(body.ids)},
            request_id=request_id,
        )
    await session.commit()
    return AlertsAcknowledged(
        acknowledged=sorted(done), already=sorted(i for i in body.ids if i not in done)
    )
