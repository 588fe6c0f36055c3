"""Runs: list, create (queued for the worker), read progress, trades and report, cancel.

The equity curve and the statistics charts read are in routers/v1/analytics.py.
"""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, String, and_, case, column, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.concurrency import run_in_threadpool

from quant_api.deps import (
    CurrentUser,
    PageParams,
    ResourcesDep,
    RunDep,
    SessionDep,
    TraderUser,
    equal_to,
    from_attributes,
)
from quant_api.errors import ApiError, conflict, error_responses, not_found
from quant_api.price_bars import ingested_symbols
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.run_requests import plan_run
from quant_api.schemas.v1.common import Page, StrategyId
from quant_api.schemas.v1.runs import (
    RunAccepted,
    RunCancelled,
    RunCreate,
    RunKeyMetrics,
    RunPublic,
    RunSummary,
    TradePublic,
)
from quant_db.jobs import create_run, request_cancel
from quant_db.schema import Run, RunReport, Strategy, Trade
from quant_db.schema.runs import FINISHED, RunStatus, RunType

router = APIRouter(prefix="/runs", tags=["runs"])


async def asyncpg_connection(connection: AsyncConnection) -> asyncpg.Connection[Any]:
    """The asyncpg connection under a SQLAlchemy one (quant_db.jobs speaks asyncpg)."""
    raw = (await connection.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)
    return raw


def _key_metrics() -> ColumnElement[Any]:
    """RunKeyMetrics as one small JSON object the database builds from `runs.metrics`.

    Only these few numbers travel per row, not the stored blob (a walk-forward run's carries
    every window's metrics and scores: ~70 kB for 40 windows). `jsonb_to_record` reads the blob
    once per listed row; six `metrics -> 'key'` lookups would decompress it six times over. A
    figure is null unless the run completed and stored it as a JSON number, so one odd row
    cannot fail the whole listing.
    """
    names = list(RunKeyMetrics.model_fields)
    stored = (
        func.jsonb_to_record(Run.metrics)
        .table_valued(*(column(name, JSONB) for name in names))
        .render_derived(name="stored", with_types=True)
    )
    completed = Run.status == RunStatus.COMPLETED
    pairs: list[ColumnElement[Any]] = []
    for name in names:
        value = stored.c[name]
        is_number = func.jsonb_typeof(value) == literal("number", String)
        pairs += [literal(name, String), case((and_(completed, is_number), value))]
    return (
        select(func.jsonb_build_object(*pairs, type_=JSONB)).select_from(stored).scalar_subquery()
    )


_KEY_METRICS = _key_metrics()


@router.get(
    "",
    summary="Runs, newest first, filtered by strategy, type and status",
    response_model=Page[RunSummary],
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
) -> Response:
    page = await pages.fetch_columns(
        session,
        RunSummary,
        Run,
        equal_to(Run, strategy_id=strategy, type=type, status=status),
        [Run.created_at.desc(), Run.id],
        {"key_metrics": _KEY_METRICS},
    )
    # validated once above; dashboards poll this list, so skip FastAPI's second pass
    return Response(page.model_dump_json().encode(), media_type="application/json")


@router.post(
    "",
    status_code=202,
    summary="Queue a backtest or walk-forward run (trader or admin)",
    description=(
        "Everything is validated before anything is written; a 422 names the field at fault "
        "(`body.strategy_id`, `body.params.<name>`, `body.start`, `body.backtest.capital`, "
        "`body.walk_forward.parameter_grid`, ...). On success the run row and its job are written "
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
    ingested = await ingested_symbols(session)
    plan = await run_in_threadpool(plan_run, body, stored, datetime.now(UTC).date(), ingested)
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
    return RunPublic.model_validate(run, from_attributes=True)


@router.get(
    "/{run_id}/trades",
    summary="The run's round-trip trades, by entry time",
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_trades(
    request: Request, response: Response, run: RunDep, session: SessionDep, pages: PageParams
) -> Page[TradePublic]:
    return await pages.fetch(
        session,
        Trade,
        equal_to(Trade, run_id=run.id),
        [Trade.entry_time, Trade.id],
        from_attributes(TradePublic),
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
    assert after is not None  # the row is locked above
    return RunCancelled(id=run_id, status=RunStatus(after), cancel_requested=True)
