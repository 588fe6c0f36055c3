"""Orders, newest first, filtered by strategy, symbol, status and submission time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from quant_api.deps import CurrentUser, PageParams, SessionDep, equal_to, from_attributes
from quant_api.errors import error_responses, invalid
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.common import IsoDateTime, Label, Page, StrategyId, Symbol
from quant_api.schemas.v1.orders import OrderPublic
from quant_db.schema import Order

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get(
    "",
    summary="Orders, newest first",
    responses=error_responses(401, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_orders(
    request: Request,
    response: Response,
    _user: CurrentUser,
    session: SessionDep,
    pages: PageParams,
    strategy: StrategyId | None = None,
    symbol: Symbol | None = None,
    status: Label | None = None,
    from_: Annotated[
        IsoDateTime | None, Query(alias="from", description="submitted at or after (ISO 8601)")
    ] = None,
    to: Annotated[IsoDateTime | None, Query(description="submitted before (ISO 8601)")] = None,
) -> Page[OrderPublic]:
    if from_ is not None and to is not None and from_ >= to:
        raise invalid("query.to", f"to ({to}) must be after from ({from_})")
    conditions = equal_to(Order, strategy_id=strategy, symbol=symbol, status=status)
    if from_ is not None:
        conditions.append(Order.submitted_at >= from_)
    if to is not None:
        conditions.append(Order.submitted_at < to)
    return await pages.fetch(
        session,
        Order,
        conditions,
        [Order.submitted_at.desc(), Order.id.desc()],
        from_attributes(OrderPublic),
    )
