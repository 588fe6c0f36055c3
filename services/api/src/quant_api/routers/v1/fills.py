"""Fills (executions), newest first, filtered by run, strategy, symbol and time."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import exists, select

from quant_api.deps import CurrentUser, PageParams, SessionDep, equal_to
from quant_api.errors import error_responses, invalid
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.common import IsoDateTime, Page, StrategyId, Symbol
from quant_api.schemas.v1.orders import FillPublic
from quant_db.schema import Fill, Order, Run
from quant_db.schema.runs import RunType

router = APIRouter(prefix="/fills", tags=["orders"])


@router.get(
    "",
    summary="Fills, newest first",
    description="A fill carries no strategy of its own: it is its order's (run, client order id).",
    responses=error_responses(401, 422, 429),
)
@rate_limited(LimitScope.READS)
async def list_fills(
    request: Request,
    response: Response,
    _user: CurrentUser,
    session: SessionDep,
    pages: PageParams,
    run_id: Annotated[uuid.UUID | None, Query(description="one run's fills")] = None,
    run_type: Annotated[
        RunType | None,
        Query(description="only the fills of runs of this type (paper: every paper session)"),
    ] = None,
    strategy: StrategyId | None = None,
    symbol: Symbol | None = None,
    from_: Annotated[
        IsoDateTime | None, Query(alias="from", description="executed at or after (ISO 8601)")
    ] = None,
    to: Annotated[IsoDateTime | None, Query(description="executed before (ISO 8601)")] = None,
) -> Page[FillPublic]:
    if from_ is not None and to is not None and from_ >= to:
        raise invalid("query.to", f"to ({to}) must be after from ({from_})")
    conditions = equal_to(Fill, run_id=run_id, symbol=symbol)
    if strategy is not None:
        conditions.append(
            exists().where(
                Order.run_id == Fill.run_id,
                Order.client_order_id == Fill.client_order_id,
                Order.strategy_id == strategy,
            )
        )
    if run_type is not None:
        conditions.append(exists().where(Run.id == Fill.run_id, Run.type == run_type))
    if from_ is not None:
        conditions.append(Fill.ts >= from_)
    if to is not None:
        conditions.append(Fill.ts < to)
    strategy_of_order = (
        select(Order.strategy_id)
        .where(Order.run_id == Fill.run_id, Order.client_order_id == Fill.client_order_id)
        .scalar_subquery()
    )
    return await pages.fetch_columns(
        session,
        FillPublic,
        Fill,
        conditions,
        [Fill.ts.desc(), Fill.id.desc()],
        computed={"strategy_id": strategy_of_order},
    )
