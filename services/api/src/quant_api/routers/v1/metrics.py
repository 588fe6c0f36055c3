"""GET /v1/metrics/summary: every strategy of a mode with its own headline run, never summed."""

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
    summary="Each strategy of a mode with its headline run's PnL, return, Sharpe and drawdown",
    description=(
        "For every strategy in `mode`: its headline run of that mode's kind (BACKTEST: the "
        "reference run, else the most recently finished completed backtest or walk-forward; "
        "PAPER / LIVE: the latest completed paper / live run), cut to the `period` ending at "
        "that run's last point. Nothing is added across runs (ADR 0018): backtests ran on their "
        "own capital and dates, and paper or live results will be summed only within one "
        "account, which does not exist yet (`aggregate_note` says so). Buy-and-hold strategies "
        "are listed apart under `benchmarks`. Period `all` gives the run's own stored metrics; "
        "a shorter period is computed from its equity points, Sharpe annualised with the run's "
        "own periods per year. Strategies with no run to show are named in `without_results`."
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
