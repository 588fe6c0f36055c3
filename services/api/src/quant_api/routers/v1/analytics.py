"""A run's charts: its equity curve, and the statistics computed from its full stored series."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select, text
from starlette.concurrency import run_in_threadpool

from quant_api.deps import CurrentUser, ResourcesDep, SessionDep
from quant_api.downsampling import MAX_POINTS, MIN_POINTS
from quant_api.errors import error_responses, not_found
from quant_api.parameter_surface import parameter_surface
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.run_analytics import analytics_of
from quant_api.run_series import downsampled_equity, stored_curve, stored_metric
from quant_api.schemas.v1.analytics import RunAnalytics
from quant_api.schemas.v1.runs import EquitySeries
from quant_db.schema import Run
from quant_db.schema.runs import RunStatus, RunType

router = APIRouter(prefix="/runs", tags=["runs"])

BENCHMARK_METRIC = "benchmark"
"""metric_points name of the run's buy-and-hold benchmark curve (quant_backtest.persist)."""

_RUN_FACTS = text(
    "SELECT status, type, CASE WHEN jsonb_typeof(metrics -> 'periods_per_year') = 'number' "
    "THEN (metrics ->> 'periods_per_year')::float8 END AS periods_per_year, "
    "(config ->> 'benchmark') AS benchmark FROM runs WHERE id = :run_id"
)

Points = Annotated[int, Query(ge=MIN_POINTS, le=MAX_POINTS)]


@router.get(
    "/{run_id}/equity",
    summary="The run's equity curve, downsampled on the server (extremes kept)",
    description=(
        "With more stored points than `points`, the curve is cut into `points / 4` buckets and "
        "each keeps its first, last, lowest and highest point, so peaks and troughs survive."
    ),
    response_model=EquitySeries,
    responses=error_responses(401, 404, 422, 429, 503),
)
@rate_limited(LimitScope.READS)
async def get_equity(
    request: Request,
    response: Response,
    run_id: uuid.UUID,
    _user: CurrentUser,
    session: SessionDep,
    resources: ResourcesDep,
    points: Points = 500,
) -> Response:
    # a completed run's curve never changes and dashboards poll the same runs: its JSON is kept
    # (and served without reading the run row again: runs are never deleted through the API)
    key = ("equity", run_id, points)
    body = resources.equity_curves.get(key)
    if body is None:
        status = await session.scalar(select(Run.status).where(Run.id == run_id))
        if status is None:
            raise not_found("run", run_id)
        body = (await downsampled_equity(session, run_id, points)).model_dump_json().encode()
        if status == RunStatus.COMPLETED:
            resources.equity_curves.put(key, body)
    return Response(body, media_type="application/json")


@router.get(
    "/{run_id}/analytics",
    summary="Statistics from the run's full stored series: monthly returns, drawdown, rolling "
    "Sharpe, exposure and the benchmark curve",
    description=(
        "Computed on the server from every stored point with the functions the HTML report "
        "uses (`quant_engine.metrics`): monthly returns as a year x month table, the drawdown "
        "below the running peak, the rolling Sharpe (the report's window), gross exposure, and "
        "the buy-and-hold benchmark curve the worker stored. Lines are downsampled to `points` "
        "only after they are computed, keeping each bucket's extremes. A run that has not "
        "completed answers its status with empty series; a run stored before benchmark curves "
        "were kept has `benchmark: null` and says so in `benchmark_note`."
    ),
    response_model=RunAnalytics,
    responses=error_responses(401, 404, 422, 429, 503),
)
@rate_limited(LimitScope.READS)
async def get_analytics(
    request: Request,
    response: Response,
    run_id: uuid.UUID,
    _user: CurrentUser,
    session: SessionDep,
    resources: ResourcesDep,
    points: Points = 500,
) -> Response:
    key = ("analytics", run_id, points)
    body = resources.equity_curves.get(key)
    if body is None:
        # three small fields, not the row: a walk-forward's metrics hold every window's figures
        run = (await session.execute(_RUN_FACTS, {"run_id": run_id})).one_or_none()
        if run is None:
            raise not_found("run", run_id)
        status = RunStatus(run.status)
        surface = None
        if run.type == RunType.WALK_FORWARD and status == RunStatus.COMPLETED:
            row = (
                await session.execute(select(Run.config, Run.metrics).where(Run.id == run_id))
            ).one()
            windows = ((row.metrics or {}).get("walk_forward") or {}).get("windows") or []
            surface = await run_in_threadpool(parameter_surface, row.config or {}, windows)
        curve = await stored_curve(session, run_id)
        benchmark = await stored_metric(session, run_id, BENCHMARK_METRIC)
        analytics = await run_in_threadpool(
            lambda: analytics_of(
                run_id=run_id,
                status=status,
                metrics={"periods_per_year": run.periods_per_year},
                benchmark_symbol=run.benchmark,
                curve=curve,
                benchmark=benchmark,
                points=points,
                surface=surface,
            )
        )
        body = analytics.model_dump_json().encode()
        if status == RunStatus.COMPLETED:
            resources.equity_curves.put(key, body)
    return Response(body, media_type="application/json")
