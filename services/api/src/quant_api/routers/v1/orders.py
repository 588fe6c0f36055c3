"""Orders, newest first, filtered by run, strategy, symbol, status and submission time; one
order with its fills and status history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import exists, select

from quant_api.deps import CurrentUser, PageParams, RowId, SessionDep, equal_to, from_attributes
from quant_api.errors import error_responses, invalid, not_found
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.common import IsoDateTime, Label, Page, StrategyId, Symbol
from quant_api.schemas.v1.orders import FillPublic, OrderDetail, OrderEventPublic, OrderPublic
from quant_db.schema import Fill, Order, OrderEvent, Run
from quant_db.schema.runs import RunType

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
    run_id: Annotated[
        uuid.UUID | None, Query(description="one run's orders (a paper session is a run)")
    ] = None,
    run_type: Annotated[
        RunType | None,
        Query(description="only the orders of runs of this type (paper: every paper session)"),
    ] = None,
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
    conditions = equal_to(Order, run_id=run_id, strategy_id=strategy, symbol=symbol, status=status)
    if run_type is not None:
        conditions.append(exists().where(Run.id == Order.run_id, Run.type == run_type))
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


@router.get(
    "/{order_id}",
    summary="One order with its fills and its status history",
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_order(
    request: Request,
    response: Response,
    order_id: RowId,
    _user: CurrentUser,
    session: SessionDep,
) -> OrderDetail:
    order = await session.get(Order, order_id)
    if order is None:
        raise not_found("order", order_id)
    mine = (Fill.run_id == order.run_id, Fill.client_order_id == order.client_order_id)
    fills = await session.scalars(select(Fill).where(*mine).order_by(Fill.id))
    events = await session.scalars(
        select(OrderEvent)
        .where(
            OrderEvent.run_id == order.run_id,
            OrderEvent.client_order_id == order.client_order_id,
        )
        .order_by(OrderEvent.id)
    )
    return OrderDetail(
        **OrderPublic.model_validate(order, from_attributes=True).model_dump(),
        fills=[
            FillPublic.model_validate({**_columns(fill), "strategy_id": order.strategy_id})
            for fill in fills
        ],
        events=[OrderEventPublic.model_validate(e, from_attributes=True) for e in events],
    )


def _columns(fill: Fill) -> dict[str, object]:
    return {name: getattr(fill, name) for name in FillPublic.model_fields if name != "strategy_id"}
