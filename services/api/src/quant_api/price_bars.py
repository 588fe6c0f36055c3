"""Reads of stored bars: the catalogue of ingested data, and one symbol's bars bucketed.

Only the columns the storage layer keeps as its contract are named here (symbol, timeframe, ts,
open, high, low, close, volume, and price_blocks' bar count per symbol), in plain SQL, so a change of how bars are stored underneath
(types, partitioning, extra columns) does not reach the API. Prices come back as NUMERIC or as
float8 depending on that storage; both become Decimal, a float through its shortest repr.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from quant_api.binary_copy import copy_rows
from quant_strategy.coverage import DataSpan

# The counts come from price_blocks (one row per symbol and year, kept equal to price_bars by
# ingestion) and the two ends from the primary key of price_bars, so the catalogue costs two
# index probes per symbol instead of a scan of every bar (43 ms for 252,000 daily bars, seconds
# for years of minute bars; bench/storage.py).
_CATALOGUE = text(
    "SELECT c.symbol, c.timeframe, c.bars,"
    " (SELECT ts FROM price_bars p WHERE p.symbol = c.symbol AND p.timeframe = c.timeframe"
    "  ORDER BY ts LIMIT 1) AS first_ts,"
    " (SELECT ts FROM price_bars p WHERE p.symbol = c.symbol AND p.timeframe = c.timeframe"
    "  ORDER BY ts DESC LIMIT 1) AS last_ts"
    " FROM (SELECT symbol, timeframe, sum(bars) AS bars FROM price_blocks"
    "       GROUP BY symbol, timeframe) AS c"
    " ORDER BY c.symbol, c.timeframe"
)

# from the blocks' primary key: a few rows, where price_bars would walk every bar of the symbol
_TIMEFRAMES = text(
    "SELECT DISTINCT timeframe FROM price_blocks WHERE symbol = :symbol ORDER BY timeframe"
)

# Bucket of the k-th bar (1-based) of n: floor((k - 1) * buckets / n), so buckets hold equal
# shares of the bars and, with n <= buckets, every bar is its own bucket. Each bucket is one
# OHLCV bar: the first open, the highest high, the lowest low, the last close, summed volume,
# stamped with its first bar's time.
_BUCKETED = """
SELECT min(ts) AS ts,
       (array_agg(open ORDER BY ts))[1] AS open,
       max(high) AS high,
       min(low) AS low,
       (array_agg(close ORDER BY ts DESC))[1] AS close,
       sum(volume) AS volume,
       max(total) AS total
  FROM (SELECT ts, open, high, low, close, volume,
               count(*) OVER () AS total,
               ((row_number() OVER (ORDER BY ts) - 1) * :buckets) / count(*) OVER () AS bucket
          FROM price_bars
         WHERE symbol = :symbol AND timeframe = :timeframe{bounds}) AS numbered
 GROUP BY bucket
 ORDER BY bucket
"""


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    symbol: str
    timeframe: str
    first_ts: datetime
    last_ts: datetime
    bars: int


@dataclass(frozen=True, slots=True)
class Bucket:
    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def as_decimal(value: Decimal | float | int) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


async def catalogue(session: AsyncSession) -> list[CatalogueEntry]:
    """Every (symbol, timeframe) with bars: first and last bar time and the bar count."""
    rows = (await session.execute(_CATALOGUE)).all()
    return [CatalogueEntry(r.symbol, r.timeframe, r.first_ts, r.last_ts, int(r.bars)) for r in rows]


# the timeframe the worker's database source reads a symbol in (its lowest, by name), and that
# series' first and last bar: two primary-key probes per symbol, as in the catalogue
_SPANS = text(
    "SELECT c.symbol,"
    " (SELECT ts FROM price_bars p WHERE p.symbol = c.symbol AND p.timeframe = c.timeframe"
    "  ORDER BY ts LIMIT 1) AS first_ts,"
    " (SELECT ts FROM price_bars p WHERE p.symbol = c.symbol AND p.timeframe = c.timeframe"
    "  ORDER BY ts DESC LIMIT 1) AS last_ts"
    " FROM (SELECT symbol, min(timeframe) AS timeframe FROM price_blocks GROUP BY symbol) AS c"
)


async def ingested_spans(session: AsyncSession) -> dict[str, DataSpan]:
    """Every symbol with bars in the database and the dates a run reading it there can cover."""
    rows = (await session.execute(_SPANS)).all()
    return {
        r.symbol: DataSpan(r.first_ts, r.last_ts)
        for r in rows
        if r.first_ts is not None and r.last_ts is not None
    }


async def timeframes(session: AsyncSession, symbol: str) -> list[str]:
    """The timeframes `symbol` has bars in."""
    return list((await session.scalars(_TIMEFRAMES.bindparams(symbol=symbol))).all())


async def bucketed(
    session: AsyncSession,
    symbol: str,
    timeframe: str,
    start: datetime | None,
    end: datetime | None,
    buckets: int,
) -> tuple[int, list[Bucket]]:
    """The bars of `symbol` in [start, end] merged into at most `buckets` OHLCV bars, and how
    many bars there were."""
    bounds = ""
    params: dict[str, object] = {"symbol": symbol, "timeframe": timeframe, "buckets": buckets}
    if start is not None:
        bounds += " AND ts >= :start"
        params["start"] = start
    if end is not None:
        bounds += " AND ts <= :end"
        params["end"] = end
    rows = (await session.execute(text(_BUCKETED.format(bounds=bounds)), params)).all()
    total = int(rows[0].total) if rows else 0
    return total, [
        Bucket(
            ts=r.ts,
            open=as_decimal(r.open),
            high=as_decimal(r.high),
            low=as_decimal(r.low),
            close=as_decimal(r.close),
            volume=as_decimal(r.volume),
        )
        for r in rows
    ]


_FRAME_COLUMNS = ("open", "high", "low", "close", "volume")
_FRAME_SELECT = (
    "SELECT ts, open::float8, high::float8, low::float8, close::float8, volume::float8 "
    "FROM price_bars WHERE symbol = $1 AND timeframe = $2"
)


async def bar_frame(
    session: AsyncSession,
    symbol: str,
    timeframe: str,
    start: datetime | None,
    end: datetime | None,
    warmup: int,
) -> pd.DataFrame:
    """Every bar of `symbol` in [start, end] plus up to `warmup` bars before `start`, as the
    backtest read them: a float frame of open, high, low, close, volume by time."""
    args: list[object] = [symbol, timeframe]
    upper = ""
    if end is not None:
        args.append(end)
        upper = f" AND ts <= ${len(args)}"
    if start is None:
        query = f"{_FRAME_SELECT}{upper} ORDER BY ts"
    else:
        args += [start, warmup]
        lower, limit = f"${len(args) - 1}", f"${len(args)}"
        query = (
            f"SELECT * FROM (({_FRAME_SELECT} AND ts < {lower} ORDER BY ts DESC LIMIT {limit})"
            f" UNION ALL ({_FRAME_SELECT} AND ts >= {lower}{upper})) AS bars ORDER BY ts"
        )
    index, values = await copy_rows(session, query, *args, floats=len(_FRAME_COLUMNS))
    return pd.DataFrame(values, index=index, columns=list(_FRAME_COLUMNS))
