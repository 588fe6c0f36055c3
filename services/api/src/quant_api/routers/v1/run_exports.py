"""CSV exports of a completed run: every trade and every equity point, streamed from the database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, select

from quant_api.deps import ResourcesDep, RunDep
from quant_api.errors import conflict, error_responses
from quant_api.rate_limits import LimitScope, rate_limited
from quant_db.schema import EquityPoint, Run, Trade
from quant_db.schema.runs import EQUITY_COLUMNS, RunStatus
from quant_db.schema.trading import TRADE_COLUMNS

router = APIRouter(prefix="/runs", tags=["runs"])

CHUNK_ROWS = 2_000
"""Rows fetched from the server-side cursor and written to the client at a time."""


_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "CSV with a header row; times in ISO 8601 UTC, numbers as plain decimals",
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "headers": {
            "Content-Disposition": {
                "schema": {"type": "string"},
                "description": "attachment; filename=<strategy>_<run id>_<series>.csv",
            }
        },
    },
    **error_responses(401, 404, 409, 422, 429, non_json_route=True),
}


def _cell(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")  # never 1E+5: spreadsheets and parsers read it as text
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def csv_text(rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def file_name(run: Run, series: str) -> str:
    """`<strategy>_<first 8 of the run id>_<series>.csv`, safe in a header and on any disk (a
    training run, which has no strategy, is named `train`)."""
    strategy = re.sub(r"[^A-Za-z0-9_.-]", "_", run.strategy_id or run.type.value)
    return f"{strategy}_{str(run.id)[:8]}_{series}.csv"


def _completed(run: Run, series: str) -> None:
    if run.status != RunStatus.COMPLETED:
        raise conflict(
            f"run {run.id} is {run.status.value}: its {series} are stored when it completes"
        )


def _stream(
    resources: ResourcesDep, query: Select[Any], header: Sequence[str], run: Run, series: str
) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        yield csv_text([header])
        # a connection of its own: the request's session may close before the body is sent
        async with resources.engine.connect() as connection:
            result = await connection.stream(query.execution_options(yield_per=CHUNK_ROWS))
            async for rows in result.partitions(CHUNK_ROWS):
                yield csv_text(rows)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name(run, series)}"'},
    )


@router.get(
    "/{run_id}/trades.csv",
    summary="Every trade of a completed run as CSV (the full list, not a page)",
    response_class=StreamingResponse,
    responses=_CSV_RESPONSE,
)
@rate_limited(LimitScope.READS)
async def export_trades(
    request: Request, response: Response, run: RunDep, resources: ResourcesDep
) -> StreamingResponse:
    _completed(run, "trades")
    columns = [getattr(Trade, name) for name in TRADE_COLUMNS]
    query = select(*columns).where(Trade.run_id == run.id).order_by(Trade.entry_time, Trade.id)
    return _stream(resources, query, TRADE_COLUMNS, run, "trades")


@router.get(
    "/{run_id}/equity.csv",
    summary="Every stored equity point of a completed run as CSV (not downsampled)",
    response_class=StreamingResponse,
    responses=_CSV_RESPONSE,
)
@rate_limited(LimitScope.READS)
async def export_equity(
    request: Request, response: Response, run: RunDep, resources: ResourcesDep
) -> StreamingResponse:
    _completed(run, "equity points")
    columns = [getattr(EquityPoint, name) for name in EQUITY_COLUMNS]
    query = select(*columns).where(EquityPoint.run_id == run.id).order_by(EquityPoint.ts)
    return _stream(resources, query, EQUITY_COLUMNS, run, "equity")
