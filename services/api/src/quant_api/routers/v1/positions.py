"""Positions as the paper and live sessions keep them (any signed-in user)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from quant_api.deps import CurrentUser, PageParams, PositionDep, SessionDep, equal_to
from quant_api.errors import error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.common import Page, StrategyId, Symbol
from quant_api.schemas.v1.positions import PositionPublic
from quant_db.schema import Position

router = APIRouter(prefix="/positions", tags=["positions"])


def _public(position: Position) -> PositionPublic:
    last = position.last_price
    return PositionPublic(
        id=position.id,
        run_id=position.run_id,
        strategy_id=position.strategy_id,
        symbol=position.symbol,
        quantity=position.quantity,
        avg_price=position.avg_price,
        realized_pnl=position.realized_pnl,
        last_price=last,
        market_value=None if last is None else position.quantity * last,
        unrealized_pnl=None if last is None else (last - position.avg_price) * position.quantity,
        updated_at=position.updated_at,
    )


@router.get(
    "",
    summary="Positions, filtered by session, strategy and symbol",
    responses=error_responses(401, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_positions(
    request: Request,
    response: Response,
    _user: CurrentUser,
    session: SessionDep,
    pages: PageParams,
    run_id: Annotated[
        uuid.UUID | None, Query(description="one session's positions (a paper session is a run)")
    ] = None,
    strategy: StrategyId | None = None,
    symbol: Symbol | None = None,
    open_only: bool = False,
) -> Page[PositionPublic]:
    conditions = equal_to(Position, run_id=run_id, strategy_id=strategy, symbol=symbol)
    if open_only:
        conditions.append(Position.quantity != 0)
    return await pages.fetch(
        session, Position, conditions, [Position.strategy_id, Position.symbol, Position.id], _public
    )


@router.get(
    "/{position_id}",
    summary="One position",
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_position(
    request: Request, response: Response, position: PositionDep
) -> PositionPublic:
    return _public(position)
