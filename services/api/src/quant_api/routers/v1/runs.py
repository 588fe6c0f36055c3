"""Runs: list, create (queued for the worker), read progress and results, cancel."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.concurrency import run_in_threadpool

from quant_api.deps import (
    CurrentUser,
    PageParams,
    ResourcesDep,
    RunDep,
    SessionDep,
    TraderUser,
)
from quant_api.downsampling import MAX_POINTS, MIN_POINTS, keep_extremes
from quant_api.errors import ApiError, conflict, error_responses, not_found
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.run_requests import plan_run
from quant_api.schemas.v1.common import Page, StrategyId
from quant_api.schemas.v1.runs import (
    EquityPointPublic,
    EquitySeries,
    RunAccepted,
    RunCancelled,
    RunCreate,
    RunPublic,
    RunSummary,
    TradePublic,
)
from quant_db.jobs import create_run, request_cancel
from quant_db.schema import EquityPoint, Run, RunReport, Strategy, Trade
from quant_db.schema.runs import RunStatus, RunType

router = APIRouter(prefix="/runs", tags=["runs"])


async def asyncpg_connection(connection: AsyncConnection) -> asyncpg.Connection[Any]:
    """The asyncpg connection under a SQLAlchemy one (quant_db.jobs speaks asyncpg)."""
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)
    return raw


FINISHED = {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}


def _summary_fields(run: Run) -> dict[str, Any]:
    return {name: getattr(run, name) for name in RunSummary.model_fields}


@router.get(
    "",
    summary="Runs, newest first, filtered by strategy, type and status",
    responses=error_responses(401, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_runs(
    request: Request,
    response: Response,
    _user: CurrentUser,
    session: SessionDep,
    pages: PageParams,
    strategy: StrategyId | None = None,
    type: RunType | None = None,
    status: RunStatus | None = None,
) -> Page[RunSummary]:
    conditions: list[ColumnElement[bool]] = []
    if strategy is not None:
        conditions.append(Run.strategy_id == strategy)
    if type is not None:
        conditions.append(Run.type == type)
    if status is not None:
        conditions.append(Run.status == status)
    total = await session.scalar(select(func.count()).select_from(Run).where(*conditions)) or 0
    runs = await session.scalars(
        select(Run)
        .where(*conditions)
        .order_by(Run.created_at.desc(), Run.id)
        .offset(pages.offset)
        .limit(pages.per_page)
    )
    return Page[RunSummary](
        items=[RunSummary(**_summary_fields(r)) for r in runs],
        total=total,
        page=pages.page,
        per_page=pages.per_page,
    )


@router.post(
    "",
    status_code=202,
    summary="Queue a backtest or walk-forward run (trader or admin)",
    description=(
        "Everything is validated before anything is written; a 422 names the field at fault "
        "(`strategy_id`, `params.<name>`, `start`, `backtest.capital`, "
        "`walk_forward.parameter_grid`, ...). On success the run row and its job are written "
        "in one transaction and the answer is 202 with a Location header."
    ),
    responses={
        **error_responses(400, 401, 403, 422, 429),
        202: {"headers": {"Location": {"schema": {"type": "string"}, "description": "the run"}}},
    },
)
@rate_limited(LimitScope.RUNS)
async def create_run_endpoint(
    request: Request,
    response: Response,
    user: TraderUser,
    body: RunCreate,
    session: SessionDep,
    resources: ResourcesDep,
) -> RunAccepted:
    stored = await session.scalar(select(Strategy.config).where(Strategy.id == body.strategy_id))
    plan = await run_in_threadpool(plan_run, body, stored, datetime.now(UTC).date())
    async with resources.engine.connect() as connection:
        raw = await asyncpg_connection(connection)
        run_id = await create_run(
            raw,
            strategy_id=plan.strategy_id,
            run_type=plan.run_type,
            config=plan.config,
            backtest_config=plan.backtest_config,
            created_by=user.id,
        )
    response.headers["Location"] = f"/v1/runs/{run_id}"
    return RunAccepted(id=run_id, status=RunStatus.QUEUED)


@router.get(
    "/{run_id}",
    summary="A run: status, progress, configs, metrics, reproducibility facts, error",
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_run(request: Request, response: Response, run: RunDep) -> RunPublic:
    return RunPublic(
        **_summary_fields(run),
        config=run.config,
        backtest_config=run.backtest_config,
        repro=run.repro,
        metrics=run.metrics,
        error=run.error,
        attempts=run.attempts,
    )


@router.get(
    "/{run_id}/equity",
    summary="The run's equity curve, downsampled on the server (extremes kept)",
    description=(
        "With more stored points than `points`, the curve is cut into `points / 4` buckets and "
        "each keeps its first, last, lowest and highest point, so peaks and troughs survive."
    ),
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_equity(
    request: Request,
    response: Response,
    run: RunDep,
    session: SessionDep,
    points: Annotated[int, Query(ge=MIN_POINTS, le=MAX_POINTS)] = 500,
) -> EquitySeries:
    rows = list(
        await session.scalars(
            select(EquityPoint).where(EquityPoint.run_id == run.id).order_by(EquityPoint.ts)
        )
    )
    kept = keep_extremes([row.equity for row in rows], points)
    return EquitySeries(
        run_id=run.id,
        total_points=len(rows),
        points=[
            EquityPointPublic(
                ts=rows[i].ts,
                equity=rows[i].equity,
                cash=rows[i].cash,
                positions_value=rows[i].positions_value,
            )
            for i in kept
        ],
    )


@router.get(
    "/{run_id}/trades",
    summary="The run's round-trip trades, by entry time",
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_trades(
    request: Request, response: Response, run: RunDep, session: SessionDep, pages: PageParams
) -> Page[TradePublic]:
    total = await session.scalar(select(func.count()).where(Trade.run_id == run.id)) or 0
    trades = await session.scalars(
        select(Trade)
        .where(Trade.run_id == run.id)
        .order_by(Trade.entry_time, Trade.id)
        .offset(pages.offset)
        .limit(pages.per_page)
    )
    return Page[TradePublic](
        items=[TradePublic.model_validate(t, from_attributes=True) for t in trades],
        total=total,
        page=pages.page,
        per_page=pages.per_page,
    )


@router.get(
    "/{run_id}/report",
    summary="The run's self-contained HTML report",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}},
        **error_responses(401, 404, 422, 429, non_json_route=True),
    },
)
@rate_limited(LimitScope.READS)
async def get_report(
    request: Request, response: Response, run: RunDep, session: SessionDep
) -> HTMLResponse:
    report = await session.get(RunReport, run.id)
    if report is None:
        raise ApiError(404, f"run {run.id} has no report yet: it is written when the run completes")
    html = await run_in_threadpool(gzip.decompress, report.html_gzip)
    return HTMLResponse(html.decode("utf-8"))


@router.post(
    "/{run_id}/cancel",
    summary="Cancel a run (trader or admin): queued ones at once, running ones at their next step",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def cancel_run(
    run_id: uuid.UUID, _trader: TraderUser, resources: ResourcesDep
) -> RunCancelled:
    async with resources.engine.connect() as connection:
        raw = await asyncpg_connection(connection)
        async with raw.transaction():
            status = await raw.fetchval("SELECT status FROM runs WHERE id = $1 FOR UPDATE", run_id)
            if status is None:
                raise not_found("run", run_id)
            if RunStatus(status) in FINISHED:
                raise conflict(f"run {run_id} already finished ({status}); nothing to cancel")
            after = await request_cancel(raw, run_id)
    return RunCancelled(id=run_id, status=RunStatus(after or status), cancel_requested=True)
