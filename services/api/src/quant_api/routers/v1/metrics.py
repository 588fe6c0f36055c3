"""GET /v1/metrics/summary: combined performance of every strategy in a mode."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from quant_api.deps import CurrentUser, SessionDep
from quant_api.downsampling import MAX_POINTS, MIN_POINTS
from quant_api.errors import error_responses
from quant_api.performance import summarize
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.metrics import MetricsSummary, Period
from quant_db.schema.runs import Mode

router = APIRouter(prefix="/metrics", tags=["metrics"])


@router.get(
    "/summary",
    summary="PnL, return, Sharpe, drawdown and win rate of a mode's strategies",
    description=(
        "For every strategy in `mode`, its latest completed run of that mode's kind (backtest, "
        "paper or live) is taken; their equity points are summed on their timestamps and cut "
        "to the `period` ending at the last point. Without data: zeros and an empty curve."
    ),
    responses=error_responses(401, 422, 429),
)
@rate_limited(LimitScope.READS)
async def metrics_summary(
    request: Request,
    response: Response,
    _user: CurrentUser,
    session: SessionDep,
    period: Period = Period.ALL,
    mode: Mode = Mode.BACKTEST,
    points: Annotated[int, Query(ge=MIN_POINTS, le=MAX_POINTS)] = 500,
) -> MetricsSummary:
    return await summarize(session, period, mode, points)
