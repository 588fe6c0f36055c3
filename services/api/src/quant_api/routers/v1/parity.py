"""GET /v1/runs/{run_id}/parity: two stored runs lined up order by order (any signed-in user)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Query, Request, Response

from quant_api.deps import CurrentUser, SessionDep
from quant_api.errors import ApiError, error_responses, not_found
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.parity import ParityLinePublic, ParityPublic, ParitySidePublic
from quant_db.run_trades import StoredRun, default_counterpart, load_run_trades
from quant_engine.parity import compare

router = APIRouter(prefix="/runs", tags=["runs"])


def _side(run: StoredRun) -> ParitySidePublic:
    # load_run_trades gives no training runs (they trade nothing), so the type is one of these
    kind = cast("Literal['backtest', 'walk_forward', 'paper', 'live']", run.type.value)
    return ParitySidePublic(
        id=run.id,
        name=run.name,
        type=kind,
        strategy_id=run.strategy_id,
        status=run.status.value,
        created_at=run.created_at,
        orders=len(run.orders),
        steps=None if run.steps is None else len(run.steps),
        final_equity=run.final_equity,
    )


@router.get(
    "/{run_id}/parity",
    summary="Line up two runs over the same bars and name every difference",
    description=(
        "Orders are matched by client order id, then by the id's session and sequence (the same "
        "decision on another account), then by bar and symbol. Each difference is a different "
        "decision, a different fill price (the fill model, the costs), a rejection (with its "
        "code) or a missed bar (a step one run has and the other lacks). Fills and final equity "
        "are compared to the cent. Without `against`, a paper or live session is compared with "
        "its strategy's latest completed backtest, a backtest with its latest paper session "
        "(404 when there is none)."
    ),
    response_model=ParityPublic,
    responses=error_responses(401, 404, 422, 429, 503),
)
@rate_limited(LimitScope.READS)
async def get_parity(
    request: Request,
    response: Response,
    run_id: uuid.UUID,
    _user: CurrentUser,
    session: SessionDep,
    against: Annotated[
        uuid.UUID | None, Query(description="the other run's id (default: see above)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="differences to return")] = 200,
) -> ParityPublic:
    run = await load_run_trades(session, run_id)
    if run is None:
        raise not_found("run", run_id)
    if against is None:
        against = await default_counterpart(session, run)
        if against is None:
            raise ApiError(
                404,
                f"no completed run of {run.strategy_id} to compare run {run_id} with: pass "
                "`against`",
                field="query.against",
            )
    other = await load_run_trades(session, against)
    if other is None:
        raise ApiError(404, f"against: no run {against} exists", field="query.against")
    left, right = run.name, other.name
    if left == right:
        left, right = f"{left} (this run)", f"{right} (against)"
    report = compare(run, other, left, right)
    differences = report.differences
    return ParityPublic(
        run=_side(run),
        against=_side(other),
        identical=report.identical,
        summary=report.summary(),
        orders=report.orders,
        counts=report.counts(),
        notes=report.notes,
        differences=[
            ParityLinePublic(
                client_order_id=line.client_order_id,
                decided_at=line.decided_at,
                symbol=line.symbol,
                verdict=line.verdict,  # type: ignore[arg-type]
                detail=line.detail,
            )
            for line in differences[:limit]
        ],
        truncated=len(differences) > limit,
    )
