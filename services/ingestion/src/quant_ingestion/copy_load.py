"""Bulk loading with binary COPY, idempotent, with price_blocks kept equal to price_bars.

Rows travel as fixed-width binary built by numpy in one pass (quant_db.bar_copy); prices are
float8 end to end (ADR 0012). A symbol whose years hold no stored bars yet is COPYed straight
into price_bars and its year blocks are packed here, in the client. Any other symbol goes
through a staging table and a merge that inserts new bars, updates changed ones (a vendor
correction) and leaves identical ones alone; the server then repacks only the years that
changed. Everything of a batch commits in one transaction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt

from quant_db.bar_copy import (
    BLOCK_SQL,
    PRICE_BAR_COPY_COLUMNS,
    encode_bar_rows,
    encode_blocks,
    encode_price_bar_rows,
    utc_years,
)

_OVERLAPPING = """
SELECT s.k FROM unnest($1::text[], $2::text[], $3::int2[], $4::int2[])
       WITH ORDINALITY AS s(symbol, timeframe, first_year, last_year, k)
 WHERE EXISTS (SELECT 1 FROM price_blocks b
                WHERE b.symbol = s.symbol AND b.timeframe = s.timeframe
                  AND b.year BETWEEN s.first_year AND s.last_year)
"""
_STAGE = (
    "CREATE TEMP TABLE staging_bars (k int4, ts timestamptz, open float8, high float8, low float8, "
    "close float8, volume float8) ON COMMIT DROP"
)
_MERGE = """
WITH merged AS (
  INSERT INTO price_bars AS p (symbol, timeframe, ts, open, high, low, close, volume, source, ingestion_run_id)
  SELECT ($1::text[])[s.k], ($2::text[])[s.k], s.ts, s.open, s.high, s.low, s.close, s.volume, $3, $4
    FROM staging_bars s
  ON CONFLICT (symbol, timeframe, ts) DO UPDATE
     SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
         volume = EXCLUDED.volume, source = EXCLUDED.source, ingestion_run_id = EXCLUDED.ingestion_run_id
   WHERE (p.open, p.high, p.low, p.close, p.volume)
         IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)
  RETURNING p.symbol, p.timeframe, p.ts, (xmax = 0) AS inserted
)
SELECT symbol, timeframe, extract(year FROM ts AT TIME ZONE 'UTC')::int2 AS year,
       count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated
  FROM merged GROUP BY 1, 2, 3
"""
_REPACK = f"""
INSERT INTO price_blocks AS b (symbol, timeframe, year, bars, data)
SELECT t.symbol, t.timeframe, t.year, count(*), {BLOCK_SQL.format(p="p")}
  FROM unnest($1::text[], $2::text[], $3::int2[]) AS t(symbol, timeframe, year)
  JOIN price_bars p ON p.symbol = t.symbol AND p.timeframe = t.timeframe
   AND p.ts >= make_timestamptz(t.year, 1, 1, 0, 0, 0, 'UTC')
   AND p.ts < make_timestamptz(t.year + 1, 1, 1, 0, 0, 0, 'UTC')
 GROUP BY t.symbol, t.timeframe, t.year
ON CONFLICT (symbol, timeframe, year) DO UPDATE SET bars = EXCLUDED.bars, data = EXCLUDED.data
"""


@dataclass(slots=True)
class SymbolBars:
    """One symbol's validated bars as columns: timestamps in microseconds since 1970, float64 OHLCV."""

    symbol: str
    timeframe: str
    ts_us: npt.NDArray[np.int64]
    values: dict[str, npt.NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class LoadCounts:
    received: int
    inserted: int
    updated: int

    @property
    def unchanged(self) -> int:
        return self.received - self.inserted - self.updated


def _in_time_order(bars: SymbolBars) -> SymbolBars:
    """`bars` sorted by time (blocks are packed in time order); validated bars usually are."""
    if bars.ts_us.size < 2 or bool(np.all(np.diff(bars.ts_us) > 0)):
        return bars
    order = np.argsort(bars.ts_us, kind="stable")
    values = {column: array[order] for column, array in bars.values.items()}
    return SymbolBars(bars.symbol, bars.timeframe, bars.ts_us[order], values)


async def _overlapping(connection: asyncpg.Connection[Any], batch: list[SymbolBars]) -> set[int]:
    """Positions in `batch` of the symbols with stored bars in any year their new bars touch."""
    first = [int(utc_years(b.ts_us[:1])[0]) for b in batch]
    last = [int(utc_years(b.ts_us[-1:])[0]) for b in batch]
    rows = await connection.fetch(
        _OVERLAPPING, [b.symbol for b in batch], [b.timeframe for b in batch], first, last
    )
    return {int(r["k"]) - 1 for r in rows}


async def _insert_new(
    connection: asyncpg.Connection[Any], batch: list[SymbolBars], source: str, run_id: int
) -> None:
    """COPY bars that overlap nothing stored straight into price_bars, and their blocks."""
    payload = encode_price_bar_rows(
        [(b.symbol, b.timeframe, b.ts_us, b.values) for b in batch], source, run_id
    )
    await connection.copy_to_table(
        "price_bars", source=io.BytesIO(payload), columns=PRICE_BAR_COPY_COLUMNS, format="binary"
    )
    blocks = [
        (block.symbol, block.timeframe, block.year, block.bars, block.data)
        for b in batch
        for block in encode_blocks(b.symbol, b.timeframe, b.ts_us, b.values)
    ]
    await connection.copy_records_to_table(
        "price_blocks", records=blocks, columns=("symbol", "timeframe", "year", "bars", "data")
    )


async def _merge(
    connection: asyncpg.Connection[Any], batch: list[SymbolBars], source: str, run_id: int
) -> dict[str, tuple[int, int]]:
    """Merge bars that may overlap stored ones; repack the years that changed.

    Returns (inserted, updated) per symbol that changed.
    """
    await connection.execute(_STAGE)
    payload = encode_bar_rows([(b.ts_us, b.values) for b in batch])
    await connection.copy_to_table("staging_bars", source=io.BytesIO(payload), format="binary")
    rows = await connection.fetch(
        _MERGE, [b.symbol for b in batch], [b.timeframe for b in batch], source, run_id
    )
    changed: dict[str, tuple[int, int]] = {}
    for r in rows:
        inserted, updated = changed.get(r["symbol"], (0, 0))
        changed[r["symbol"]] = (inserted + int(r["inserted"]), updated + int(r["updated"]))
    if rows:
        await connection.execute(
            _REPACK,
            [r["symbol"] for r in rows],
            [r["timeframe"] for r in rows],
            [r["year"] for r in rows],
        )
    return changed


async def _load(
    connection: asyncpg.Connection[Any],
    batch: list[SymbolBars],
    source: str,
    run_id: int,
    merge_all: bool,
) -> dict[str, tuple[int, int]]:
    async with connection.transaction():
        # a crash may lose this commit but never corrupts: the run is marked completed later by
        # a synchronous commit, which flushes this one's WAL first
        await connection.execute("SET LOCAL synchronous_commit = off")
        old = set(range(len(batch))) if merge_all else await _overlapping(connection, batch)
        new = [b for i, b in enumerate(batch) if i not in old]
        changed: dict[str, tuple[int, int]] = {}
        if new:
            await _insert_new(connection, new, source, run_id)
            changed.update({b.symbol: (int(b.ts_us.size), 0) for b in new})
        if old:
            merged = [b for i, b in enumerate(batch) if i in old]
            changed.update(await _merge(connection, merged, source, run_id))
    return changed


async def load_batch(
    connection: asyncpg.Connection[Any], batch: Sequence[SymbolBars], source: str, run_id: int
) -> dict[str, LoadCounts]:
    """Load a batch of symbols (one symbol once) into price_bars and price_blocks in one transaction."""
    received = {b.symbol: int(b.ts_us.size) for b in batch}
    loaded = [_in_time_order(b) for b in batch if b.ts_us.size]
    changed: dict[str, tuple[int, int]] = {}
    if loaded:
        try:
            changed = await _load(connection, loaded, source, run_id, merge_all=False)
        except asyncpg.UniqueViolationError:
            # another ingestion stored some of these bars after the overlap check: merge instead
            changed = await _load(connection, loaded, source, run_id, merge_all=True)
    return {
        symbol: LoadCounts(count, *changed.get(symbol, (0, 0)))
        for symbol, count in received.items()
    }
