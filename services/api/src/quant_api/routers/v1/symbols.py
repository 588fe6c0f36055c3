"""GET /v1/symbols: the market data in the database, for picking what to backtest."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from quant_api.deps import CurrentUser, SessionDep
from quant_api.errors import error_responses
from quant_api.price_bars import catalogue
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.prices import SymbolPublic

router = APIRouter(prefix="/symbols", tags=["market data"])


@router.get(
    "",
    summary="Every ingested symbol and timeframe with its first and last bar and bar count",
    description="Data loaded by `quant data ingest`; an empty list until something is ingested.",
    responses=error_responses(401, 429),
)
@rate_limited(LimitScope.READS)
async def list_symbols(
    request: Request, response: Response, _user: CurrentUser, session: SessionDep
) -> list[SymbolPublic]:
    return [
        SymbolPublic(
            symbol=entry.symbol,
            timeframe=entry.timeframe,
            first_ts=entry.first_ts,
            last_ts=entry.last_ts,
            bar_count=entry.bars,
        )
        for entry in await catalogue(session)
    ]
