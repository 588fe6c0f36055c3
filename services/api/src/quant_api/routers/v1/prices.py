"""GET /v1/runs/{run_id}/prices: one of a run's symbols over its date range, bucketed for a chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from quant_api.deps import RunDep, SessionDep
from quant_api.downsampling import MAX_POINTS, MIN_POINTS
from quant_api.errors import error_responses, invalid
from quant_api.price_bars import Bucket, bar_frame, bucketed, timeframes
from quant_api.price_indicators import indicator_lines
from quant_api.rate_limits import LimitScope, rate_limited
from quant_api.schemas.v1.common import Symbol
from quant_api.schemas.v1.prices import IndicatorLine, PriceBarPublic, PriceSeries
from quant_db.schema import Run

router = APIRouter(prefix="/runs", tags=["runs"])
DATABASE_SOURCE = "db"  # what a run records as its data source when it read price_bars


def run_symbols(config: dict[str, Any]) -> list[str]:
    """The universe, then the benchmark when it is not one of them."""
    symbols = [str(s) for s in config.get("universe", [])]
    benchmark = config.get("benchmark")
    if benchmark and benchmark not in symbols:
        symbols.append(str(benchmark))
    return symbols


def run_range(run: Run) -> tuple[datetime | None, datetime | None]:
    """The run's dates as the backtest reads them: the backtest config's, else the strategy
    config's; the start day from 00:00 UTC, the end day to its last instant."""

    def at(value: object, clock: time) -> datetime | None:
        if not value:
            return None
        return datetime.combine(date.fromisoformat(str(value)), clock, tzinfo=UTC)

    backtest, config = run.backtest_config or {}, run.config or {}
    return (
        at(backtest.get("start") or config.get("start"), time.min),
        at(backtest.get("end") or config.get("end"), time.max),
    )


@router.get(
    "/{run_id}/prices",
    summary="OHLCV bars of one of the run's symbols over the run's dates, downsampled",
    description=(
        "Bars from the database (price_bars) between the run's start and end, merged on the "
        "server into at most `points` buckets (first open, highest high, lowest low, last close, "
        "summed volume). `symbol` must be one of the run's universe or its benchmark (else 422 "
        "naming `query.symbol`). A run that read its bars elsewhere (the samples folder, a CSV "
        "folder, synthetic data) answers 200 with no bars, `source: none` and a `note`. For a "
        "symbol of the run's universe, `indicators` carries the strategy's own indicators "
        "(Strategy.indicator_series, e.g. momentum_v1's two SMAs) with the run's params, "
        "computed over every bar the run read and only then sampled like the bars."
    ),
    responses=error_responses(401, 404, 422, 429),
)
@rate_limited(LimitScope.READS)
async def get_prices(
    request: Request,
    response: Response,
    run: RunDep,
    session: SessionDep,
    symbol: Annotated[Symbol, Query(description="one of the run's symbols")],
    points: Annotated[int, Query(ge=MIN_POINTS, le=MAX_POINTS)] = 500,
) -> PriceSeries:
    config = run.config or {}
    symbols = run_symbols(config)
    if symbol not in symbols:
        shown = ", ".join(symbols) or "none"
        raise invalid("query.symbol", f"{symbol!r} is not a symbol of run {run.id} ({shown})")
    start, end = run_range(run)
    recorded = (run.repro or {}).get("data_source") or None
    timeframe = str(config.get("timeframe") or "1d")

    def series(
        note: str | None,
        source: Literal["database", "none"] = "none",
        chosen: str = timeframe,
        total: int = 0,
        buckets: Sequence[Bucket] = (),
        indicators: Sequence[IndicatorLine] = (),
        indicators_note: str | None = None,
    ) -> PriceSeries:
        return PriceSeries(
            run_id=run.id,
            symbol=symbol,
            timeframe=chosen,
            start=start,
            end=end,
            source=source,
            run_data_source=recorded,
            note=note,
            total_bars=total,
            bars=[
                PriceBarPublic(
                    ts=b.ts, open=b.open, high=b.high, low=b.low, close=b.close, volume=b.volume
                )
                for b in buckets
            ],
            indicators=list(indicators),
            indicators_note=indicators_note,
        )

    if recorded is not None and recorded != DATABASE_SOURCE:
        return series(
            f"run {run.id} read its bars from {recorded}, not from the database; ingest them "
            "(`quant data ingest`) and run it again to chart them"
        )
    stored = await timeframes(session, symbol)
    if not stored:
        return series(f"no {symbol} bars in the database; `quant data ingest` loads them")
    # the run's own timeframe when ingested, else the one the worker resamples from
    chosen = timeframe if timeframe in stored else stored[0]
    total, buckets = await bucketed(session, symbol, chosen, start, end, points)
    note = None if total else f"no {symbol} {chosen} bars in the database in the run's dates"
    indicators: list[IndicatorLine] = []
    indicators_note = None
    if total and symbol in config.get("universe", []):
        if chosen == timeframe:
            warmup = int((run.backtest_config or {}).get("warmup_bars") or 0)
            frame = await bar_frame(session, symbol, chosen, start, end, warmup)
            indicators, indicators_note = await run_in_threadpool(
                indicator_lines, config, symbol, frame, start, points
            )
        else:
            indicators_note = (
                f"the run traded {timeframe} bars resampled from {chosen}; its indicators are "
                f"drawn only over the bars it read"
            )
    return series(note, "database", chosen, total, buckets, indicators, indicators_note)
