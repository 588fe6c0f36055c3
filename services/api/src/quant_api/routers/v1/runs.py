"""Runs: list, create (queued for the worker), read progress, trades and report, cancel.

The equity curve and the statistics charts read are in routers/v1/analytics.py.
"""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, String, and_, case, column, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.concurrency import run_in_threadpool

from quant_api.auth import has_role
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
from quant_api.price_bars import ingested_spans
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.resources import AppResources
from quant_api.run_listing import filters, order_by, summary_columns
from quant_api.run_requests import plan_run
from quant_api.run_risk_policy import REPRO_KEY, chosen_policy
from quant_api.schemas.v1.common import Page, StrategyId
from quant_api.schemas.v1.runs import (
    RunAccepted,
    RunCancelled,
    RunCreate,
    RunKeyMetrics,
    RunKind,
    RunPublic,
    RunSort,
    RunSummary,
    SortOrder,
    TradePublic,
)
from quant_api.training_requests import plan_training, refuse_training_fields
from quant_db.jobs import create_run, request_cancel
from quant_db.schema import Run, RunReport, Strategy, Trade
from quant_db.schema.identity import Role
from quant_db.schema.runs import FINISHED, RUN_LABEL_MAX, RunStatus, RunType

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
_SUMMARY_COLUMNS = summary_columns()


@router.get(
    "",
    summary="Runs, filtered and sorted: newest first unless `sort` says otherwise",
    description=(
        "Filters (each optional, combined with AND): `strategy`, `type`, `status`, `label` (the "
        "label contains this text, ignoring case) and `is_reference` (true: only the strategies' "
        "reference runs). `sort` orders by a date or a key metric (`total_return`, "
        "`annual_return`, `sharpe`, `max_drawdown_pct`, `win_rate`, `num_trades`), `order` asc "
        "or desc (default desc); runs without that figure (not completed, or not stored) come "
        "last either way, and ties are broken by newest first, then id, so pages are stable. "
        "Each row says what the run ran: effective params and the overrides sent, a "
        "walk-forward's grid, symbols, requested and covered dates, capital and data source."
    ),
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
    label: Annotated[
        str | None,
        Query(min_length=1, max_length=RUN_LABEL_MAX, description="label contains, any case"),
    ] = None,
    is_reference: Annotated[
        bool | None, Query(description="true: only reference runs; false: only the others")
    ] = None,
    sort: RunSort = RunSort.CREATED_AT,
    order: SortOrder = SortOrder.DESC,
) -> Response:
    page = await pages.fetch_columns(
        session,
        RunSummary,
        Run,
        filters(
            strategy=strategy,
            run_type=type,
            status=status,
            label=label,
            is_reference=is_reference,
        ),
        order_by(sort, order),
        {"key_metrics": _KEY_METRICS, **_SUMMARY_COLUMNS},
    )
    # validated once above; dashboards poll this list, so skip FastAPI's second pass
    return Response(page.model_dump_json().encode(), media_type="application/json")


@router.post(
    "",
    status_code=202,
    summary="Queue a backtest, walk-forward or train run (trader or admin)",
    description=(
        "Everything is validated before anything is written; a 422 names the field at fault "
        "(`body.strategy_id`, `body.params.<name>`, `body.start` with the dates the data has, "
        "`body.backtest.initial_capital`, `body.backtest.risk_policy`, "
        "`body.walk_forward.parameter_grid`, ...). A `train` run names no strategy: it sends "
        "`training` (`config`: a file of configs/training, or `inline`: a training config), and "
        "its model is registered as a candidate naming the run (`body.training.config`, "
        "`body.training.inline.<field>` in a 422). On success the run row and its job are "
        "written in one transaction and the answer is 202 with a Location header."
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
    if body.type is RunKind.TRAIN:
        return await _queue_training(body, user.id, resources, response)
    refuse_training_fields(body)
    await resources.catalog.refresh()  # a strategy file added since the last look is known
    stored = await session.scalar(select(Strategy.config).where(Strategy.id == body.strategy_id))
    ingested = await ingested_spans(session)
    plan = await run_in_threadpool(plan_run, body, stored, datetime.now(UTC).date(), ingested)
    policy = await chosen_policy(body.backtest.risk_policy, session, resources.settings.risk_dir)
    async with resources.engine.connect() as connection:
        raw = await asyncpg_connection(connection)
        run_id = await create_run(
            raw,
            strategy_id=plan.strategy_id,
            run_type=plan.run_type,
            config=plan.config,
            backtest_config=plan.backtest_config,
            created_by=user.id,
            params_overrides=body.params,
            repro=None if policy is None else {REPRO_KEY: policy},
        )
    response.headers["Location"] = f"/v1/runs/{run_id}"
    return RunAccepted(id=run_id, status=RunStatus.QUEUED)


async def _queue_training(
    body: RunCreate, user_id: int, resources: AppResources, response: Response
) -> RunAccepted:
    config = await run_in_threadpool(plan_training, body, resources.settings.training_dir)
    async with resources.engine.connect() as connection:
        raw = await asyncpg_connection(connection)
        run_id = await create_run(
            raw,
            strategy_id=None,
            run_type=RunKind.TRAIN.value,
            config=config,
            backtest_config={},
            created_by=user_id,
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
    summary="Cancel a run (its creator, or an admin): queued ones at once, running ones at "
    "their next step",
    description="A trader may cancel the runs they queued; an admin may cancel any run (runs "
    "queued from the command line have no creator, so only an admin can cancel those). Anyone "
    "else gets 403. A finished run is 409.",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def cancel_run(
    run_id: uuid.UUID, trader: TraderUser, resources: ResourcesDep
) -> RunCancelled:
    async with resources.engine.connect() as connection:
        raw = await asyncpg_connection(connection)
        async with raw.transaction():
            row = await raw.fetchrow(
                "SELECT status, created_by FROM runs WHERE id = $1 FOR UPDATE", run_id
            )
            if row is None:
                raise not_found("run", run_id)
            if row["created_by"] != trader.id and not has_role(trader, Role.ADMIN):
                raise ApiError(
                    403,
                    f"run {run_id} was queued by someone else: only its creator or an admin may "
                    "cancel it",
                )
            status = row["status"]
            if RunStatus(status) in FINISHED:
                raise conflict(f"run {run_id} already finished ({status}); nothing to cancel")
            after = await request_cancel(raw, run_id)
    assert after is not None  # the row is locked above
    return RunCancelled(id=run_id, status=RunStatus(after), cancel_requested=True)
