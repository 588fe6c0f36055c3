"""ingest(): validate each symbol's bars, quarantine the bad rows, load the rest, record the run."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import numpy as np
import numpy.typing as npt
import pandas as pd

from quant_db.bar_copy import PRICE_COLUMNS
from quant_db.urls import asyncpg_dsn
from quant_domain import ensure_utc
from quant_ingestion.copy_load import LoadCounts, SymbolBars, load_batch
from quant_ingestion.precision import MAX_DIGITS, too_many_digits
from quant_marketdata import DataSource, RawBars, structural_problems_by_row
from quant_marketdata.raw_bars import TIMESTAMP

BATCH_ROWS = 500_000  # bars per COPY + merge transaction

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class IngestionSummary:
    """What one ingestion did, per symbol and in total (also stored in ingestion_runs)."""

    run_id: int
    source: str
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    per_symbol: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0


def _split(
    raw: RawBars, symbol: str, start: datetime | None, end: datetime | None
) -> tuple[SymbolBars, list[tuple[dict[str, Any], str, datetime | None]]]:
    """Good rows in [start, end] as columns, and the quarantined rows with their reason.

    `start` and `end` are UTC already: `ingest` passes them through ensure_utc.
    """
    frame = raw.frame
    found = structural_problems_by_row(frame, symbol, raw.location)
    reasons: dict[int, list[str]] = {}
    for row, problem in found:
        reasons.setdefault(row, []).append(str(problem))
    values = {c: frame[c].to_numpy(dtype=np.float64) for c in PRICE_COLUMNS}
    _add_digit_reasons(raw, symbol, values, reasons)
    stamps = pd.DatetimeIndex(frame[TIMESTAMP])
    keep = np.ones(len(frame), dtype=bool)
    unknown = np.asarray(stamps.isna())
    if start is not None:
        keep &= np.asarray(stamps >= pd.Timestamp(start)) | unknown
    if end is not None:
        keep &= np.asarray(stamps <= pd.Timestamp(end)) | unknown
    bad = np.zeros(len(frame), dtype=bool)
    bad[list(reasons)] = True
    quarantine: list[tuple[dict[str, Any], str, datetime | None]] = []
    for position in np.flatnonzero(bad & keep):
        row = int(position)
        stamp = stamps[row]
        payload: dict[str, Any] = {
            str(k): (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in frame.iloc[row].items()
            if k != TIMESTAMP
        }
        payload["timestamp"] = None if pd.isna(stamp) else stamp.isoformat()
        quarantine.append(
            (
                payload,
                "; ".join(reasons[row]),
                None if pd.isna(stamp) else stamp.to_pydatetime(),
            )
        )
    good = keep & ~bad
    prices = {c: column[good] for c, column in values.items()}
    columns = SymbolBars(symbol, str(raw.timeframe), stamps.as_unit("us").asi8[good], prices)
    return columns, quarantine


def _add_digit_reasons(
    raw: RawBars,
    symbol: str,
    values: dict[str, npt.NDArray[np.float64]],
    reasons: dict[int, list[str]],
) -> None:
    """Refuse prices float8 would not store as quoted: more than 15 significant digits (ADR 0012)."""
    flagged = {c: too_many_digits(v) for c, v in values.items()}
    for position in np.flatnonzero(np.logical_or.reduce(list(flagged.values()))):
        row = int(position)
        listed = ", ".join(
            f"{c} {float(values[c][row])!r}" for c in PRICE_COLUMNS if flagged[c][row]
        )
        reasons.setdefault(row, []).append(
            f"{raw.location(row) or symbol} too_many_digits: {listed} has more than "
            f"{MAX_DIGITS} significant digits, which float8 storage cannot keep exactly "
            "(ADR 0012); round it at the source"
        )


async def _ingest(
    source: DataSource,
    symbols: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    dsn: str,
    progress: Progress | None,
) -> IngestionSummary:
    loop_start = asyncio.get_running_loop().time()
    connection = await asyncpg.connect(dsn)
    try:
        run_id = await connection.fetchval(
            'INSERT INTO ingestion_runs (source, symbols, timeframe, start, "end", status, problems, '
            "bars_received, bars_inserted, bars_unchanged, bars_quarantined) "
            "VALUES ($1, $2, $3, $4, $5, 'running', '{}', 0, 0, 0, 0) RETURNING id",
            source.name,
            list(symbols),
            "native",
            start,
            end,
        )
        summary = IngestionSummary(run_id=int(run_id), source=source.name)
        try:
            batch: list[SymbolBars] = []
            pending: dict[str, list[Any]] = {}
            rows = 0
            for done, symbol in enumerate(symbols, 1):
                good, quarantine = _split(source.raw_bars(symbol), symbol, start, end)
                batch.append(good)
                pending[symbol] = quarantine
                rows += good.ts_us.size
                if rows >= BATCH_ROWS or done == len(symbols):
                    await _flush(connection, batch, pending, source.name, summary)
                    batch, pending, rows = [], {}, 0
                if progress is not None:
                    progress(symbol, done, len(symbols))
        except BaseException as exc:
            await connection.execute(
                "UPDATE ingestion_runs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1",
                summary.run_id,
                f"{type(exc).__name__}: {exc}",
            )
            raise
        summary.seconds = asyncio.get_running_loop().time() - loop_start
        await connection.execute(
            "UPDATE ingestion_runs SET status = 'completed', finished_at = now(), timeframe = $2, "
            "bars_received = $3, bars_inserted = $4, bars_unchanged = $5, bars_quarantined = $6, "
            "problems = $7 WHERE id = $1",
            summary.run_id,
            "native",
            summary.received,
            summary.inserted + summary.updated,
            summary.unchanged,
            summary.quarantined,
            json.dumps(summary.problems),
        )
        return summary
    finally:
        await connection.close()


async def _flush(
    connection: asyncpg.Connection[Any],
    batch: list[SymbolBars],
    pending: dict[str, list[Any]],
    source: str,
    summary: IngestionSummary,
) -> None:
    counts = await load_batch(connection, batch, source, summary.run_id)
    for symbol, quarantine in pending.items():
        if quarantine:
            await connection.copy_records_to_table(
                "quarantined_bars",
                records=[
                    (summary.run_id, symbol, ts, json.dumps(p), reason)
                    for p, reason, ts in quarantine
                ],
                columns=("ingestion_run_id", "symbol", "ts", "raw", "reason"),
            )
        _count(summary, symbol, counts[symbol], quarantine)


def _count(
    summary: IngestionSummary, symbol: str, counts: LoadCounts, quarantine: list[Any]
) -> None:
    summary.received += counts.received + len(quarantine)
    summary.inserted += counts.inserted
    summary.updated += counts.updated
    summary.unchanged += counts.unchanged
    summary.quarantined += len(quarantine)
    summary.per_symbol[symbol] = {
        "received": counts.received + len(quarantine),
        "inserted": counts.inserted,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "quarantined": len(quarantine),
    }
    if quarantine:
        summary.problems[symbol] = [reason for _, reason, _ in quarantine[:50]]


def ingest(
    source: DataSource,
    symbols: Sequence[str] | None,
    url: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> IngestionSummary:
    """Load `symbols` (default: all the source has) from `source` into the database at `url`.

    Raises:
        ValueError: `start` or `end` has no timezone (checked before anything is written).
    """
    lower = None if start is None else ensure_utc(start)
    upper = None if end is None else ensure_utc(end)
    chosen = list(symbols) if symbols else source.symbols()
    return asyncio.run(_ingest(source, chosen, lower, upper, asyncpg_dsn(url), progress))
