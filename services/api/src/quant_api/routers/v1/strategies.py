"""Strategies: list and read (any signed-in user), change params/status/risk (admin, audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.deps import (
    AdminUser,
    CurrentUser,
    RequestId,
    ResourcesDep,
    SessionDep,
    StrategyDep,
)
from quant_api.errors import error_responses, invalid_from
from quant_api.performance import headline_runs, is_benchmark
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.strategies import (
    RunBrief,
    StrategyDetail,
    StrategyPublic,
    StrategyUpdate,
)
from quant_api.strategy_catalog import (
    STRATEGY_UPDATE,
    merged_config,
    params_schema,
    stored_form,
)
from quant_db.audit import record
from quant_db.schema import Strategy
from quant_domain import ConfigError


async def _catalog_in_sync(resources: ResourcesDep, _user: CurrentUser) -> None:
    """A YAML or .py file added or edited in the strategy folders is seen without a restart."""
    await resources.catalog.refresh()


router = APIRouter(
    prefix="/strategies", tags=["strategies"], dependencies=[Depends(_catalog_in_sync)]
)


def _public(strategy: Strategy, run: RunBrief | None) -> dict[str, Any]:
    config = strategy.config
    return {
        "id": strategy.id,
        "class_path": strategy.class_path,
        "description": str(config.get("description", "")),
        "status": strategy.status,
        "mode": strategy.mode,
        "universe": list(config.get("universe", [])),
        "timeframe": str(config.get("timeframe", "")),
        "benchmark": config.get("benchmark"),
        "is_benchmark": is_benchmark(strategy.class_path),
        "updated_at": strategy.updated_at,
        "headline_run": run,
    }


@router.get(
    "",
    summary="Every strategy with its status, mode, universe and headline run",
    description=(
        "A strategy's headline run is its reference run (starred with PATCH /v1/runs/{run_id}); "
        "without one, its most recently finished completed backtest or walk-forward, which any "
        "later test replaces: `headline_run.basis` says which (ADR 0018). Buy-and-hold "
        "strategies are marked `is_benchmark`: yardsticks, not strategies."
    ),
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def list_strategies(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> list[StrategyPublic]:
    strategies = list(await session.scalars(select(Strategy).order_by(Strategy.id)))
    runs = await headline_runs(session)
    return [StrategyPublic(**_public(s, runs.get(s.id))) for s in strategies]


async def _detail(session: AsyncSession, strategy: Strategy) -> StrategyDetail:
    runs = await headline_runs(session, [strategy.id])
    return StrategyDetail(
        **_public(strategy, runs.get(strategy.id)),
        config=strategy.config,
        params_schema=params_schema(strategy.config),
    )


@router.get(
    "/{strategy_id}",
    summary="A strategy's config and its headline run (its reference run, else its latest)",
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_strategy(
    request: Request, response: Response, strategy: StrategyDep, session: SessionDep
) -> StrategyDetail:
    return await _detail(session, strategy)


@router.patch(
    "/{strategy_id}",
    summary="Change a strategy's params, status or risk caps (admin; audited)",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def update_strategy(
    admin: AdminUser,
    strategy: StrategyDep,
    body: StrategyUpdate,
    session: SessionDep,
    request_id: RequestId,
) -> StrategyDetail:
    try:
        config = merged_config(
            strategy.config,
            params=body.params,
            risk=None if body.risk is None else body.risk.model_dump(exclude_unset=True),
        )
    except (ValidationError, ConfigError) as exc:
        raise invalid_from(exc, "body") from None
    before = {
        "params": strategy.config.get("params", {}),
        "risk": strategy.config.get("risk", {}),
        "status": strategy.status,
    }
    strategy.config = stored_form(config)
    if body.status is not None:
        strategy.status = body.status.value
    after = {
        "params": strategy.config["params"],
        "risk": strategy.config["risk"],
        "status": strategy.status,
    }
    record(
        session,
        user=admin,
        action=STRATEGY_UPDATE,
        target_type="strategy",
        target_id=strategy.id,
        detail={"before": before, "after": after},
        request_id=request_id,
    )
    await session.commit()
    await session.refresh(strategy)
    return await _detail(session, strategy)
